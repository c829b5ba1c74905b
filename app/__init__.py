"""ChargeCars V2 back office: the service layer (no GraphQL in here)."""
