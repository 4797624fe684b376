"""Organizer pages: leaderboards (being built)."""
