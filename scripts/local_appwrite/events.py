"""Appwrite events: the strings a change produces, and who hears them.

Services call :meth:`EventHub.publish` *after* their write committed, with the specific event
strings (``databases.<db>.tables.<table>.rows.<id>.create`` …) and the resource as payload.
Listeners (the function dispatcher) are called off the request thread, so an event never delays
or fails the request that caused it.

Functions subscribe with patterns where ``*`` stands for any one dot-separated segment
(``databases.*.tables.*.rows.*.create``); :func:`subscribed` tells whether a function hears an
event. The functions service registers itself as a listener and runs each subscribed function
once per event (``functions/service.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    names: tuple[str, ...]  # most specific first; all the strings Appwrite would fire for it
    payload: dict
    user_id: str | None = None


Listener = Callable[[Event], None]
Filter = Callable[[Event], bool]


class EventHub:
    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, Filter | None]] = []

    def subscribe(self, listener: Listener, wants: Filter | None = None) -> None:
        """``listener`` hears every event, or only those ``wants`` accepts: ``wants`` runs on the publishing
        thread, so it must be cheap and never fail; it saves a thread for each event nobody listens to (most
        row events: a consulta fires ~30, of which a function hears one or two)."""
        self._listeners.append((listener, wants))

    def publish(self, names: list[str], payload: dict, user_id: str | None = None) -> None:
        event = Event(tuple(names), payload, user_id)
        for listener, wants in self._listeners:
            if wants is None or _wanted(wants, event):
                threading.Thread(target=listener, args=(event,), daemon=True, name="event-dispatch").start()


def _wanted(wants: Filter, event: Event) -> bool:
    try:
        return wants(event)
    except Exception:  # never fail the publishing request: let the listener hear it (and fail on its thread)
        return True


def matches(pattern: str, name: str) -> bool:
    """``databases.*.tables.*.rows.*.create`` matches ``databases.db.tables.t.rows.r1.create``.

    Segment by segment: ``*`` matches any one segment; the counts must be equal. Appwrite does the
    same by expanding every event into all its wildcard forms and looking the pattern up.
    """
    wanted, actual = pattern.split("."), name.split(".")
    return len(wanted) == len(actual) and all(w in ("*", a) for w, a in zip(wanted, actual, strict=True))


def subscribed(patterns: tuple[str, ...] | list[str], names: tuple[str, ...] | list[str]) -> bool:
    return any(matches(pattern, name) for pattern in patterns for name in names)
