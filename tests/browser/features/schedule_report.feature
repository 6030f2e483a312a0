Feature: Scheduling a report and running it now
  An author saves the report she built, turns it into a weekly schedule that emails her the PDF,
  runs it at once and follows the run to its delivery; the email reaches the mail server.

  Scenario: ana schedules her report weekly, runs it now and receives the email
    Given the scheduler and the test mail server are running
    And ana is signed in
    When ana opens the "Report builder" page
    And ana filters "Channel" to "Online"
    Then the preview shows a chart, a table and a narrative for "Channel in Online"
    When ana saves the report as "EMEA online review"
    And ana clicks "Save as schedule…"
    Then the Schedules form is open on the saved report "EMEA online review"
    When ana names the schedule "EMEA online weekly"
    And ana makes it repeat "On chosen days of the week"
    And ana sends it to herself by email
    And ana creates the schedule
    Then the schedule "EMEA online weekly" is listed, repeating "Every Monday at 08:00"
    When ana clicks "Run now" for "EMEA online weekly"
    And ana opens the "Runs" page
    Then the run of "EMEA online weekly" succeeded
    And its email to "ana@example.com" was delivered
    And the mail server received "EMEA online weekly" for "ana@example.com" with the PDF of the previewed totals
    When ana opens the email's link to the run in a new tab
    Then the new tab shows that run, succeeded, with its email delivered to "ana@example.com"
    And the Runs page names no region but EMEA
