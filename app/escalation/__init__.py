"""Overdue work escalates: the hourly SLA monitor and hold escalation (docs/notifications.md)."""
