"""Organizer pages: participants (being built)."""
