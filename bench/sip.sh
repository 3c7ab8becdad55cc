#!/usr/bin/env bash
# SIP load on a release build: forwarded calls per second through the B2BUA, the same steps
# SIPp-to-SIPp without Hotline (the baseline), and digest REGISTERs per second.
#
#   bench/sip.sh [seconds per step, default 15] [call rates, default "100 250 500 750 1000 1500 2000"]
#                [register rates, default "250 500 1000 2000 4000"]
#
# Environment: HOTLINE_BIN (a binary to measure instead of building target/release/hotline), HOLD_MS (how long a call stays up between ACK and BYE, default 1000), REGISTRARS
# (SIPp processes registering at once, each as its own agent, default 10), LOG_LEVEL (the
# server's log filter, default warn), KEEP=1 (keep the logs and print where they are).
#
# It builds the release binary, serves a throw-away SQLite database (a temporary data directory)
# and provisions it over the REST API: a tenant with high limits and a billing contract (every call
# is metered, as in production), a trunk for 127.0.0.1, an agent with a SIP password, a hotline
# forwarding to that agent and its number. A SIPp phone registers
# as the agent and answers every forwarded call at once (180, 200; bench/sip/phone.xml with
# answer.xml). Then, for each rate:
#   hotline:  SIPp caller -> Hotline -> SIPp phone  (INVITE, 200, ACK, HOLD_MS, BYE; caller.xml)
#   direct:   SIPp caller -> SIPp callee (answer.xml), no Hotline: what SIPp alone costs
# each step `rate x seconds` calls; stepping stops after the first step where a call failed or
# the p99 call setup passed 100 ms. Then the REGISTER steps: REGISTRARS SIPp processes, each an
# agent's phone registering over and over (bench/sip/register.xml: REGISTER -> 401 -> REGISTER
# with the MD5 digest -> 200; each registration a new Call-ID), same stop rule.
#
# Per step: offered rate; calls made and failed; achieved rate (successful setups per second
# between the first and the last 200 at the caller); retransmissions sent by the caller and by
# the far end; setup time p50/p99/max, INVITE sent -> 200 received at the caller (REGISTER ->
# final 200 for registrations), from SIPp's short-message trace (-trace_shortmsg, microsecond
# timestamps; SIPp's own -trace_rtt ticks in 4 ms steps on this kernel); Hotline's CPU (utime +
# stime from /proc/<pid>/stat over the step / wall time, % of one core: 200 % is the whole
# machine), its CPU per call, VmRSS and VmHWM; the SIPp processes' CPU (they run on the same two
# cores). After each Hotline step it waits until the call records are stored and says how long
# that took. Everything stays on 127.0.0.1 and every process it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-15}
call_rates=${2:-"100 250 500 750 1000 1500 2000"}
register_rates=${3:-"250 500 1000 2000 4000"}
hold_ms=${HOLD_MS:-1000}
registrars=${REGISTRARS:-10}
max_p99_ms=100

http_port=18081
sip_port=15060
caller_port=15070
phone_port=15080
callee_port=15090
register_port=15100 # and the next REGISTRARS - 1
suffix=sip.bench.local
domain=bench.$suffix
number=+421255550100

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
need() { # command, Debian package
  command -v "$1" >/dev/null || {
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
  }
}
need sipp sip-tester
need jq jq
need sqlite3 sqlite3
need bc bc
need curl curl

if [ -n "${HOTLINE_BIN:-}" ]; then
  bin=$HOTLINE_BIN # a binary built earlier (to compare builds on the same machine state)
else
  cargo build --release --quiet
  bin=$PWD/target/release/hotline
fi
scenarios=$PWD/bench/sip
tick=$(getconf CLK_TCK)

