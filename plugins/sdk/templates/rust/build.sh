#!/usr/bin/env bash
# Builds the plugin into dist/plugin.wasm (a WebAssembly component for wasm32-wasip2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2 || { echo "FAILED: rustup target add wasm32-wasip2" >&2; exit 1; }
fi
cargo build --release --target wasm32-wasip2 --locked
mkdir -p dist
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/{{crate}}.wasm" dist/plugin.wasm
echo "built dist/plugin.wasm"
