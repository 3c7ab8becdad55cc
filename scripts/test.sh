#!/usr/bin/env bash
# The test command: formatting, lints and every test, on SQLite and on PostgreSQL.
#
# Run it from anywhere as `scripts/test.sh`; CI runs exactly this (.ci/run). On a fresh Debian
# machine, as root, it installs and starts what it needs: PostgreSQL on 127.0.0.1:5432 (the
# store and end-to-end tests create and drop their own `hotline_test_*` databases on it), SIPp
# (Debian's sip-tester), which plays carriers and phones in tests/sipp.rs, tests/media.rs and
# tests/ivr.rs, and a real softphone (pjsua2 from PyPI, in target/softphone-venv) for
# tests/media.rs.
# Point HOTLINE_TEST_POSTGRES_URL at another server to use that one instead; PostgreSQL is then
# neither installed nor started. Stops at the first failing step.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A CI run builds everything once from nothing: incremental caches would only take disk (several
# GiB for the workspace) and time there. A developer's run keeps them.
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL=0
fi

banner() {
    printf '\n==== %s ====\n' "$*"
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "need root to run: $*" >&2
        return 1
    fi
}

DEFAULT_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
if [ -n "${HOTLINE_TEST_POSTGRES_URL:-}" ]; then
    MANAGE_LOCAL_POSTGRES=no
else
    MANAGE_LOCAL_POSTGRES=yes
    export HOTLINE_TEST_POSTGRES_URL="$DEFAULT_POSTGRES_URL"
fi

# The newest PostgreSQL version with a cluster configured on this machine, if any.
# shellcheck disable=SC2012 # version folders are plain numbers
cluster_version() {
    ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1
}

wait_for_postgres() {
    for _ in $(seq 1 60); do
        if pg_isready -q -h 127.0.0.1 -p 5432; then
            return 0
        fi
        sleep 0.5
    done
    echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
    return 1
}

ensure_local_postgres() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "PostgreSQL is not installed; installing it from Debian's packages"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
    fi
    if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
        echo "PostgreSQL is running on 127.0.0.1:5432"
    else
        local version
        version="$(cluster_version)"
        if [ -z "$version" ]; then
            # shellcheck disable=SC2012
            version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
            echo "creating PostgreSQL $version cluster 'main'"
            as_root pg_createcluster "$version" main
        fi
        echo "starting PostgreSQL $version cluster 'main'"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        wait_for_postgres
    fi
    # A stock Debian cluster wants a password on TCP; the tests connect as postgres without one.
    # Trust loopback connections on this test machine, once, and say so.
    if ! psql "$HOTLINE_TEST_POSTGRES_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
        local version hba
        version="$(cluster_version)"
        hba="/etc/postgresql/$version/main/pg_hba.conf"
        echo "allowing passwordless loopback connections in $hba (test machine set-up)"
        as_root sed -i '1i host all all 127.0.0.1/32 trust # added by hotline scripts/test.sh\nhost all all ::1/128 trust # added by hotline scripts/test.sh' "$hba"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
        sleep 1
    fi
}

