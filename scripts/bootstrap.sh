# Sourced by scripts/dev and scripts/test: make a fresh checkout runnable with only python3 >= 3.11.
#
# - creates .venv with the first python3.13/3.12/3.11/python3 that is >= 3.11;
# - installs the project's dependencies (pyproject.toml: [project] + the dev extra), but only when
#   pyproject.toml changed since the last install (hash kept in .venv/.bigtech-install-stamp), so
#   repeated runs start in well under a second;
# - creates .env from .env.example when missing.
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
    cp .env.example .env
    echo "==> created .env from .env.example"
fi

# The Appwrite CLI (for invoke deploy) into .tools/, when npm is available; never fatal.
"$REPO_ROOT/scripts/install_appwrite_cli.sh" || true

export PYTHONPATH="$REPO_ROOT/shared:$REPO_ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
