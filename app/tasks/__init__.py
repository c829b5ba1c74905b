"""Internal tasks: work for staff (docs/notifications.md, "Internal tasks")."""