# Drop databases that earlier runs left behind (a test that panics cannot drop its own). Their
# names end in a UUIDv7 whose first 48 bits are the creation time in milliseconds; those younger
# than an hour may belong to a test run going on right now on the same server, and are kept.
drop_leftover_databases() {
    local now_ms cutoff name hex created dropped=0
    now_ms=$(($(date +%s) * 1000))
    cutoff=$((now_ms - 3600 * 1000))
    while IFS= read -r name; do
        [ -n "$name" ] || continue
        hex="${name#hotline_test_}"
        hex="${hex:0:12}"
        if [[ "$hex" =~ ^[0-9a-f]{12}$ ]]; then
            created=$((16#$hex))
            if [ "$created" -gt "$cutoff" ]; then
                continue
            fi
        fi
        psql "$HOTLINE_TEST_POSTGRES_URL" -Atqc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
        dropped=$((dropped + 1))
    done < <(psql "$HOTLINE_TEST_POSTGRES_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'hotline\_test\_%'")
    echo "dropped $dropped leftover test database(s)"
}

# The SIP end-to-end tests skip (saying so) without sipp; here it is installed so they run.
ensure_sipp() {
    if ! command -v sipp >/dev/null 2>&1; then
        echo "sipp is not installed; installing Debian's sip-tester"
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends sip-tester
    fi
    # `sipp -v` exits 99 after printing its version.
    sipp -v 2>/dev/null | grep -m 1 SIPp || true
}

# The media end-to-end tests (tests/media.rs) drive a real softphone: PJSIP's pjsua2 from PyPI,
# in a virtualenv under target/ (built once, reused while the wheel's version stays the same).
SOFTPHONE_VENV=target/softphone-venv
PJSUA2_WHEEL="pjsua2-python==2.15.1.post1"
ensure_softphone() {
    if "$SOFTPHONE_VENV/bin/python" -c 'import pjsua2' 2>/dev/null \
        && [ "$(cat "$SOFTPHONE_VENV/.wheel" 2>/dev/null)" = "$PJSUA2_WHEEL" ]; then
        echo "softphone ready ($PJSUA2_WHEEL)"
        return
    fi
    if ! python3 -m venv --help >/dev/null 2>&1; then
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv
    fi
    rm -rf "$SOFTPHONE_VENV"
    python3 -m venv "$SOFTPHONE_VENV"
    if ! "$SOFTPHONE_VENV/bin/pip" install --quiet "$PJSUA2_WHEEL"; then
        echo "FAILED to install $PJSUA2_WHEEL from PyPI: the media tests need it" >&2
        return 1
    fi
    "$SOFTPHONE_VENV/bin/python" -c 'import pjsua2'
    echo "$PJSUA2_WHEEL" >"$SOFTPHONE_VENV/.wheel"
    echo "softphone installed ($PJSUA2_WHEEL)"
}

banner "SIPp"
ensure_sipp

banner "Softphone (pjsua2)"
ensure_softphone

banner "PostgreSQL"
if [ "$MANAGE_LOCAL_POSTGRES" = yes ]; then
    ensure_local_postgres
else
    echo "using HOTLINE_TEST_POSTGRES_URL from the environment"
fi
if ! psql "$HOTLINE_TEST_POSTGRES_URL" -Atqc 'SELECT version()'; then
    echo "cannot connect to PostgreSQL at HOTLINE_TEST_POSTGRES_URL" >&2
    exit 1
fi
drop_leftover_databases

# The plugin sandbox tests run purpose-built WebAssembly guests; building them needs the
# wasm32-wasip2 target, which the script installs and fails loudly without (never a skip).
banner "plugin test guests (wasm32-wasip2)"
plugins/tests/guests/build.sh

# The example plugins in Rust, Python and JavaScript (plugins/examples), which the example tests
# upload and run against their scenarios; the script installs componentize-py and
# componentize-qjs under target/plugins and fails loudly without them (never a skip).
banner "example plugins (Rust, Python, JavaScript)"
plugins/build.sh

# The Rust plugin SDK and the Rust examples are workspaces of their own (WebAssembly guests, not
# server code): the same formatting and lint rules, and the SDK's own unit tests.
banner "plugin SDK and examples: fmt, clippy, SDK tests"
cargo fmt --manifest-path plugins/sdk/rust/Cargo.toml --all -- --check
cargo fmt --manifest-path plugins/examples/Cargo.toml --all -- --check
CARGO_TARGET_DIR=target/plugins/cargo cargo clippy --manifest-path plugins/sdk/rust/Cargo.toml \
    --target wasm32-wasip2 --all-targets --all-features --locked -- -D warnings
CARGO_TARGET_DIR=target/plugins/cargo cargo clippy --manifest-path plugins/examples/Cargo.toml \
    --target wasm32-wasip2 --release --workspace --locked -- -D warnings
CARGO_TARGET_DIR=target/plugins/cargo cargo test --manifest-path plugins/sdk/rust/Cargo.toml \
    --all-features --locked

banner "cargo fmt --check"
cargo fmt --all -- --check

banner "cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

banner "cargo test (SQLite and PostgreSQL)"
cargo test --workspace --locked

banner "all checks passed"
