#!/usr/bin/env bash
# Builds every example plugin (plugins/examples/<name>/{rust,python,js}) into
#     target/plugins/<name>-<lang>.wasm
# where the example tests (which upload each through the registry) and the benchmarks load
# them, and a Python probe that tries to open sockets (target/plugins/probe-python-sockets.wasm)
# for the sandbox test.
#
# It installs the toolchains it needs and FAILS LOUDLY when one cannot be had; it never skips:
#   rust    the wasm32-wasip2 target (rustup target add), crates from plugins/examples/Cargo.lock
#   python  componentize-py, pinned in plugins/sdk/python/requirements-build.txt, into the venv
#           target/plugins/venv (made again only when the pin changes)
#   js      componentize-qjs (QuickJS), pinned in plugins/sdk/js/toolchain/package-lock.json,
#           installed with `npm ci` into target/plugins/node (again only when the lock changes)
# A Python or JavaScript component is rebuilt only when its inputs changed (its sources, its
# SDK, the WIT, the toolchain's pin): a stamp beside each output holds the inputs' digest.
#
# Usage: plugins/build.sh [rust|python|js ...]   (default: all three)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLUGINS="$ROOT/plugins"
WIT="$PLUGINS/wit"
OUT="$ROOT/target/plugins"
EXAMPLES=(language-menu business-hours crm-lookup satisfaction-survey retail-agent-script sdk-tour)
mkdir -p "$OUT"

fail() {
    echo "FAILED: $*" >&2
    exit 1
}

# The world an example targets, from its Rust source (all three implementations agree; the
# example tests check each component's world).
world_of() {
    if grep -q '#\[hotline::agent_script\]' "$PLUGINS/examples/$1/rust/src/lib.rs"; then
        echo agent-script
    else
        echo ivr
    fi
}

