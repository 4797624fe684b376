"""Organizer pages: phases (being built)."""
