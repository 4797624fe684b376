"""Organizer pages: datasets (being built)."""
