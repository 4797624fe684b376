"""Organizer pages: submissions (being built)."""
