"""A walk through every implemented route, so the contract test covers routes no other test hit."""

from __future__ import annotations

from local_appwrite import LocalAppwrite
from tests.conftest import make_client


def exercise_every_route(stack: LocalAppwrite) -> None:
    client = make_client(stack)
    client.call("get", "/health")
    client.call("get", "/health/version")  # console routes the Appwrite CLI calls (not in the server spec)
    client.call("get", "/proxy/rules")
