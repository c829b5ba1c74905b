"""Partner integration: per-partner configuration, idempotent order intake, status webhooks."""
