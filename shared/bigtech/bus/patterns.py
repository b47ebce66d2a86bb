"""AMQP topic-pattern matching, so direct mode routes exactly like the `bigtech.events` topic exchange.

`*` matches exactly one dot-separated word, `#` zero or more words.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"^[A-Za-z0-9_-]+$")


def validate_pattern(pattern: str) -> str:
    """Reject patterns RabbitMQ would accept but that can never match our dotted event types."""
    if not pattern:
        raise ValueError("empty topic pattern")
    for word in pattern.split("."):
        if word not in ("*", "#") and not _WORD.match(word):
            raise ValueError(f"invalid topic pattern {pattern!r}")
    return pattern


@lru_cache(maxsize=1024)
def topic_matches(pattern: str, routing_key: str) -> bool:
    return _match(tuple(pattern.split(".")), tuple(routing_key.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        # `#` eats zero words, or one word and stays in place.
        return _match(rest, words) or (bool(words) and _match(pattern, words[1:]))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


def any_matches(patterns: tuple[str, ...] | list[str], routing_key: str) -> bool:
    return any(topic_matches(p, routing_key) for p in patterns)
