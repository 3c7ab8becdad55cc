#!/usr/bin/env bash
# Concurrent bridged G.711 calls carried by SIPp through `hotline serve` (release build): the
# caller's RTP anchored in Hotline's media engine and bridged to the agent's phone, with and
# without call recording, next to the same calls SIPp-to-SIPp without Hotline (the baseline).
#
#   bench/media-sipp.sh [hold seconds, default 30] [concurrent calls, default "100 250 500 1000 2000"]
#
# Environment: HOTLINE_BIN (a binary to measure instead of building target/release/hotline),
# RATE (calls set up per second while ramping to N, default 200), PATHS (which runs per step and
# in what order, default "direct never always"), MAX_LOSS (% of packets; stepping stops after a
# step above it, default 1), LOG_LEVEL (the server's log filter, default warn), KEEP=1 (keep the
# logs, the database and the recordings, and print where they are).
#
# It serves a throw-away SQLite database (a temporary data directory; the tenants' files, i.e.
# the recordings, in /dev/shm) and provisions it over the REST API as bench/sip.sh does: a tenant
# with high limits and a billing contract (every call metered, as in production), a trunk for
# 127.0.0.1, an agent with a SIP password, two hotlines forwarding to that agent, one with
# "recording_policy": "never" and one with "always", and a number for each. A SIPp phone
# registers as the agent, answers every forwarded call at once (bench/sip/phone.xml with
# answer.xml) and echoes the RTP it gets (-rtp_echo). Then, for each N, the runs of PATHS:
#   direct: SIPp caller -> SIPp callee (answer.xml, -rtp_echo), no Hotline: what SIPp alone costs
#   never:  SIPp caller -> Hotline (media anchored, bridged) -> SIPp phone
#   always: the same through the recorded hotline (a stereo WAV per call)
# Each Hotline run gets a fresh `hotline serve` on the same database (the phone's registration is
# restored from it), warmed with 5 calls, so no run inherits what an earlier one left behind.
# Each run is one SIPp caller (bench/sip/media-caller.xml) making N calls at RATE per second, at
# most N at once, each held HOLD seconds after the ACK and then hung up (BYE). Every call
# streams PCMU (a 1 kHz tone, 160 bytes every 20 ms) from the caller and the far end echoes it, so
# each call carries 50 packets/s each way (Hotline receives 100 a second per call and sends 100).
# SIPp's stream threads wake on the same 20 ms boundaries of the clock, so all calls' packets
# leave in one burst every 20 ms (a harder load than phones spread over the 20 ms).
# The figures are taken over the steady part of the hold: from 2 s after the last call was set
# up (N / RATE after the start) to 1 s before the first call hangs up, so HOLD must exceed
# N / RATE + 6 s. Stepping stops after the first N where a run had a failed call or lost more
# than MAX_LOSS % of its packets (the direct baseline failing stops it too: the machine, not
# Hotline, is then the limit).
#
# Per run:
#   calls ok / failed           SIPp caller's successful and failed calls (of N attempted)
#   up SIPp / legs              calls open at the caller (its 1 s statistics) and Hotline's live
#                               media legs (the hotline_media_legs gauge; 2 per bridged call) at
#                               the end of the window: N and 2 N when every call is up
#   Hotline CPU                 utime + stime of the server (/proc/<pid>/stat) over the window,
#                               % of one core (200 % is a 2-core machine); on direct rows, in
#                               brackets, what the idle server used meanwhile
#   per call                    that / N: the share of a core one call takes
#   µs/packet                   the window's CPU / (N x 100 packets/s received x window)
#   RSS/call: growth / slope    VmRSS at the end of the window minus VmRSS of the warmed-up
#                               server before the run (once it stopped shrinking), / N; then the
#                               slope: the window's VmRSS minus that of the previous N's run of
#                               the same path, / the difference in N; in brackets the window's
#                               VmRSS. Part of the server's memory is in transparent huge pages
#                               (AnonHugePages in /proc/<pid>/smaps_rollup), so VmRSS moves in
#                               2 MiB steps, and mimalloc hands freed pages back lazily: start-up
#                               and warm-up leave some +-20 MiB of noise, so small N means
#                               nothing (it can come out negative); read N >= 500 and the slope
#   loss caller / agent leg     Hotline's own count in the call records (GET /calls, LegMedia):
#                               lost / (received + lost) on the caller's leg (SIPp -> Hotline)
#                               and on the agent's leg (Hotline -> phone -> echo -> Hotline)
#   jitter caller / agent leg   mean over the calls of each leg's RFC 3550 interarrival jitter at
#                               the end of the call, and (after the slash) the mean of each
#                               call's largest; in ms. The caller leg's is SIPp's own sending;
#                               what the agent leg has on top is what the relay (both ways) and
#                               the echo added
#   pkts in/nominal             packets Hotline received on both legs, summed over the records,
#                               / (calls x HOLD s x 100): about 1 when SIPp kept the pace
#   ignored                     datagrams Hotline refused (malformed, unknown payload, wrong source)
#   kernel drops H / echo       datagrams the kernel dropped because a receive buffer was full:
#                               on Hotline's RTP sockets (summed over the live legs at the end of
#                               the window) and on the far end's echo socket (over the run)
#   back pps/call               packets per second and call arriving at the caller's media socket
#                               over the window (nobody reads it, so its drop counter counts
#                               them): 50 when the return path keeps up
#   SIPp CPU caller / far       the SIPp processes' CPU over the window (% of one core)
#   records                     call records found for the run's calls (by caller number), those
#                               with two legs' media, and for `always` those with a recording
#                               that did not fail, and the recordings' size on disk
#
# Everything stays on 127.0.0.1 (ports 16060-16132, HTTP 18082, RTP 40000-59999, apart from
# bench/sip.sh's) and every process it starts is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