work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
# CPU ticks (user + system) a process has used so far.
cpu_ticks() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  # shellcheck disable=SC2086 # the fields are split on purpose
  set -- $stat
  echo $((${12} + ${13}))
}
mem_mib() { awk -v key="$2:" '$1 == key { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
percent() { echo "$1" | bc -l | xargs printf '%.0f %%'; }
# A column of the last line of a SIPp statistics file (-trace_stat), by name; summed over files.
stat_field() {
  local name=$1 file total=0
  shift
  for file in "$@"; do
    total=$((total + $(awk -F';' -v name="$name" '
      NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) col = i }
      { last = $0 } END { split(last, f, ";"); print (col ? f[col] + 0 : 0) }' "$file")))
  done
  echo "$total"
}
# Setup times from SIPp short-message traces: METHOD sent (first time, CSeq 1) to the first 200
# received for the same Call-ID. Prints "p50 p99 max achieved-per-second" (ms, 2 decimals).
setup_summary() {
  local method=$1
  shift
  awk -F'\t' -v method="$method" '
    $4 == "S" && $6 == "CSeq:1 " method && !($5 in start) { start[$5] = $3 }
    $4 == "R" && index($7, "SIP/2.0 200") == 1 && $6 ~ (" " method "$") && ($5 in start) && !($5 in done) {
      done[$5] = 1; printf "%.3f %.6f\n", ($3 - start[$5]) * 1000, $3 }' "$@" |
    sort -n |
    awk '{ d[NR] = $1; t = $2 + 0; if (NR == 1 || t < first) first = t; if (t > last) last = t }
      END {
        if (NR == 0) { print "- - - 0"; exit }
        i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
        printf "%.2f %.2f %.2f %.0f\n", d[i50], d[i99], d[NR], (last > first) ? (NR - 1) / (last - first) : NR }'
}
records() { sqlite3 "$data_dir/hotline.db" 'SELECT count(*) FROM call_records' 2>/dev/null || echo 0; }
# Whether a step passed: calls made, calls failed, p99 (ms or -).
passed() { [ "$2" -eq 0 ] && [ "$1" -gt 0 ] && [ "$3" != - ] && [ "$(echo "$3 <= $max_p99_ms" | bc)" = 1 ]; }

# ---- the server -----------------------------------------------------------------------------
data_dir="$work/data"
mkdir -p "$data_dir"
cat >"$work/hotline.toml" <<TOML
[sip]
domain_suffix = "$suffix"
# SIPp 3.6 answers the first challenge and knows only MD5.
digest_algorithms = ["MD5", "SHA-256"]
TOML
export HOTLINE_CONFIG=$work/hotline.toml HOTLINE_DATA_DIR=$data_dir HOTLINE_LOG_LEVEL=${LOG_LEVEL:-warn}
export HOTLINE_HTTP_LISTEN=127.0.0.1:$http_port HOTLINE_SIP_LISTEN=127.0.0.1:$sip_port
unset DATABASE_URL RUST_LOG
"$bin" migrate >/dev/null
HOTLINE_BOOTSTRAP_PASSWORD=bench-password-123 "$bin" admin bootstrap --email bench@example.com >/dev/null
"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done

api="http://127.0.0.1:$http_port/api/v1"
token=$(curl -sf "$api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-123"}' | jq -r .access_token)
send() { # method, path, JSON body -> the answer (a failure prints it and stops the script)
  curl -sS --fail-with-body -X "$1" "$api$2" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d "$3"
}
post() { send POST "$1" "$2" | jq -r .id; } # -> the new resource's id
tenant=$(post /tenants '{"slug":"bench","name":"Bench","time_zone":"Europe/Bratislava",
  "limits":{"max_concurrent_calls":100000,"max_calls_per_second":10000}}')
post /trunks '{"name":"loopback carrier","inbound":{"sources":["127.0.0.1/32"]},"max_concurrent_calls":100000}' >/dev/null
agent=$(post "/tenants/$tenant/agents" '{"name":"Bench agent","sip_username":"agent","sip_password":"agent-sip-secret"}')
hotline=$(post "/tenants/$tenant/hotlines" "{\"name\":\"Bench line\",\"always_open\":true,
  \"open_action\":{\"action\":\"forward-agent\",\"agent_id\":\"$agent\",\"ring_timeout_s\":30}}")
post "/tenants/$tenant/numbers" "{\"e164\":\"$number\",\"hotline_id\":\"$hotline\"}" >/dev/null
# Every call is metered as in production: the tenant has a billing account and a contract.
tariff=$(post /tariffs '{"name":"Bench tariff","currency":"EUR"}')
send POST "/tariffs/$tariff/versions" '{"version":1,"effective_from":"2025-01-01","metrics":[{"metric":
  "inbound_minutes","rate_per_minute":"0.04","increments":{"first_seconds":60,"next_seconds":60}}]}' >/dev/null
