"""Visitors' e-mail subscriptions, maintenance notices and calendars (issue 16)."""
