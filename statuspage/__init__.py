"""statuspage: an uptime monitor and public status page built around Track's SLA."""

__version__ = "0.1.0"
