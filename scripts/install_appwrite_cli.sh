#!/usr/bin/env bash
# Install the Appwrite CLI (appwrite-cli 12, from the npm registry) into .tools/ — never globally —
# for `invoke deploy` and tests/deploy. Called by scripts/bootstrap.sh; safe to run again (a no-op
# when the wanted version is there). Without npm, or offline, it says so and exits 0: everything
# but deploying works without the CLI.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO_ROOT/.tools"
WANTED="${BIGTECH_APPWRITE_CLI_VERSION:-12}"
STAMP="$TOOLS/.appwrite-cli-$WANTED"
BIN="$TOOLS/node_modules/.bin/appwrite"

if [ -x "$BIN" ] && [ -f "$STAMP" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "==> npm not found: skipping the Appwrite CLI (needed only by invoke deploy)" >&2
    exit 0
fi
echo "==> installing appwrite-cli@$WANTED into .tools/"
mkdir -p "$TOOLS"
[ -f "$TOOLS/package.json" ] || echo '{"name": "bigtech-tools", "private": true}' > "$TOOLS/package.json"
if timeout 300 npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "appwrite-cli@$WANTED" >&2; then
    rm -f "$TOOLS"/.appwrite-cli-*
    touch "$STAMP"
else
    echo "==> could not install appwrite-cli@$WANTED (offline?): invoke deploy will not work until it is" >&2
fi
exit 0
