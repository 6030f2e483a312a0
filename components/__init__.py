"""Shared pieces of the Streamlit UI; pages import from here and call services only.

- `session`: the process's `services()`, `current_principal()`, `require_role()` (the role gate,
  which audits refusals) and `error_boundary()` (a UserError shows its sentence, anything else an
  incident id while the log keeps the traceback).
- `sign_in`: streamlit-authenticator wiring, `authenticate()` and the sidebar `account_panel()`.
- `badges`, `tables`, `text`: Markdown and tables for datasets, readable number formats.
"""
