#!/usr/bin/env bash
# Configuration API throughput and latency at concurrency 32, on SQLite and on PostgreSQL.
#
#   bench/config-api.sh [sqlite|postgres|both] [seconds per run, default 20]
#
# Builds the release binary, starts `hotline serve` on a throw-away database (a temporary data
# directory for SQLite, a fresh `hotline_bench_*` database for PostgreSQL), bootstraps an admin,
# creates a tenant with a hotline, then runs wrk (installed with apt-get when missing):
#   read:  GET  /api/v1/tenants/{t}/hotlines/{id}     (auth, scope, RBAC, one SELECT)
#   write: POST /api/v1/tenants/{t}/prompts            (auth, scope, RBAC, validation, INSERT + audit
#                                                        entry in one transaction; unique names)
# and prints requests/s with p50/p99 latency. Only loopback is used; every run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

backends=${1:-both}
seconds=${2:-20}
connections=32
threads=2
port=18080

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
cargo build --release --quiet
bin=target/release/hotline

lua_dir=$(mktemp -d)
cat >"$lua_dir/write.lua" <<'LUA'
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
request = function()
  counter = counter + 1
  local body = string.format('{"name":"prompt-%d-%d-%d","language":"en","description":"benchmark"}', tid, counter, math.random(1e9))
  return wrk.format("POST", nil, nil, body)
end
LUA

run_backend() {
  local backend=$1 data_dir url="" pg_db=""
  data_dir=$(mktemp -d)
  if [ "$backend" = postgres ]; then
    pg_db="hotline_bench_$$"
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/$pg_db"
  fi
  export HOTLINE_DATA_DIR=$data_dir HOTLINE_HTTP_LISTEN=127.0.0.1:$port HOTLINE_LOG_LEVEL=warn
  if [ -n "$url" ]; then export DATABASE_URL=$url; else unset DATABASE_URL; fi

  $bin migrate >/dev/null
  HOTLINE_BOOTSTRAP_PASSWORD=bench-password-123 $bin admin bootstrap --email bench@example.com >/dev/null
  $bin serve >"$data_dir/serve.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

  local api="http://127.0.0.1:$port/api/v1" token tenant hotline
  token=$(curl -sf "$api/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password-123"}' | jq -r .access_token)
  tenant=$(curl -sf "$api/tenants" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"slug":"bench","name":"Bench","time_zone":"Europe/Bratislava"}' | jq -r .id)
  hotline=$(curl -sf "$api/tenants/$tenant/hotlines" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"name":"Bench line","always_open":true}' | jq -r .id)

  echo "== $backend: read  GET hotline, c=$connections, ${seconds}s"
  wrk -t$threads -c$connections -d"${seconds}s" --latency -H "authorization: Bearer $token" \
    "$api/tenants/$tenant/hotlines/$hotline" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors'
  echo "== $backend: write POST prompt, c=$connections, ${seconds}s"
  wrk -t$threads -c$connections -d"${seconds}s" --latency -s "$lua_dir/write.lua" \
    -H "authorization: Bearer $token" -H 'content-type: application/json' \
    "$api/tenants/$tenant/prompts" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors'
  local created
  created=$(curl -sf "$api/tenants/$tenant/audit?limit=1" -H "authorization: Bearer $token" | jq -r '.items | length')
  echo "   (audit log answering after the run: $created entry shown)"

  kill $pid; wait $pid 2>/dev/null || true
  trap - RETURN
  if [ -n "$pg_db" ]; then psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null; fi
  rm -rf "$data_dir"
}

case $backends in
  sqlite|postgres) run_backend "$backends" ;;
  both) run_backend sqlite; run_backend postgres ;;
  *) echo "usage: $0 [sqlite|postgres|both] [seconds]" >&2; exit 2 ;;
esac
rm -rf "$lua_dir"
