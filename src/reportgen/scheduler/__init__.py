"""The scheduler process: one leader per deployment turns due schedules into runs."""