hold=${1:-30}
counts=${2:-"100 250 500 1000 2000"}
rate=${RATE:-200}
paths=${PATHS:-"direct never always"}
max_loss=${MAX_LOSS:-1}

http_port=18082
sip_port=16060
caller_port=16070
phone_port=16080
callee_port=16090
caller_media=16100 # SIPp binds the port and the port + 2
phone_media=16110
callee_media=16120
caller_ctrl=16130 # SIPp's control sockets (UDP; default 8888 and up)
phone_ctrl=16131
callee_ctrl=16132
rtp_min=40000
rtp_max=59999
suffix=media.bench.local
domain=bench.$suffix
number_never=+421255550200
number_always=+421255550201

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
[[ $(sipp -v 2>&1 || true) == *RTPSTREAM* ]] || { echo "this sipp has no RTP streaming (needs a build with RTPSTREAM)" >&2; exit 1; }

for n in $counts; do
  if [ "$((hold - (n + rate - 1) / rate - 3))" -lt 3 ]; then
    echo "hold ${hold}s is too short for $n calls at $rate/s (the window would be under 3 s): raise HOLD or RATE" >&2
    exit 2
  fi
done

if [ -n "${HOTLINE_BIN:-}" ]; then
  bin=$HOTLINE_BIN # a binary built earlier (to compare builds on the same machine state)
else
  cargo build --release --locked --quiet --bin hotline
  bin=$PWD/target/release/hotline
