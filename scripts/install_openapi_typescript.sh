#!/usr/bin/env bash
# Install openapi-typescript (from the npm registry) into .tools/ — never globally — for the test that
# proves the combined OpenAPI document generates TypeScript types (tests/openapi/test_typescript.py)
# and for frontends generating their types (docs/openapi.md); typescript and the Appwrite Web SDK type-check
# the README's frontend example against them. Called by scripts/bootstrap.sh; safe to
# run again (a no-op when the wanted version is there). Without npm, or offline, it says so and exits 0.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO_ROOT/.tools"
WANTED="${BIGTECH_OPENAPI_TYPESCRIPT_VERSION:-7}"
STAMP="$TOOLS/.openapi-typescript-$WANTED"
BIN="$TOOLS/node_modules/.bin/openapi-typescript"

if [ -x "$BIN" ] && [ -f "$STAMP" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "==> npm not found: skipping openapi-typescript (needed only to generate TypeScript types)" >&2
    exit 0
fi
echo "==> installing openapi-typescript@$WANTED into .tools/"
mkdir -p "$TOOLS"
[ -f "$TOOLS/package.json" ] || echo '{"name": "bigtech-tools", "private": true}' > "$TOOLS/package.json"
if timeout 300 npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "openapi-typescript@$WANTED" \
        "typescript@5" "appwrite@28" >&2; then
    rm -f "$TOOLS"/.openapi-typescript-*
    touch "$STAMP"
else
    echo "==> could not install openapi-typescript@$WANTED (offline?): the TypeScript types test will fail" >&2
fi
exit 0
