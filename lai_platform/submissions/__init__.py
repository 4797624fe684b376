"""Submissions: taking one in (admission and quotas) and who may see what of it."""