# A digest of files and directories (contents and names), to tell whether an output is stale.
digest() {
    find "$@" -type f -not -path '*/__pycache__/*' -not -path '*/node_modules/*' -print0 |
        sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

fresh() { # output stamp-digest
    [ -f "$1" ] && [ -f "$1.inputs" ] && [ "$(cat "$1.inputs")" = "$2" ]
}

build_rust() {
    echo "== rust (wasm32-wasip2)"
    command -v cargo >/dev/null || fail "cargo is not installed; the Rust examples need it"
    if ! rustup target list --installed | grep -qx wasm32-wasip2; then
        echo "installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)"
        rustup target add wasm32-wasip2 ||
            fail "could not install the wasm32-wasip2 Rust target; the Rust examples need it"
    fi
    # One cargo invocation per example: features are unified within an invocation, and the
    # agent script's `agent-script` feature must not reach the IVR examples' components.
    for example in "${EXAMPLES[@]}"; do
        (
            cd "$PLUGINS/examples"
            CARGO_TARGET_DIR="$OUT/cargo" cargo build --release --target wasm32-wasip2 --locked \
                --quiet -p "example-$example"
        ) || fail "building $example in Rust (plugins/examples/$example/rust)"
        cp "$OUT/cargo/wasm32-wasip2/release/example_${example//-/_}.wasm" "$OUT/$example-rust.wasm"
    done
}

python_toolchain() {
    local venv="$OUT/venv" pin
    pin="$(sha256sum "$PLUGINS/sdk/python/requirements-build.txt" | cut -d' ' -f1)"
    if [ ! -x "$venv/bin/componentize-py" ] || [ "$(cat "$venv/.pin" 2>/dev/null)" != "$pin" ]; then
        command -v python3 >/dev/null || fail "python3 is not installed; the Python examples need it"
        echo "installing componentize-py into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv" || fail "could not create the venv $venv (python3 -m venv)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            -r "$PLUGINS/sdk/python/requirements-build.txt" ||
            fail "could not install componentize-py from PyPI; the Python examples need it"
        echo "$pin" >"$venv/.pin"
    fi
    COMPONENTIZE_PY="$venv/bin/componentize-py"
}

build_python() {
    echo "== python (componentize-py)"
    python_toolchain
    local example src out inputs
    for example in "${EXAMPLES[@]}"; do
        src="$PLUGINS/examples/$example/python"
        out="$OUT/$example-python.wasm"
        inputs="$(digest "$src" "$PLUGINS/sdk/python/hotline" "$WIT")"
        if fresh "$out" "$inputs"; then
            continue
        fi
        echo "building $example (python)"
        # No VIRTUAL_ENV: the component gets the SDK and the example, not the venv's packages.
        env -u VIRTUAL_ENV "$COMPONENTIZE_PY" -q -d "$WIT" -w "$(world_of "$example")" \
            componentize -p "$PLUGINS/sdk/python" -p "$src" app -o "$out.tmp" ||
            fail "building $example in Python ($src)"
        mv "$out.tmp" "$out"
        echo "$inputs" >"$out.inputs"
    done
    # The sandbox check behind the registry's wasi:sockets allowance: a Python guest that tries
    # to open sockets (plugins/tests/examples.rs expects every attempt refused).
    src="$PLUGINS/sdk/python/tests/sockets"
    out="$OUT/probe-python-sockets.wasm"
    inputs="$(digest "$src" "$PLUGINS/sdk/python/hotline" "$WIT")"
    if ! fresh "$out" "$inputs"; then
        echo "building the socket probe (python)"
        env -u VIRTUAL_ENV "$COMPONENTIZE_PY" -q -d "$WIT" -w ivr \
            componentize -p "$PLUGINS/sdk/python" -p "$src" app -o "$out.tmp" ||
            fail "building the Python socket probe ($src)"
        mv "$out.tmp" "$out"
        echo "$inputs" >"$out.inputs"
    fi
}

js_toolchain() {
    local node="$OUT/node" lock
    command -v npm >/dev/null || fail "npm is not installed; the JavaScript examples need it"
    lock="$(sha256sum "$PLUGINS/sdk/js/toolchain/package-lock.json" | cut -d' ' -f1)"
    if [ ! -x "$node/node_modules/.bin/componentize-qjs" ] || [ "$(cat "$node/.pin" 2>/dev/null)" != "$lock" ]; then
        echo "installing componentize-qjs into $node (npm ci)"
        rm -rf "$node"
        mkdir -p "$node"
        cp "$PLUGINS/sdk/js/toolchain/package.json" "$PLUGINS/sdk/js/toolchain/package-lock.json" "$node/"
        (cd "$node" && npm ci --no-audit --no-fund --loglevel=error) ||
            fail "could not install componentize-qjs from npm; the JavaScript examples need it"
        echo "$lock" >"$node/.pin"
    fi
    # The SDK as the package the examples import ("hotline-plugin-sdk"), copied (not linked)
    # under the module root that componentize-qjs exposes while it snapshots the engine.
    rm -rf "$node/node_modules/hotline-plugin-sdk"
    mkdir -p "$node/node_modules/hotline-plugin-sdk" "$node/stage"
    cp "$PLUGINS/sdk/js/"*.js "$PLUGINS/sdk/js/package.json" "$node/node_modules/hotline-plugin-sdk/"
    COMPONENTIZE_QJS="$node/node_modules/.bin/componentize-qjs"
    NODE_ROOT="$node"
}

build_js() {
    echo "== js (componentize-qjs, QuickJS)"
    js_toolchain
    local example src out inputs
    for example in "${EXAMPLES[@]}"; do
        src="$PLUGINS/examples/$example/js"
        out="$OUT/$example-js.wasm"
        inputs="$(digest "$src" "$PLUGINS/sdk/js" "$WIT")"
        if fresh "$out" "$inputs"; then
            continue
        fi
        echo "building $example (js)"
        cp "$src/plugin.js" "$NODE_ROOT/stage/$example.js"
        # --sync: the host's imports are plain (not component-model async) functions.
        "$COMPONENTIZE_QJS" --sync --wit "$WIT" --world "$(world_of "$example")" \
            --js "$NODE_ROOT/stage/$example.js" --module-root "$NODE_ROOT" -o "$out.tmp" >/dev/null ||
            fail "building $example in JavaScript ($src)"
        mv "$out.tmp" "$out"
        echo "$inputs" >"$out.inputs"
    done
}

langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(rust python js)
for lang in "${langs[@]}"; do
    case "$lang" in
    rust) build_rust ;;
    python) build_python ;;
    js) build_js ;;
    *) fail "unknown language $lang (rust, python or js)" ;;
    esac
done
ls -l "$OUT"/*.wasm
