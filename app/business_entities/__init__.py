"""The five brands ("business entities") the back office runs."""
