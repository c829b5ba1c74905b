"""Orders: several contacts (account, end customer, an ordered channel chain), holds."""
