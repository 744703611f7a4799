"""SLA accounting: time-weighted uptime, error budgets and burn rates, incident compliance, the report."""
