Feature: Pages open only to the roles they are for
  A viewer's navigation lists no author or admin page, and opening one by its address shows
  "not allowed" and leaves a denied event in the audit log. An admin opens every page.

  Scenario: victor's navigation lists no author or admin page
    Given victor is signed in
    Then the navigation lists "Home, Catalog, Runs" and not "Report builder, Schedules, Admin"

  Scenario: victor opens author and admin pages by their addresses
    Given victor is signed in
    When victor goes to "/report-builder" in the app
    Then victor is told "You are not allowed to open the report builder"
    When victor goes to "/report-schedules" in the app
    Then victor is told "You are not allowed to open schedules"
    When victor goes to "/administration" in the app
    Then victor is told "You are not allowed to open the admin page"
    And the audit log holds victor's denied openings of "the report builder, schedules, the admin page"

  # Known bug (see test_page_access.py): a fresh load signs in from the cookie one run late,
  # after Streamlit has already replaced the unknown address with the home page.
  Scenario: victor pastes the admin page's address into a new tab
    Given victor is signed in
    When victor loads "/administration" in a new tab
    Then the page in the new tab says "You are not allowed to open the admin page"

  Scenario: admin opens every page
    Given admin is signed in
    When admin opens the "Catalog" page
    And admin opens the "Report builder" page
    And admin opens the "Schedules" page
    And admin opens the "Runs" page
    And admin opens the "Admin" page
    Then the Admin page shows its "Users, API tokens, Audit log, System health" tabs
