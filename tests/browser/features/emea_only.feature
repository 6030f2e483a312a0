Feature: ana never sees a number outside EMEA
  ana (author, region EMEA) meets sales data on the catalog's sample, in the builder's pickers
  and preview, in the PDF she downloads and on the Runs page: no Americas or APAC value appears
  in any of them. The PDF and the Runs page are checked where the journeys that make them end
  (build_report.feature: "the PDF names no region but EMEA"; schedule_report.feature: the
  emailed PDF and "the Runs page names no region but EMEA"), so no report is rendered twice.

  Scenario: The catalog's sample of sales holds EMEA rows only
    Given ana is signed in
    When ana opens the "Catalog" page
    And ana opens the sample rows of "sales"
    Then every sample row is of region EMEA and an EMEA country

  Scenario: The builder's pickers and preview hold EMEA only
    Given ana is signed in
    When ana opens the "Report builder" page
    And ana chooses to filter by "Region" and "Country"
    Then the "Region" picker offers only "EMEA"
    And the "Country" picker offers only EMEA countries
    And the preview's table lists region EMEA only
