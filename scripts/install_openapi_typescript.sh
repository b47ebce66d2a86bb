#!/usr/bin/env bash
# Install openapi-typescript into .tools/ for tests/openapi/test_typescript.py and frontends generating
# their types (docs/openapi.md); typescript and the Appwrite Web SDK type-check the README's frontend
# example against them. Called by scripts/bootstrap.sh; safe to run again; without npm it says so and exits 0.
WANTED="${BIGTECH_OPENAPI_TYPESCRIPT_VERSION:-7}"
exec "$(dirname "${BASH_SOURCE[0]}")/npm_tool.sh" openapi-typescript "$WANTED" "the TypeScript types test" \
    openapi-typescript "openapi-typescript@$WANTED" "typescript@5" "appwrite@28"
