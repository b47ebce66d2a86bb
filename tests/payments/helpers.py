"""Helpers for payment tests: plugin modules imported as the runtime does, fixtures, a recording transport."""

from __future__ import annotations

import importlib
import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def plugin_module(nome: str, module: str) -> types.ModuleType:
    package = f"_plugin_pagamento_{nome}"
    if package not in sys.modules:
        pkg = types.ModuleType(package)
        pkg.__path__ = [str(REPO / "plugins" / "pagamento" / nome)]
        sys.modules[package] = pkg
    return importlib.import_module(f"{package}.src.{module}")


def fixture(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


def fixture_bytes(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / f"{name}.json").read_bytes()


@dataclass
class Recorder:
    """An ``httpx.MockTransport`` answering from a route table and keeping every request."""

    routes: dict[tuple[str, str], Any]
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"errors": [{"code": "not_found", "description": "no route"}]})
        if isinstance(answer, httpx.Response):
            return answer
        if callable(answer):
            return answer(request)
        return httpx.Response(200, json=answer)

    def body(self, index: int) -> Any:
        return json.loads(self.requests[index].content)
