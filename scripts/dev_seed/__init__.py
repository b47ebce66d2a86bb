"""Development seed: the data ``scripts/dev`` puts into a fresh local platform, through the SDK.

Everything goes over HTTP with the SDK (as a real operator would against a real Appwrite), and
every step is idempotent so ``scripts/dev`` can seed on each start. To add a step (the demo tenant,
sandbox plugins…), write a module with ``def seed(client, settings) -> list[str]`` returning the
lines to print, and append it to ``STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable

from appwrite.client import Client

from . import admin, core_database, purchase_demo
from .settings import SeedSettings

Step = Callable[[Client, SeedSettings], list[str]]

STEPS: list[Step] = [core_database.seed, admin.seed, purchase_demo.seed]


def client_for(settings: SeedSettings) -> Client:
    return Client().set_endpoint(settings.endpoint).set_project(settings.project_id).set_key(settings.api_key)


def seed(settings: SeedSettings) -> list[str]:
    """Run every step; returns the human-readable lines (demo logins…) to print."""
    client = client_for(settings)
    lines: list[str] = []
    for step in STEPS:
        lines.extend(step(client, settings))
    return lines


__all__ = ["STEPS", "SeedSettings", "seed"]
