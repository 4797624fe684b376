"""Organizer pages: challenges (being built)."""
