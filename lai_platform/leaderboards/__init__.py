"""Leaderboards: which entries a phase shows, how they rank, how stable the ranks are, and
the pages that show them."""
