"""Accounts: people who log in, and what makes an account valid."""
