"""Organizer pages: task (being built)."""
