"""Viewers: user accounts, their roles, and the API tokens that authenticate them."""
