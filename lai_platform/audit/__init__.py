"""The audit log: every organizer action, who did it, when, the values before and after.

An event is added in the same transaction as the change it records, so a change cannot land
without its event. The table is append-only (the database refuses UPDATE and DELETE).
"""

from lai_platform.audit.log import changes, events_of, record

__all__ = ["changes", "events_of", "record"]
