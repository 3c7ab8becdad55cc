#!/usr/bin/env bash
# Builds the plugin into dist/plugin.wasm with the pinned componentize-qjs (npm ci).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ ! -x node_modules/.bin/componentize-qjs ]; then
    npm ci --no-audit --no-fund --loglevel=error ||
        { echo "FAILED: npm ci (installing componentize-qjs)" >&2; exit 1; }
fi
npm run --silent build
echo "built dist/plugin.wasm"
