"""The report period: ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (both inclusive, UTC days), default this month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bigtech.errors import Unprocessable

MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive
    end: datetime  # exclusive

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def to_json(self) -> dict[str, str]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Unprocessable.field(name, "a date as YYYY-MM-DD") from None


def from_query(query: dict[str, str], today: date | None = None) -> Period:
    today = today or datetime.now(UTC).date()
    first = _day(query["from"], "from") if query.get("from") else today.replace(day=1)
    last = _day(query["to"], "to") if query.get("to") else today
    if last < first:
        raise Unprocessable.field("to", "must not be before from")
    if (last - first).days >= MAX_DAYS:
        raise Unprocessable.field("to", f"a period is at most {MAX_DAYS} days")
    return Period(datetime.combine(first, datetime.min.time(), UTC),
                  datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC))


def month(raw: str) -> Period:
    """``yyyy-mm`` → that calendar month."""
    try:
        year, mon = (int(part) for part in raw.split("-"))
        first = date(year, mon, 1)
    except ValueError:
        raise Unprocessable.field("month", "a month as YYYY-MM") from None
    following = date(year + (mon == 12), mon % 12 + 1, 1)
    return Period(datetime.combine(first, datetime.min.time(), UTC),
                  datetime.combine(following, datetime.min.time(), UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