fi
scenarios=$PWD/bench/sip
tick=$(getconf CLK_TCK)
# Four sockets per call in Hotline (two legs, RTP and RTCP).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d)
files_dir=$(mktemp -d -p /dev/shm hotline-media-bench.XXXXXX)
pids=()   # the far ends, up for the whole run
server="" # the running `hotline serve`
caller="" # the SIPp caller of the run in progress, if any
cleanup() {
  local pid
  for pid in $caller $server "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in $caller $server "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then
    echo "logs kept in $work, recordings in $files_dir"
  else
    rm -rf "$work" "$files_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
calc() { echo "$1" | bc -l; }
sleep_until() { # an instant from now()
  local left
  left=$(calc "$1 - $(now)")
  if [ "$(calc "$left > 0")" = 1 ]; then sleep "$left"; fi
}
# CPU ticks (user + system) a process has used so far.
cpu_ticks() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  # shellcheck disable=SC2086 # the fields are split on purpose
  set -- $stat
  echo $((${12} + ${13}))
}
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
# The server's VmRSS once it has stopped shrinking. Writing and serving the previous run's records
# leaves a peak, and mimalloc hands freed pages back only when the process allocates again after
# a delay: so it is asked for light work (a one-record page of the call list) every half second
# until its RSS has not dropped for 3 s (at most 20 s).
settled_rss() {
  local last current steady=0
  last=$(rss_kib "$server")
  for _ in $(seq 40); do
    for _ in $(seq 10); do
      curl -sf "$api/tenants/$tenant/calls?limit=1" -H "$reader" >/dev/null || true
    done
    sleep 0.5
    current=$(rss_kib "$server")
    if [ "$current" -lt "$last" ]; then steady=0; else steady=$((steady + 1)); fi
    last=$current
    [ "$steady" -lt 6 ] || break
  done
  echo "$last"
}
# A column of the last line of a SIPp statistics file (-trace_stat), by name.
stat_field() {
  awk -F';' -v name="$1" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) col = i }
    { last = $0 } END { split(last, f, ";"); print (col ? f[col] + 0 : 0) }' "$2" 2>/dev/null || echo 0
}
# Receive-buffer drops of the UDP sockets bound to 127.0.0.1 on ports first..last (/proc/net/udp:
# the local address is hex IP:PORT, drops the last column).
udp_drops() {
  awk -v first="$1" -v last="${2:-$1}" 'NR > 1 {
      split($2, a, ":"); port = 0
      for (i = 1; i <= length(a[2]); i++) port = port * 16 + index("0123456789ABCDEF", substr(a[2], i, 1)) - 1
      if (port >= first && port <= last) total += $NF }
    END { print total + 0 }' /proc/net/udp
}
metric() { curl -sf "http://127.0.0.1:$http_port/metrics" | awk -v name="$1" '$1 == name { printf "%.0f", $2; found = 1 } END { if (!found) print 0 }'; }
# The server's counters that should stay at zero (each exported once it has counted something).
failure_counters() {
  curl -sf "http://127.0.0.1:$http_port/metrics" |
    grep -E '^hotline_(calls_without_media|media_offers_refused|media_timeouts|media_recording_failures|recordings_failed|call_records_overflow|call_records_refused|calls_over_tenant_limit)_total' |
    tr '\n' ' ' || true
}

# ---- the server -----------------------------------------------------------------------------
data_dir="$work/data"
mkdir -p "$data_dir"
cat >"$work/hotline.toml" <<TOML
[files]
dir = "$files_dir"

[sip]
domain_suffix = "$suffix"
# SIPp 3.6 answers the first challenge and knows only MD5.
digest_algorithms = ["MD5", "SHA-256"]

[rtp]
listen = "127.0.0.1"
port_min = $rtp_min
port_max = $rtp_max
TOML
export HOTLINE_CONFIG=$work/hotline.toml HOTLINE_DATA_DIR=$data_dir HOTLINE_LOG_LEVEL=${LOG_LEVEL:-warn}
export HOTLINE_HTTP_LISTEN=127.0.0.1:$http_port HOTLINE_SIP_LISTEN=127.0.0.1:$sip_port
unset DATABASE_URL RUST_LOG HOTLINE_DATABASE_URL HOTLINE_FILES_DIR
"$bin" migrate >/dev/null
HOTLINE_BOOTSTRAP_PASSWORD=bench-password-123 "$bin" admin bootstrap --email bench@example.com >/dev/null
start_server() {
  "$bin" serve >>"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null || { echo "the server did not start; logs in $work" >&2; KEEP=1; exit 1; }
}
stop_server() {
  kill "$server"
  wait "$server" || true
  server=""
}
start_server

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
for policy in never always; do
  hotline=$(post "/tenants/$tenant/hotlines" "{\"name\":\"Bench line ($policy)\",\"always_open\":true,
    \"recording_policy\":\"$policy\",
    \"open_action\":{\"action\":\"forward-agent\",\"agent_id\":\"$agent\",\"ring_timeout_s\":30}}")
  number=number_$policy
  post "/tenants/$tenant/numbers" "{\"e164\":\"${!number}\",\"hotline_id\":\"$hotline\"}" >/dev/null
