"""Helpers for plugin tests: import a plugin's ``src`` modules the way the runtime does.

Appwrite imports ``src/main.py`` as a module of a package bound to the function folder (so relative
imports work); ``load_plugin_module`` does the same with a package per plugin, ``_plugin_<tipo>_<nome>``.
"""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGINS_DIR = REPO / "plugins"
FIXTURES = REPO / "tests" / "fixtures"


def plugin_folders() -> list[Path]:
    return sorted(p.parent for p in PLUGINS_DIR.glob("*/*/plugin.json"))


def load_plugin_module(tipo: str, nome: str, module: str = "main") -> types.ModuleType:
    package = f"_plugin_{tipo}_{nome}".replace("-", "_")
    if package not in sys.modules:
        pkg = types.ModuleType(package)
        pkg.__path__ = [str(PLUGINS_DIR / tipo / nome)]
        sys.modules[package] = pkg
    return importlib.import_module(f"{package}.src.{module}")


def fixture(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def sandbox():
    return load_plugin_module("fonte", "sandbox", "sandbox").SandboxFonte()
