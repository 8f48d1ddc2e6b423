"""Rebuild: empty the read models and replay every topic reporting consumes from offset 0.

How the history is kept: reporting's topics are the system of record for replay. In production they
are created with `retention.ms=-1` (keep forever; not compacted, since every cadre event is needed
for the intervals "as of a date"); the embedded broker keeps them in memory for its lifetime. The
services' outboxes keep the published rows too, so a lost topic can be re-published from them.

In place (`python -m reporting.rebuild`): stop the reporting service first (scale it to 0), run the
command, start the service again; the command truncates the read models and this service's
consumer positions and processed-event ids, replays up to the end offsets it saw at its start, and
prints the figures it replayed. `--database-url` pointing at a fresh (migrated) database builds a
second copy while the service keeps serving from the first; switch over when it has caught up.
"""
