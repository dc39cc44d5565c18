#!/usr/bin/env bash
# Our `broker` example and mosquitto side by side, on this machine, in one run, driven by
# the `loadgen` example: CLIENTS connected clients (default 1000), of which PUBLISHERS
# publish at QoS 1 (default 100) and as many subscribe (one per publisher's topic), for
# DURATION seconds (default 30) per payload size (SIZES, default "16 1024").
#
#   benches/load.sh                       # the README's table
#   DURATION=5 benches/load.sh            # a quick look
#
# Output, one line per broker and size:
#   `<broker> size=<bytes> msgs_per_sec=<n> p50_us=<n> p99_us=<n> lost=<n> peak_rss_kb=<n>`
# Peak RSS is the broker process's VmHWM at the end of its run. mosquitto runs with
# `set_tcp_nodelay true` (our broker sets TCP_NODELAY too; without it mosquitto's
# small writes wait on Nagle's algorithm and its numbers are lower still). Needs mosquitto
# on PATH (apt-get install -y mosquitto) and a file limit above 2 * CLIENTS (ulimit -n).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
clients="${CLIENTS:-1000}"
publishers="${PUBLISHERS:-100}"
duration="${DURATION:-30}"
sizes="${SIZES:-16 1024}"
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
cargo build -q --release -p mqtt-codec --example broker --example loadgen
bin="$target_dir/release/examples"
work="$(mktemp -d)"
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_listening() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on $1" >&2
    return 1
}

measure() { # name pid port size
    local out
    out="$("$bin/loadgen" --port "$3" --clients "$clients" --publishers "$publishers" \
        --subscribers "$publishers" --qos 1 --size "$4" --duration "$duration" 2>"$work/err")" || {
        cat "$work/err" >&2
    }
    local rss
    rss="$(awk '/VmHWM/ {print $2}' "/proc/$2/status")"
    get() { echo "$out" | awk -v k="$1" '$1 == k {print $2}'; }
    echo "$1 size=$4 msgs_per_sec=$(get msgs_per_sec) p50_us=$(get latency_p50_us)" \
        "p99_us=$(get latency_p99_us) lost=$(get lost) peak_rss_kb=$rss"
}

for size in $sizes; do
    port="$(free_port)"
    "$bin/broker" --listen "127.0.0.1:$port" 2>"$work/broker.log" &
    pid=$!
    wait_listening "$port"
    measure ours "$pid" "$port" "$size"
    kill "$pid"
    wait "$pid" 2>/dev/null || true

    port="$(free_port)"
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n' \
        "$port" >"$work/mosquitto.conf"
    mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
    pid=$!
    wait_listening "$port"
    measure mosquitto "$pid" "$port" "$size"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
done
