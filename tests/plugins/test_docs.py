"""Datasette-style meta-tests: the plugin contract and every sandbox magic suffix are documented."""

from pathlib import Path

from bigtech.plugins import Plugin
from bigtech.plugins.fonte import QUERIES

from .conftest import load_plugin_module

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")


def test_every_plugin_hook_is_documented():
    for hook in ("install()", "enable(tenant_id, config)", "disable(tenant_id, config)", "execute(ctx)",
                 "on_event(envelope)"):
        assert hook in DOCS
        assert hasattr(Plugin, hook.split("(")[0])


def test_every_route_is_documented():
    main = load_plugin_module("fonte", "sandbox", "main").main
    for method, path, _ in main.router.actions():
        assert f"`{method} {path}`" in DOCS


def test_every_fonte_query_is_documented():
    for query in QUERIES:
        assert f"| `{query}` |" in DOCS


def test_every_sandbox_magic_suffix_is_documented():
    module = load_plugin_module("fonte", "sandbox", "sandbox")
    for suffix in module.MAGIC:
        assert f"`{suffix}`" in DOCS
