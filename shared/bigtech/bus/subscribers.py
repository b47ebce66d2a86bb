"""A subscriber: a name (queue / dedupe consumer id), its topic patterns, and how to hand it one event."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .envelope import EventEnvelope
from .patterns import any_matches, validate_pattern

# Returns None/True when applied, False when the subscriber reports a duplicate; raises on failure.
Deliver = Callable[[EventEnvelope], bool | None]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class Subscriber:
    name: str
    patterns: tuple[str, ...]
    deliver: Deliver = field(compare=False, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"invalid subscriber name {self.name!r}")
        patterns = (self.patterns,) if isinstance(self.patterns, str) else tuple(self.patterns)
        if not patterns:
            raise ValueError(f"subscriber {self.name!r} has no event patterns")
        object.__setattr__(self, "patterns", tuple(validate_pattern(p) for p in patterns))

    def matches(self, event_type: str) -> bool:
        return any_matches(self.patterns, event_type)