done
# Every call is metered as in production: the tenant has a billing account and a contract.
tariff=$(post /tariffs '{"name":"Bench tariff","currency":"EUR"}')
send POST "/tariffs/$tariff/versions" '{"version":1,"effective_from":"2025-01-01","metrics":[{"metric":
  "inbound_minutes","rate_per_minute":"0.04","increments":{"first_seconds":60,"next_seconds":60}}]}' >/dev/null
send PUT "/tenants/$tenant/billing/account" '{"name":"Bench s.r.o.","currency":"EUR","tax_rate":"0.20",
  "time_zone":"Europe/Bratislava"}' >/dev/null
send PUT "/tenants/$tenant/billing/contract" "{\"tariff_id\":\"$tariff\",\"starts_on\":\"2025-01-01\"}" >/dev/null
# The runs read the records with an API key: it does not expire, and checking it is a SHA-256,
# where every login verifies an argon2id hash whose 19 MiB the allocator would keep for a while
# (in the RSS figures).
reader="authorization: Bearer $(send POST "/tenants/$tenant/api-keys" '{"name":"bench reader","role":"tenant-admin"}' | jq -r .secret)"

# ---- the far ends -----------------------------------------------------------------------------
# SIPp's default socket buffers (64 KiB) overflow in the bursts its 10 ms scheduler makes.
sipp_common=(-i 127.0.0.1 -nostdin -buff_size 1048576)
# The caller's stream: headerless µ-law, one second of a 1 kHz tone at about -12 dBFS.
printf '\377\251\240\251\377\051\040\051%.0s' $(seq 1000) >"$work/tone.pcmu"
ready=$work/phone.registered
mkdir -p "$work/phone" "$work/callee"
(cd "$work/phone" && exec sipp "127.0.0.1:$sip_port" -sf "$scenarios/phone.xml" -oocsf "$scenarios/answer.xml" \
  "${sipp_common[@]}" -p "$phone_port" -mp "$phone_media" -cp "$phone_ctrl" -rtp_echo \
  -s agent -au agent -ap agent-sip-secret -auth_uri "$domain" -key tenant_domain "$domain" \
  -set ready_file "$ready" -m 1 -trace_err -error_file errors.log >stdout.log 2>&1) &
phone=$!
pids+=("$phone")
(cd "$work/callee" && exec sipp -sf "$scenarios/answer.xml" "${sipp_common[@]}" -p "$callee_port" \
  -mp "$callee_media" -cp "$callee_ctrl" -rtp_echo -trace_err -error_file errors.log >stdout.log 2>&1) &
callee=$!
pids+=("$callee")
for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.1; done
[ -e "$ready" ] || { echo "the phone did not register; logs in $work" >&2; KEEP=1; exit 1; }