send PUT "/tenants/$tenant/billing/account" '{"name":"Bench s.r.o.","currency":"EUR","tax_rate":"0.20",
  "time_zone":"Europe/Bratislava"}' >/dev/null
send PUT "/tenants/$tenant/billing/contract" "{\"tariff_id\":\"$tariff\",\"starts_on\":\"2025-01-01\"}" >/dev/null
for i in $(seq "$registrars"); do
  post "/tenants/$tenant/agents" "{\"name\":\"Phone $i\",\"sip_username\":\"phone$i\",\"sip_password\":\"phone$i-secret\"}" >/dev/null
done

# ---- the far ends -----------------------------------------------------------------------------
# SIPp's default socket buffers (64 KiB) overflow in the bursts its 10 ms scheduler makes.
sipp_common=(-i 127.0.0.1 -nostdin -buff_size 1048576)
ready=$work/phone.registered
mkdir -p "$work/phone" "$work/callee"
(cd "$work/phone" && exec sipp "127.0.0.1:$sip_port" -sf "$scenarios/phone.xml" -oocsf "$scenarios/answer.xml" \
  "${sipp_common[@]}" -p "$phone_port" -s agent -au agent -ap agent-sip-secret -auth_uri "$domain" \
  -key tenant_domain "$domain" -set ready_file "$ready" -m 1 -trace_stat -stf stat.csv -fd 1 \
  -trace_err -error_file errors.log >stdout.log 2>&1) &
phone=$!
pids+=("$phone")
(cd "$work/callee" && exec sipp -sf "$scenarios/answer.xml" "${sipp_common[@]}" -p "$callee_port" \
  -trace_stat -stf stat.csv -fd 1 -trace_err -error_file errors.log >stdout.log 2>&1) &
callee=$!
pids+=("$callee")
for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.1; done
[ -e "$ready" ] || { echo "the phone did not register; logs in $work" >&2; KEEP=1; exit 1; }

# One SIPp caller run: label, target, rate, calls. Leaves its files in $work/<label>.
call_run() {
  local dir="$work/$1"
  mkdir -p "$dir"
  (cd "$dir" && TIMEFORMAT='%U %S' && { time sipp "$2" -sf "$scenarios/caller.xml" "${sipp_common[@]}" \
    -p "$caller_port" -s "$number" -d "$hold_ms" -r "$3" -m "$4" \
    -timeout "$((seconds + 120))s" -timeout_error -trace_shortmsg -trace_stat -stf stat.csv -fd 1 \
    -trace_err -error_file errors.log -trace_screen -screen_file screen.log \
    >stdout.log 2>stderr.log; } 2>time.txt) || true
}

# The trunk table reloads within 500 ms of a change: until then calls are "not a trunk".
for _ in $(seq 20); do
  call_run warmup "127.0.0.1:$sip_port" 10 10
  [ "$(stat_field 'SuccessfulCall(C)' "$work/warmup/stat.csv")" = 10 ] && break
  rm -rf "$work/warmup"
  sleep 0.5
done
[ -e "$work/warmup/stat.csv" ] || { echo "no call went through; logs in $work" >&2; KEEP=1; exit 1; }
stored_so_far=$(stat_field 'SuccessfulCall(C)' "$work/warmup/stat.csv")

