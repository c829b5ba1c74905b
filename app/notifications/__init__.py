"""Notifications: templates, channels, the communication log (docs/notifications.md)."""
