"""Contacts: people and organisations in one table, with the recursive channel hierarchy."""
