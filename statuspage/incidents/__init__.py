"""Incidents: the automatic T1 policy and engineers' lifecycle (service.py), and notifications (notify.py)."""