caller_seq=0
# Starts one SIPp caller in the background: directory, target, dialed number, calls, hold (ms).
# Sets caller (its pid; end_caller waits for it) and caller_number (unique per run: how its call
# records are found).
start_caller() {
  local dir=$1
  caller_seq=$((caller_seq + 1))
  caller_number=+42190055$(printf '%04d' "$caller_seq")
  mkdir -p "$dir"
  ln -sf "$work/tone.pcmu" "$dir/tone.pcmu"
  (cd "$dir" && exec sipp "$2" -sf "$scenarios/media-caller.xml" "${sipp_common[@]}" \
    -p "$caller_port" -mp "$caller_media" -cp "$caller_ctrl" -s "$3" -key caller_number "$caller_number" \
    -d "$5" -l "$4" -m "$4" -r "$rate" -timeout "$((hold + $4 / rate + 90))s" -timeout_error \
    -trace_stat -stf stat.csv -fd 1 -trace_err -error_file errors.log >stdout.log 2>stderr.log) &
  caller=$!
}
end_caller() {
  wait "$caller" || true
  caller=""
}
stored() { # call records of caller_number
  sqlite3 "$data_dir/hotline.db" "SELECT count(*) FROM call_records WHERE caller LIKE '%${caller_number#+}'" 2>/dev/null || echo 0
}
# The run's call records from the API (newest first, 500 a page; the run's are the newest),
# as one JSON array in $1.
fetch_records() {
  local out=$1 cursor="" page query found=0
  : >"$out.pages"
  while :; do
    query="limit=500${cursor:+&cursor=$cursor}"
    page=$(curl -sf "$api/tenants/$tenant/calls?$query" -H "$reader")
    local mine
    mine=$(jq -c --arg n "${caller_number#+}" '[.items[] | select(.caller | endswith($n))]' <<<"$page")
    echo "$mine" >>"$out.pages"
    local count
    count=$(jq length <<<"$mine")
    # The run's records are contiguous: once found, a page without any ends the search.
    if [ "$count" -eq 0 ] && [ "$found" -gt 0 ]; then break; fi
    found=$((found + count))
    cursor=$(jq -r '.next_cursor // empty' <<<"$page")
    [ -n "$cursor" ] || break
  done
  jq -s 'add // []' "$out.pages" >"$out"
}

# Wait until 'up' SIPp calls are open at the caller (its statistics, written every second), at most
# until the given instant.
wait_up() { # dir, calls, deadline
  while [ "$(stat_field CurrentCall "$1/stat.csv")" -lt "$2" ] && [ "$(calc "$(now) < $3")" = 1 ]; do sleep 0.2; done
}

header='| path | N | ok / failed | up SIPp / legs | Hotline CPU | per call | µs/packet | RSS/call: growth / slope (in window) | loss caller / agent leg | jitter ms caller leg | jitter ms agent leg | pkts in/nominal | ignored | kernel drops H / echo | back pps/call | SIPp CPU caller / far | records: found / media / recorded, size |'
rule='|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'
rows=()
declare -A window_rss window_n # per path: VmRSS in the window of the previous N, and that N

