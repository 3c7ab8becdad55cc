#!/usr/bin/env bash
# Builds the plugin into dist/plugin.wasm with the pinned componentize-py (in .venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ ! -x .venv/bin/componentize-py ]; then
    python3 -m venv .venv || { echo "FAILED: python3 -m venv .venv" >&2; exit 1; }
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-build.txt ||
        { echo "FAILED: installing componentize-py from PyPI" >&2; exit 1; }
fi
mkdir -p dist
env -u VIRTUAL_ENV .venv/bin/componentize-py -q -d wit -w ivr \
    componentize -p sdk/python -p src app -o dist/plugin.wasm
echo "built dist/plugin.wasm"
