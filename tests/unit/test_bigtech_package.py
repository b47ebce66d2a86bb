"""The library's version is the project's version (health reports it to tell deployments apart)."""

import tomllib
from pathlib import Path

import bigtech


def test_version_matches_pyproject():
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert bigtech.__version__ == pyproject["project"]["version"]