# One run: path (direct|never|always), N. Sets run_ok.
run() {
  local path=$1 n=$2 dir=$work/$1-$2 target number far_pid far_media
  case $path in
    direct) target=127.0.0.1:$callee_port number=bench far_pid=$callee far_media=$callee_media ;;
    never) target=127.0.0.1:$sip_port number=$number_never far_pid=$phone far_media=$phone_media ;;
    always) target=127.0.0.1:$sip_port number=$number_always far_pid=$phone far_media=$phone_media ;;
  esac
  local ramp=$(((n + rate - 1) / rate))
  local rss0 echo0 t0 w0 w1
  if [ "$path" != direct ]; then
    # A fresh server per run, so that no run inherits the pages an earlier one left to the
    # allocator (the RSS figure) and every run starts from the same state.
    stop_server
    start_server
    warm_up
  fi
  rss0=$(settled_rss)
  echo0=$(udp_drops "$far_media")
  t0=$(now)
  start_caller "$dir" "$target" "$number" "$n" "$((hold * 1000))"
  # The window: every call up (N / RATE s plus 2 s), until 1 s before the first hangs up.
  w1=$(calc "$t0 + $hold - 1")
  wait_up "$dir" "$n" "$(calc "$t0 + $ramp + 2")"
  sleep_until "$(calc "$t0 + $ramp + 2")"
  local h0 c0 f0 back0 h1 c1 f1 back1 rss1 legs="-" up hdrops="-" echo1
  w0=$(now)
  h0=$(cpu_ticks "$server") c0=$(cpu_ticks "$caller") f0=$(cpu_ticks "$far_pid") back0=$(udp_drops "$caller_media")
  sleep_until "$w1"
  h1=$(cpu_ticks "$server") c1=$(cpu_ticks "$caller") f1=$(cpu_ticks "$far_pid") back1=$(udp_drops "$caller_media")
  w1=$(now)
  rss1=$(rss_kib "$server")
  up=$(stat_field CurrentCall "$dir/stat.csv")
  if [ "$path" != direct ]; then
    legs=$(metric hotline_media_legs)
    hdrops=$(udp_drops "$rtp_min" "$rtp_max")
  fi
  end_caller
  echo1=$(udp_drops "$far_media")
  local window ok failed
  window=$(calc "$w1 - $w0")
  ok=$(stat_field 'SuccessfulCall(C)' "$dir/stat.csv")
  failed=$(stat_field 'FailedCall(C)' "$dir/stat.csv")
  share() { calc "($1) / $tick / $window * 100"; } # ticks -> % of one core over the window
  local caller_cpu far_cpu back
  caller_cpu=$(share "$c1 - $c0" | xargs printf '%.0f %%')
  far_cpu=$(share "$f1 - $f0" | xargs printf '%.0f %%')
  back=$(calc "($back1 - $back0) / $window / $n" | xargs printf '%.1f')
  local cpu="-" per_call="-" per_packet="-" rss_call="-" loss="- / -" jit_a="-" jit_b="-" nominal="-"
  local ignored="-" records="-" loss_pct=0
  if [ "$path" = direct ]; then
    cpu=$(share "$h1 - $h0" | xargs printf '(idle %.1f %%)')
  else
    cpu=$(share "$h1 - $h0" | xargs printf '%.1f %%')
    per_call=$(calc "$(share "$h1 - $h0") / $n" | xargs printf '%.3f %%')
    per_packet=$(calc "($h1 - $h0) / $tick / ($n * 100 * $window) * 1000000" | xargs printf '%.2f')
    local slope="-"
    if [ -n "${window_rss[$path]:-}" ]; then
      slope=$(calc "($rss1 - ${window_rss[$path]}) / ($n - ${window_n[$path]})" | xargs printf '%.1f')
    fi
    window_rss[$path]=$rss1 window_n[$path]=$n
    rss_call=$(printf '%.1f / %s KiB (%.0f MiB)' "$(calc "($rss1 - $rss0) / $n")" "$slope" "$(calc "$rss1 / 1024")")
    # Every call leaves a record, written right after it ends.
    local waited=0 count
    while count=$(stored) && [ "$count" -lt "$((ok + failed))" ] && [ "$waited" -lt 600 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    fetch_records "$dir/records.json"
    local summary
    summary=$(jq -r --argjson hold "$hold" '
      def legs(f): [.[] | .media[] | select(f)];
      def sum(f): map(f) | add // 0;
      def mean(f): if length > 0 then (map(f) | add) / length else 0 end;
      def pct(lost; got): if (lost + got) > 0 then lost / (lost + got) * 100 else 0 end;
      (legs(.leg == 0)) as $a | (legs(.leg != 0)) as $b |
      [ length,
        ([.[] | select((.media | length) >= 2)] | length),
        ([.[] | select(.recording != null and .recording.failed == null)] | length),
        pct($a | sum(.lost); $a | sum(.packets_in)),
        pct($b | sum(.lost); $b | sum(.packets_in)),
        ($a | mean(.jitter_us) / 1000), ($a | mean(.max_jitter_us) / 1000),
        ($b | mean(.jitter_us) / 1000), ($b | mean(.max_jitter_us) / 1000),
        (if length > 0 then (($a + $b) | sum(.packets_in)) / (length * $hold * 100) else 0 end),
        (($a + $b) | sum(.ignored)),
        pct(($a + $b) | sum(.lost); ($a + $b) | sum(.packets_in)),
        ([.[] | .end_cause.cause] | group_by(.) | map("\(.[0]) \(length)") | join(", "))
      ] | @tsv' "$dir/records.json")
    local found with_media recorded loss_a loss_b ja jam jb jbm ratio causes
    IFS=$'\t' read -r found with_media recorded loss_a loss_b ja jam jb jbm ratio ignored loss_pct causes <<<"$summary"
    loss=$(printf '%.3f %% / %.3f %%' "$loss_a" "$loss_b")
    jit_a=$(printf '%.2f / %.2f' "$ja" "$jam")
    jit_b=$(printf '%.2f / %.2f' "$jb" "$jbm")
    nominal=$(printf '%.3f' "$ratio")
    records="$found / $with_media"
    if [ "$path" = always ]; then
      local bytes
      bytes=$(du -sb "$files_dir" | cut -f1)
      records="$records / $recorded, $(calc "$bytes / 1048576" | xargs printf '%.0f MiB')"
      # Room for the next runs (KEEP=1 keeps the last run's).
      [ -n "${KEEP:-}" ] || rm -rf "$files_dir/tenants/$tenant/recordings"
    fi
    [ "$found" -eq "$((ok + failed))" ] || records="$records (of $((ok + failed)))"
    local counters
    counters=$(failure_counters)
    [ -z "$counters" ] || echo "$path $n: $counters" >>"$work/counters.txt"
    [ "$causes" = "completed $found" ] || records="$records; ended: $causes"
  fi
  rows+=("| $path | $n | $ok / $failed | $up / $legs | $cpu | $per_call | $per_packet | $rss_call | $loss | $jit_a | $jit_b | $nominal | $ignored | $hdrops / $((echo1 - echo0)) | $back | $caller_cpu / $far_cpu | $records |")
  echo "${rows[-1]}"
  if [ "$failed" -eq 0 ] && [ "$ok" -eq "$n" ] && [ "$(calc "$loss_pct <= $max_loss")" = 1 ]; then run_ok=yes; else run_ok=no; fi
}

# A few calls until they go through: the trunk table reloads within 500 ms of a change (until
# then calls are "not a trunk"), and a restarted server restores the phone's registration.
warm_up() {
  local dir=$work/warmup
  for _ in $(seq 20); do
    rm -rf "$dir"
    start_caller "$dir" "127.0.0.1:$sip_port" "$number_never" 5 500
    end_caller
    [ "$(stat_field 'SuccessfulCall(C)' "$dir/stat.csv")" != 5 ] || return 0
    sleep 0.5
  done
  echo "no call went through; logs in $work" >&2
  KEEP=1
  exit 1
}
warm_up

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r), transparent huge pages $(grep -o '\[[a-z]*\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== build: release, commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- platform src tenants || echo ' + local changes'), $(sipp -v 2>/dev/null | grep -m1 -o 'SIPp v[^ ]*' || true)"
echo "== bridged PCMU calls, 50 packets/s each way: held ${hold} s, set up at ${rate}/s; stop after a failed call or loss > ${max_loss} %"
echo "$header"
echo "$rule"
for n in $counts; do
  all_ok=yes
  for path in $paths; do
    run "$path" "$n"
    [ "$run_ok" = yes ] || all_ok=no
  done
  [ "$all_ok" = yes ] || break
done

echo
echo "==== results: bench/media-sipp.sh $hold \"$counts\" (RATE=$rate PATHS=\"$paths\"), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$header"
echo "$rule"
printf '%s\n' "${rows[@]}"
echo
if [ -s "$work/counters.txt" ]; then
  echo "== Hotline's failure counters, per run (each run is a fresh server; the warm-up included):"
  cat "$work/counters.txt"
else
  echo "== Hotline's failure counters: none counted in any run (calls without media, refused offers, media timeouts, recording failures, record overflows)"
fi
if grep -qE ' (ERROR|WARN) ' "$work/serve.log"; then
  echo
  echo "== the server's warnings and errors (count, target):"
  grep -oE ' (ERROR|WARN) [a-z_:]+' "$work/serve.log" | sort | uniq -c | sort -rn | head -20
fi
