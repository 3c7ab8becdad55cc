#!/usr/bin/env bash
# Media relay load: N bridged G.711 calls on loopback, 50 packets/s each way, through a bare
# UDP relay (tokio task per call, and a mio reactor per core), Hotline's MediaEngine, and the
# MediaEngine recording every call. Figures for BENCHMARKS.md, in one run, side by side.
#
#   bench/media.sh [seconds per run] [call counts...]
#   bench/media.sh 15 500 1000 2000
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
shift || true
counts=${*:-500 1000 2000}
ulimit -n 65536 2>/dev/null || true
cargo build --release -q -p hotline-media --example media_load
echo "# $(date -u +%FT%TZ) $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for calls in $counts; do
    for mode in bare sharded engine engine-record; do
        target/release/examples/media_load --mode "$mode" --calls "$calls" --seconds "$seconds"
    done
done
