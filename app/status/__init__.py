"""The status engine: one engine for the status of every entity type."""