# Retransmissions a far end has sent so far (its statistics are written every second).
far_retrans() { sleep 1.2; stat_field 'Retransmissions(C)' "$1/stat.csv"; }

call_rows=()
register_rows=()
call_header='| path | offered/s | calls | failed | achieved/s | retrans caller / far end | setup p50 / p99 / max ms | Hotline CPU | Hotline CPU per call | RSS / peak MiB | SIPp CPU caller / far end | records stored |'
call_rule='|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'

# One step: path (hotline|direct), rate. Sets step_ok.
call_step() {
  local path=$1 rate=$2 calls=$(($2 * seconds)) target far far_pid
  if [ "$path" = hotline ]; then
    target=127.0.0.1:$sip_port far=$work/phone far_pid=$phone
  else
    target=127.0.0.1:$callee_port far=$work/callee far_pid=$callee
  fi
  local dir=$work/$path-$rate h0 f0 r0 t0 t1 h1 f1 r1
  r0=$(far_retrans "$far")
  h0=$(cpu_ticks "$server") f0=$(cpu_ticks "$far_pid") t0=$(now)
  call_run "$path-$rate" "$target" "$rate" "$calls"
  t1=$(now) h1=$(cpu_ticks "$server") f1=$(cpu_ticks "$far_pid")
  r1=$(far_retrans "$far")
  local ok failed retrans p50 p99 max achieved wall
  ok=$(stat_field 'SuccessfulCall(C)' "$dir/stat.csv")
  failed=$(stat_field 'FailedCall(C)' "$dir/stat.csv")
  retrans=$(stat_field 'Retransmissions(C)' "$dir/stat.csv")
  read -r p50 p99 max achieved < <(setup_summary INVITE "$dir"/*_shortmessages.log)
  wall=$(echo "$t1 - $t0" | bc -l)
  local caller_cpu far_cpu cpu="-" per_call="-" mem="-" stored="-"
  caller_cpu=$(awk -v w="$wall" '{ printf "%.0f %%", ($1 + $2) / w * 100 }' "$dir/time.txt")
  far_cpu=$(percent "($f1 - $f0) / $tick / $wall * 100")
  if [ "$path" = hotline ]; then
    cpu=$(percent "($h1 - $h0) / $tick / $wall * 100")
    per_call=$(echo "($h1 - $h0) / $tick * 1000000 / ($ok + $failed + 1)" | bc -l | xargs printf '%.0f µs')
    mem="$(mem_mib "$server" VmRSS) / $(mem_mib "$server" VmHWM)"
    # Every call the engine saw leaves a record; the successful ones at least.
    stored_so_far=$((stored_so_far + ok))
    local waited=0 count
    while count=$(records) && [ "$count" -lt "$stored_so_far" ] && [ "$waited" -lt 600 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    stored=$(printf '%s of %s, %.1f s after the last call' "$count" "$stored_so_far" "$(echo "$waited / 10" | bc -l)")
  fi
  call_rows+=("| $path | $rate | $((ok + failed)) | $failed | $achieved | $retrans / $((r1 - r0)) | $p50 / $p99 / $max | $cpu | $per_call | $mem | $caller_cpu / $far_cpu | $stored |")
  echo "${call_rows[-1]}"
  if passed "$((ok + failed))" "$failed" "$p99" && [ "$ok" -eq "$calls" ]; then step_ok=yes; else step_ok=no; fi
}

register_header='| offered/s | registrations | failed | achieved/s | retrans | p50 / p99 / max ms | Hotline CPU | Hotline CPU per registration | RSS / peak MiB | SIPp CPU |'
register_rule='|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'

# One REGISTER step: REGISTRARS SIPp processes at rate / REGISTRARS each. Sets step_ok.
register_step() {
  local rate=$1 count=$(($1 * seconds)) dir=$work/register-$1
  local each=$((count / registrars)) each_rate
  each_rate=$(echo "$rate / $registrars" | bc -l)
  mkdir -p "$dir"
  local h0 h1 t0 t1
  h0=$(cpu_ticks "$server") t0=$(now)
  (cd "$dir" && TIMEFORMAT='%U %S' && { time (
    for i in $(seq "$registrars"); do
      mkdir -p "$i"
      (cd "$i" && exec sipp "127.0.0.1:$sip_port" -sf "$scenarios/register.xml" "${sipp_common[@]}" \
        -p "$((register_port + i - 1))" -s "phone$i" -au "phone$i" -ap "phone$i-secret" -auth_uri "$domain" \
        -key tenant_domain "$domain" -r "$each_rate" -m "$each" -timeout "$((seconds + 120))s" \
        -timeout_error -trace_shortmsg -trace_stat -stf stat.csv -fd 1 -trace_err -error_file errors.log \
        >stdout.log 2>stderr.log) &
    done
    wait
  ); } 2>time.txt) || true
  t1=$(now) h1=$(cpu_ticks "$server")
  local ok failed retrans p50 p99 max achieved wall
  ok=$(stat_field 'SuccessfulCall(C)' "$dir"/*/stat.csv)
  failed=$(stat_field 'FailedCall(C)' "$dir"/*/stat.csv)
  retrans=$(stat_field 'Retransmissions(C)' "$dir"/*/stat.csv)
  read -r p50 p99 max achieved < <(setup_summary REGISTER "$dir"/*/*_shortmessages.log)
  wall=$(echo "$t1 - $t0" | bc -l)
  register_rows+=("| $rate | $((ok + failed)) | $failed | $achieved | $retrans | $p50 / $p99 / $max | $(percent "($h1 - $h0) / $tick / $wall * 100") | $(echo "($h1 - $h0) / $tick * 1000000 / ($ok + $failed + 1)" | bc -l | xargs printf '%.0f µs') | $(mem_mib "$server" VmRSS) / $(mem_mib "$server" VmHWM) | $(awk -v w="$wall" '{ printf "%.0f %%", ($1 + $2) / w * 100 }' "$dir/time.txt") |")
  echo "${register_rows[-1]}"
  if passed "$((ok + failed))" "$failed" "$p99" && [ "$ok" -eq "$((each * registrars))" ]; then step_ok=yes; else step_ok=no; fi
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
echo "== build: release, commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- platform src tenants || echo ' + local changes'), $(sipp -v 2>/dev/null | grep -m1 -o 'SIPp v[^ ]*' || true)"
echo "== forwarded calls: ${seconds}s per step, calls held ${hold_ms} ms, stop after the first failure or p99 setup > ${max_p99_ms} ms"
echo "$call_header"
echo "$call_rule"
for rate in $call_rates; do
  call_step hotline "$rate"
  hotline_ok=$step_ok
  call_step direct "$rate"
  [ "$hotline_ok" = yes ] || break
done

echo "== REGISTER with MD5 digest: $registrars SIPp processes, each one agent's phone, ${seconds}s per step"
echo "$register_header"
echo "$register_rule"
for rate in $register_rates; do
  register_step "$rate"
  [ "$step_ok" = yes ] || break
done

echo
echo "==== results: bench/sip.sh $seconds \"$call_rates\" \"$register_rates\" (HOLD_MS=$hold_ms REGISTRARS=$registrars)"
echo "$call_header"
echo "$call_rule"
printf '%s\n' "${call_rows[@]}"
echo
echo "$register_header"
echo "$register_rule"
printf '%s\n' "${register_rows[@]}"
if grep -qE ' (ERROR|WARN) ' "$work/serve.log"; then
  echo
  echo "== the server's warnings and errors (count, target):"
  grep -oE ' (ERROR|WARN) [a-z_:]+' "$work/serve.log" | sort | uniq -c | sort -rn | head -20
fi
