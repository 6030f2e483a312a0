"""Turning report data into documents: charts, narrative, HTML, PDF and exports."""
