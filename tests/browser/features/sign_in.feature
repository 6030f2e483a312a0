Feature: Signing in
  Every demo user signs in with the password the README gives and lands on a page their roles
  open; the sign-in form is gone once they are in.

  Scenario Outline: A demo user signs in
    Given the app is open in a browser
    When I sign in as "<user>"
    Then the sidebar says I am signed in as "<name>"
    And the sign-in form is gone
    And the navigation offers "<pages>"

    Examples:
      | user   | name          | pages                                                   |
      | admin  | Avery Admin   | Home, Catalog, Report builder, Schedules, Runs, Admin   |
      | ana    | Ana Author    | Home, Catalog, Report builder, Schedules, Runs          |
      | victor | Victor Viewer | Home, Catalog, Runs                                     |

  Scenario: A wrong password is refused without saying which part was wrong
    Given the app is open in a browser
    When I sign in as "ana" with the password "not-her-password"
    Then I see "Wrong username or password"
