"""Use cases shared by the UI, the API and the scheduler; governance is enforced here."""
