"""Teams: participants of a challenge who share its phases' quotas and final marks and
appear as one leaderboard row. `entrants` (who an entry belongs to; read by admission and
ranking) and `membership` (create, join, leave). Nothing is imported here, so that ranking
can read `entrants` without loading `membership`, which requests rankings."""
