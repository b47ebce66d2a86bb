"""The CI/CD workflows: valid GitHub workflows (the JSON Schema check-jsonschema ships, vendored in
tests/deploy/schemas/, so no network), CI runs the README's test command with RabbitMQ, and the deploy
job runs exactly the commands docs/deploy.md documents."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SCHEMA = Path(__file__).resolve().parent / "schemas" / "github-workflows.json"


def load(name: str) -> dict:
    return YAML(typ="safe").load((WORKFLOWS / name).read_text(encoding="utf-8"))


def check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA),
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_every_workflow_validates_against_the_github_workflow_schema():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "deploy.yml"}
    done = check(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"  # a job without runs-on and a step that is neither run nor uses
    broken.write_text("on: push\njobs:\n  test:\n    steps:\n      - name: nothing\n")
    done = check(broken)
    assert done.returncode == 1 and "runs-on" in done.stdout + done.stderr


def test_ci_runs_the_readme_test_command_with_rabbitmq_on_every_push():
    ci = load("ci.yml")
    assert "push" in ci["on"]
    job = ci["jobs"]["test"]
    assert [step["run"] for step in job["steps"] if "run" in step] == [".ci/run"]
    assert "5672:5672" in job["services"]["rabbitmq"]["ports"]
    assert "exec bash scripts/test" in (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in (ROOT / "README.md").read_text()


def documented_deploy_steps() -> list[str]:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- deploy-steps -->\n```bash\n(.*?)```", text, re.DOTALL)
    assert block, "docs/deploy.md lost its deploy-steps block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_deploy_job_runs_the_commands_docs_deploy_documents():
    deploy = load("deploy.yml")
    assert deploy["on"]["push"]["tags"] == ["v*"]
    assert deploy["jobs"]["test"]["uses"] == "./.github/workflows/ci.yml" and "workflow_call" in load("ci.yml")["on"]
    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "test"
    runs = [step["run"].strip() for step in job["steps"] if "run" in step]
    assert runs == documented_deploy_steps()
    assert runs[1:] == [".venv/bin/invoke bootstrap", ".venv/bin/invoke deploy", ".venv/bin/invoke migrate",
                        ".venv/bin/invoke smoke"]


@pytest.mark.parametrize("name", ["APPWRITE_ENDPOINT", "APPWRITE_PROJECT_ID", "APPWRITE_API_KEY"])
def test_the_deploy_target_comes_from_repository_secrets(name):
    assert load("deploy.yml")["jobs"]["deploy"]["env"][name] == "${{ secrets." + name + " }}"
