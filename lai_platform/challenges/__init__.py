"""Challenges: bundles, datasets, who takes part, and the lookups web and API share."""
