#!/usr/bin/env bash
# Install npm packages into .tools/ — never globally — once per wanted version: a stamp file
# (.tools/.<name>-<version>) says which version is there, so a second run is a no-op. Without npm, or
# offline, it says what will not work and exits 0: only that feature needs the tool.
#   npm_tool.sh NAME VERSION NEEDED_FOR BIN PACKAGE...
# NAME and VERSION name the stamp, BIN is the executable expected in .tools/node_modules/.bin/.
set -uo pipefail

NAME="$1" WANTED="$2" NEEDED_FOR="$3" BIN_NAME="$4"
shift 4
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO_ROOT/.tools"
STAMP="$TOOLS/.$NAME-$WANTED"

if [ -x "$TOOLS/node_modules/.bin/$BIN_NAME" ] && [ -f "$STAMP" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "==> npm not found: skipping $NAME (needed only for $NEEDED_FOR)" >&2
    exit 0
fi
echo "==> installing $NAME@$WANTED into .tools/"
mkdir -p "$TOOLS"
[ -f "$TOOLS/package.json" ] || echo '{"name": "bigtech-tools", "private": true}' > "$TOOLS/package.json"
if timeout 300 npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "$@" >&2; then
    rm -f "$TOOLS/.$NAME-"*
    touch "$STAMP"
else
    echo "==> could not install $NAME@$WANTED (offline?): $NEEDED_FOR will not work until it is" >&2
fi
exit 0
