"""Request bodies of the endpoint routes (pydantic at the edge: unknown fields are refused)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .filters import MAX_FILTERS, filter_problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_events(value: list[str] | None) -> list[str] | None:
    if value is None:
        return value
    for item in value:
        problem = filter_problem(item)
        if problem:
            raise ValueError(f"{item!r}: {problem}")
    return sorted(set(value))


class EndpointCreate(_Strict):
    url: str = Field(min_length=1, max_length=2048)
    description: str = Field(default="", max_length=512)
    events: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=MAX_FILTERS)
    enabled: bool = True

    _events = field_validator("events")(_check_events)


class EndpointPatch(_Strict):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    description: str | None = Field(default=None, max_length=512)
    events: list[str] | None = Field(default=None, min_length=1, max_length=MAX_FILTERS)
    enabled: bool | None = None

    _events = field_validator("events")(_check_events)


class EndpointReplay(_Strict):
    since: datetime
    only_failed: bool = True


class MessageReplay(_Strict):
    endpoint_id: str | None = Field(default=None, min_length=1, max_length=36)
