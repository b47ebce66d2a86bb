"""The vendoring build: every function in appwrite.json imports on its own, with its own bigtech.

Each built function is imported in a fresh, isolated interpreter (``python -I -P``) whose path is
only the built folder (or, like the Open Runtimes server, the folder's parent with the folder named
``function``) plus site-packages, so a missing file or a leak from ``shared/`` fails here and not
after a deploy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import build_functions
import pytest
from build_functions import BuildError, build, merge_requirements

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = json.loads((REPO_ROOT / "appwrite.json").read_text())
FUNCTIONS = [entry for entry in PROJECT["functions"]]

PROBE = textwrap.dedent(
    """
    import importlib, json, sys
    sys.path.insert(0, sys.argv[1])
    module = importlib.import_module(sys.argv[2])
    import bigtech
    print(json.dumps({
        "main_callable": callable(getattr(module, "main", None)),
        "bigtech_file": bigtech.__file__,
        "shared_on_path": any(p.rstrip("/").endswith("/shared") for p in sys.path),
    }))
    """
)


def run_isolated(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-I", "-P", "-B", "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "functions"
    build(out, log=lambda line: None)
    return out


def module_of(entrypoint: str) -> str:
    return entrypoint.removesuffix(".py").strip("/").replace("/", ".")


@pytest.mark.parametrize("entry", FUNCTIONS, ids=[entry["$id"] for entry in FUNCTIONS])
def test_built_function_imports_with_its_own_bigtech(built, entry, tmp_path):
    folder = built / entry["$id"]
    result = run_isolated(PROBE, str(folder), module_of(entry["entrypoint"]), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["main_callable"]
    assert Path(probe["bigtech_file"]).resolve().is_relative_to(folder.resolve())
    assert not probe["shared_on_path"]


@pytest.mark.parametrize("entry", FUNCTIONS, ids=[entry["$id"] for entry in FUNCTIONS])
def test_built_function_imports_the_way_open_runtimes_does(built, entry, tmp_path):
    """The runtime imports ``function.src.main`` from the folder's parent: the build's root
    ``__init__.py`` must make the vendored bigtech importable from there."""
    server_src = tmp_path / "server-src"
    server_src.mkdir()
    (server_src / "function").symlink_to(built / entry["$id"], target_is_directory=True)
    result = run_isolated(PROBE, str(server_src), "function." + module_of(entry["entrypoint"]), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["main_callable"]
    assert Path(probe["bigtech_file"]).resolve().is_relative_to((built / entry["$id"]).resolve())


def test_built_health_answers(built, tmp_path):
    code = textwrap.dedent(
        """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        from src.main import main

        class Req:
            method, path, query_string, headers, body_binary = "GET", "/", "", {}, b""

        class Res:
            def json(self, obj, statusCode=200, headers=None):
                return {"body": json.dumps(obj), "statusCode": statusCode}

        class Ctx:
            req, res = Req(), Res()
            def log(self, *a): pass
            def error(self, *a): print(*a, file=sys.stderr)

        print(json.dumps(main(Ctx())))
        """
    )
    result = run_isolated(code, str(built / "health"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["statusCode"] == 200
    assert json.loads(output["body"])["status"] == "ok"


def test_built_folder_contents(built):
    health = built / "health"
    assert (health / "src" / "main.py").is_file()
    assert (health / "bigtech" / "__init__.py").is_file()
    assert not list(health.rglob("__pycache__"))
    requirements = (health / "requirements.txt").read_text()
    assert "appwrite>=27" in requirements and "pydantic" in requirements
    manifest = json.loads((built / "appwrite.json").read_text())
    assert [f["path"] for f in manifest["functions"]] == [f["$id"] for f in FUNCTIONS]
    # the deploy file names no server and no database: the CLI would prefer them over `appwrite client`,
    # and `push tables` would delete every database the file does not list (issue 10, items 1 and 4)
    assert not {"endpoint", "projectId", "tablesDB", "tables"} & set(manifest)


def test_only_builds_one_and_rejects_unknown_ids(tmp_path):
    built = build(tmp_path, only=["health"], log=lambda line: None)
    assert built == [tmp_path / "health"]
    with pytest.raises(BuildError, match="Unknown"):
        build(tmp_path, only=["nope"], log=lambda line: None)


def test_ignore_patterns_are_respected(tmp_path):
    repo = tmp_path / "repo"
    (repo / "functions" / "demo" / "src").mkdir(parents=True)
    (repo / "functions" / "demo" / "tests").mkdir()
    (repo / "functions" / "demo" / "src" / "main.py").write_text("def main(context):\n    return None\n")
    (repo / "functions" / "demo" / "src" / "notes.md").write_text("x")
    (repo / "functions" / "demo" / "tests" / "test_x.py").write_text("")
    (repo / "functions" / "demo" / "requirements.txt").write_text("pydantic==2.9.0\nrequests\n")
    (repo / "shared").symlink_to(REPO_ROOT / "shared", target_is_directory=True)
    (repo / "pyproject.toml").write_text((REPO_ROOT / "pyproject.toml").read_text())
    entry = {"$id": "demo", "path": "functions/demo", "entrypoint": "src/main.py", "ignore": ["tests", "*.md"]}
    (repo / "appwrite.json").write_text(json.dumps({"projectId": "p", "functions": [entry]}))
    out = tmp_path / "out"
    build(out, repo_root=repo, log=lambda line: None)
    files = sorted(p.relative_to(out / "demo").as_posix() for p in (out / "demo").rglob("*") if p.is_file())
    assert "src/main.py" in files
    assert not [f for f in files if f.startswith("tests/") or f.endswith(".md")]
    requirements = (out / "demo" / "requirements.txt").read_text().splitlines()
    assert requirements[:2] == ["pydantic==2.9.0", "requests"]
    assert sum(1 for line in requirements if line.startswith("pydantic")) == 1


def test_refuses_to_build_over_sources(tmp_path):
    with pytest.raises(BuildError, match="Refusing"):
        build(REPO_ROOT / "functions", only=["health"], log=lambda line: None)
    assert (REPO_ROOT / "functions" / "health" / "src" / "main.py").is_file()


def test_merge_requirements_dedupes_by_normalised_name():
    merged = merge_requirements(["Python_Dotenv==1.0.1", "# comment", ""], ["python-dotenv>=1", "pika>=1.3"])
    assert merged == ["Python_Dotenv==1.0.1", "# bigtech's runtime dependencies (pyproject.toml)", "pika>=1.3"]


def test_cli_entry_point(tmp_path, capsys):
    assert build_functions.main(["--only", "health", "--out", str(tmp_path)]) == 0
    assert "built health" in capsys.readouterr().out
    assert build_functions.main(["--only", "ghost", "--out", str(tmp_path)]) == 1
