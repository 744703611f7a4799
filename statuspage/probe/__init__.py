"""Probing: the checks (http, tcp, push), the scheduler that runs them, and confirmation (pure)."""
