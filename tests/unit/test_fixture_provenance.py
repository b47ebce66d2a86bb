"""Every recorded provider response is sourced: each fixture file is named in the README.md beside it,
which says where the response was published (issue 11: a made-up fixture proves nothing about field
names, codes or events)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROVIDERS = ("asaas", "brasilapi", "infosimples", "pagarme")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_fixture_is_listed_with_its_source(provider):
    folder = FIXTURES / provider
    readme = folder / "README.md"
    assert readme.is_file(), f"{provider}: no README.md saying where the fixtures come from"
    text = readme.read_text(encoding="utf-8")
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "README.md")
    assert files, f"{provider}: no fixtures"
    unlisted = [name for name in files if f"`{name}`" not in text]
    assert not unlisted, f"{provider}: fixtures without a source in README.md: {unlisted}"
