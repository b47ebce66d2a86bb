"""Which backups to keep: 7 daily, 4 weekly, 12 monthly (grandfather-father-son), applied by the schedule.

For each period the newest backup of that period is kept (the last 7 days that have backups, the last 4
ISO weeks, the last 12 months). An incremental backup is only restorable with the backups it builds on
(back to its full backup), so those are kept with it. Everything else is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .backup import parse_backup_time


@dataclass(frozen=True)
class Policy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12


def _newest_per(backups: list[str], period_of: Callable[[str], Any], count: int) -> set[str]:
    chosen: dict[Any, str] = {}  # a date, an ISO (year, week) or a (year, month): comparable
    for backup in backups:  # ascending: later ones overwrite earlier ones in the same period
        chosen[period_of(backup)] = backup
    periods = sorted(chosen)[-count:] if count > 0 else []
    return {chosen[p] for p in periods}


def to_keep(backups: Iterable[str], policy: Policy = Policy()) -> set[str]:
    ordered = sorted(backups)
    if not ordered:
        return set()
    keep = {ordered[-1]}  # always the latest
    keep |= _newest_per(ordered, lambda b: parse_backup_time(b).date(), policy.daily)
    keep |= _newest_per(ordered, lambda b: parse_backup_time(b).isocalendar()[:2], policy.weekly)
    keep |= _newest_per(ordered, lambda b: (parse_backup_time(b).year, parse_backup_time(b).month), policy.monthly)
    for index, backup in enumerate(ordered):  # the chain each kept incremental needs
        if backup in keep and backup.endswith("-incr"):
            back = index - 1
            while back >= 0:
                keep.add(ordered[back])
                if ordered[back].endswith("-full"):
                    break
                back -= 1
    return keep


def to_delete(backups: Iterable[str], policy: Policy = Policy()) -> list[str]:
    ordered = sorted(backups)
    keep = to_keep(ordered, policy)
    return [backup for backup in ordered if backup not in keep]
