"""Unique ids on hot paths (correlation ids, audit entries) without a system call each.

A random prefix per process (drawn again in a forked child) and a counter: 32 hex digits, as uuid4().hex.
Not uuid4 per id: its getrandom call gives up the GIL, and a request then waits to take it back from the
database driver's threads.
"""

import itertools
import os


class _Ids:
    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.restart)


def new_id() -> str:
    """32 hex digits, unique in this process and, by its random prefix, across processes."""
    return _ids.next()
