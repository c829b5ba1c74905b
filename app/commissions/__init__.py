"""Partner commissions: the cascade over an order's channel chain and its payout statuses."""
