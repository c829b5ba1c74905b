"""Partner integration in the API: configurations, intake, webhook deliveries, references."""
