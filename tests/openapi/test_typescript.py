"""openapi-typescript (npm) turns the combined document into TypeScript types without errors, and the
frontend examples (docs/examples/frontend.ts and the README's, with the Appwrite Web SDK) type-check against them.

Skipped only when npm is absent (CI has it); the tools live in .tools/ (scripts/install_openapi_typescript.sh).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / ".tools"
BIN = TOOLS / "node_modules" / ".bin"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed (CI has it)")]


@pytest.fixture(scope="module")
def tools() -> Path:
    subprocess.run([str(REPO_ROOT / "scripts" / "install_openapi_typescript.sh")], check=True, timeout=400)
    for name in ("openapi-typescript", "tsc"):
        assert (BIN / name).exists(), f"{name} not installed in .tools/ (offline?)"
    return BIN


def test_types_generate_and_the_frontend_example_type_checks(tools, tmp_path):
    generated = subprocess.run(
        [str(tools / "openapi-typescript"), str(REPO_ROOT / "docs" / "openapi" / "bigtech.json"),
         "-o", str(tmp_path / "bigtech.ts"), "--default-non-nullable", "false"],
        capture_output=True, text=True, timeout=120)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "export interface paths" in (tmp_path / "bigtech.ts").read_text()
    shutil.copy(REPO_ROOT / "docs" / "examples" / "frontend.ts", tmp_path / "frontend.ts")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("## Calling Bigtech from a frontend", 1)[1]
    (tmp_path / "readme.ts").write_text(re.search(r"```ts\n(.*?)```", readme, re.DOTALL).group(1))
    (tmp_path / "node_modules").symlink_to(TOOLS / "node_modules")
    checked = subprocess.run(
        [str(tools / "tsc"), "--noEmit", "--strict", "--target", "es2022", "--module", "es2022",
         "--moduleResolution", "bundler", "--lib", "es2022,dom", "--skipLibCheck",
         str(tmp_path / "frontend.ts"), str(tmp_path / "readme.ts"), str(tmp_path / "bigtech.ts")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
