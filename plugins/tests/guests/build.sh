#!/usr/bin/env bash
# Builds the sandbox tests' guests (plugins/tests/guests/*) for wasm32-wasip2 and copies the
# components to plugins/tests/guests/out/, where the tests and benchmarks load them.
# Installs the wasm32-wasip2 target if it is missing and fails loudly if that download fails:
# the sandbox tests must never be skipped for want of a toolchain.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)"
    if ! rustup target add wasm32-wasip2; then
        echo "FAILED: could not install the wasm32-wasip2 Rust target; the plugin sandbox tests need it" >&2
        exit 1
    fi
fi

cargo build --release --target wasm32-wasip2 --locked 2>&1 | grep -v '^\s*Compiling\|^\s*Finished' || true
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo "FAILED: building the plugin test guests" >&2
    exit "$status"
fi
mkdir -p out
for guest in probe script foreign-import wrong-world; do
    src="target/wasm32-wasip2/release/guest_${guest//-/_}.wasm"
    cp "$src" "out/$guest.wasm"
done
ls -l out/*.wasm
