# Sourced by scripts/dev and scripts/test: make a fresh checkout runnable with only python3 >= 3.11.
#
# - creates .venv with the first python3.13/3.12/3.11/python3 that is >= 3.11;
# - installs the project's dependencies (pyproject.toml: [project] + the dev extra), but only when
#   pyproject.toml changed since the last install (hash kept in .venv/.bigtech-install-stamp), so
#   repeated runs start in well under a second;
# - creates .env from .env.example when missing, and fills every secret key that is missing or empty
#   in it (BIGTECH_SECRETS_KEY, BIGTECH_AUDIT_SIGNING_KEY, BIGTECH_DATA_KEY) with fresh random bytes.
# The repo is not installed as a package: pytest's pythonpath and PYTHONPATH=shared:scripts put
# shared/ (bigtech) and scripts/ (local_appwrite, build_functions) on the path.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

VENV="$REPO_ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.bigtech-install-stamp"

find_python() {
    local candidate
    for candidate in "${BIGTECH_PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -x "$PY" ]; then
    if ! base_python="$(find_python)"; then
        echo "error: Python >= 3.11 is required (set BIGTECH_PYTHON to its path)." >&2
        exit 1
    fi
    echo "==> creating .venv with $base_python"
    "$base_python" -m venv "$VENV"
fi

wanted_stamp="$("$PY" - <<'PYEOF'
import hashlib, sys
with open("pyproject.toml", "rb") as handle:
    print(hashlib.sha256(handle.read()).hexdigest(), sys.version.split()[0])
PYEOF
)"

if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$wanted_stamp" ]; then
    echo "==> installing dependencies from pyproject.toml"
    # [project].dependencies + [project.optional-dependencies].dev, read with tomllib: the same set
    # `pip install -e '.[dev]'` would install, without building the (non-packaged) project.
    "$PY" - <<'PYEOF' > "$VENV/.bigtech-requirements.txt"
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for requirement in project.get("dependencies", []) + project.get("optional-dependencies", {}).get("dev", []):
    print(requirement)
PYEOF
    "$PY" -m pip install --disable-pip-version-check -q -r "$VENV/.bigtech-requirements.txt"
    echo "$wanted_stamp" > "$STAMP"
fi

if [ ! -f .env ] && [ -f .env.example ]; then
    (umask 077 && cp .env.example .env)
    echo "==> created .env from .env.example"
fi

# Secret keys are never committed: give every one that is missing or empty in .env fresh random bytes
# (a key already set is kept, since data sealed or signed with it must stay readable).
if [ -f .env ]; then
    PYTHONPATH="$REPO_ROOT/scripts" "$PY" - <<'PYEOF'
import hashlib
import re
from pathlib import Path

from local_appwrite.stack_settings import SECRET_VARIABLES, fresh_secrets

# SHA-256 of the BIGTECH_SECRETS_KEY .env.example used to carry: public, so it protects nothing.
FORMERLY_COMMITTED_SHA256 = "08ac166e6afb578011a96a13d3300803c25d55eb1e802913434450d44a87f8c3"
path = Path(".env")
text = path.read_text(encoding="utf-8")
fresh = fresh_secrets()
filled = []
for name in SECRET_VARIABLES:
    line = re.compile(rf"^{name}=[ \t]*(?:''|\"\")?[ \t]*$", re.MULTILINE)
    if line.search(text):
        text = line.sub(f"{name}={fresh[name]}", text, count=1)
        filled.append(name)
    elif not re.search(rf"^{name}=", text, re.MULTILINE):
        text = text.rstrip("\n") + f"\n{name}={fresh[name]}\n"
        filled.append(name)
if filled:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    print(f"==> .env: generated fresh {', '.join(filled)}")
current = re.search(r"^BIGTECH_SECRETS_KEY=(\S*)\s*$", text, re.MULTILINE)
if current and hashlib.sha256(current.group(1).encode()).hexdigest() == FORMERLY_COMMITTED_SHA256:
    print("warning: .env still has the BIGTECH_SECRETS_KEY that used to be committed (public). Remove that line "
          "and the BIGTECH_DATA_DIR folder to start over with a fresh key.")
PYEOF
fi

# The Appwrite CLI (for invoke deploy) into .tools/, when npm is available; never fatal.
"$REPO_ROOT/scripts/install_appwrite_cli.sh" || true
# openapi-typescript (TypeScript types from docs/openapi/bigtech.json) likewise.
"$REPO_ROOT/scripts/install_openapi_typescript.sh" || true

export PYTHONPATH="$REPO_ROOT/shared:$REPO_ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
