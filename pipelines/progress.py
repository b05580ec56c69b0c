"""Progress of a run, told to whoever is watching it in this process.

The CLI registers a listener (``listening``) and shows a line per finished step and a bar for
the long stance stage. Nothing else listens, so in Dagster's own runs (the UI, the schedule)
every call here does nothing. Steps reach the CLI's listener because the job runs with the
in-process executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

# (event, name, done, total): event is 'step_done' (name = the step) or 'work' (name = what
# is being worked through, done/total in items)
Listener = Callable[[str, str, int | None, int | None], None]

_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def step_done(step: str) -> None:
    for listener in list(_listeners):
        listener("step_done", step, None, None)


def work(name: str, done: int, total: int) -> None:
    for listener in list(_listeners):
        listener("work", name, done, total)
