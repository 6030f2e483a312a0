"""The REST API, served by the scheduler process."""
