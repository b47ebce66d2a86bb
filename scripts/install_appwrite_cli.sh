#!/usr/bin/env bash
# Install the Appwrite CLI (appwrite-cli 12, from the npm registry) into .tools/ for `invoke deploy` and
# tests/deploy. Called by scripts/bootstrap.sh; safe to run again; without npm it says so and exits 0.
WANTED="${BIGTECH_APPWRITE_CLI_VERSION:-12}"
exec "$(dirname "${BASH_SOURCE[0]}")/npm_tool.sh" appwrite-cli "$WANTED" "invoke deploy" appwrite \
    "appwrite-cli@$WANTED"
