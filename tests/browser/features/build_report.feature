Feature: Building a filtered report and exporting its PDF
  An author starts from the Executive summary, narrows it to one sales channel, sees the live
  preview change, checks the Print preview and downloads the PDF: the file holds the very
  numbers the preview showed, for her region only.

  Scenario: ana builds an online-sales report and downloads its PDF
    Given ana is signed in
    When ana opens the "Report builder" page
    And ana starts from "Executive summary"
    And ana notes the preview's totals
    And ana filters "Channel" to "Online"
    Then the preview shows a chart, a table and a narrative for "Channel in Online"
    And the preview's totals changed with the filter
    When ana opens the Print preview
    Then the Print preview shows every page of the PDF
    When ana downloads the PDF with Export PDF
    Then the PDF holds the totals and key figures the preview showed
    And the PDF does not hold the totals of the unfiltered report
    And the PDF names no region but EMEA
