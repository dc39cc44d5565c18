#!/usr/bin/env bash
# Instructions per decode, counted by valgrind (callgrind), for the named workloads (all
# MQTT and MQTT-SN per-packet workloads when none are named):
#
#   benches/count.sh                          # every workload
#   benches/count.sh connect_clean subscribe_topic_name
#
# Each workload runs twice (N and 2N decodes) and the difference is divided by N, so
# start-up and workload construction drop out. Deterministic, unlike wall-clock time on a
# shared machine: use it to compare two versions of the code, and criterion
# (benches/run.sh) for the time. Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
cargo build -q --release -p mqtt-benches --example count
bin="$target_dir/release/examples/count"
names=("$@")
if [[ ${#names[@]} == 0 ]]; then
    mapfile -t names < <("$bin" list 2>&1 | tr -d '[]" ' | tr ',' '\n' | sed 's/^workloads://')
fi
n=20000
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
        awk '/Collected/ {print $4}'
}
for w in "${names[@]}"; do
    a="$(count "$w" "$n")"
    b="$(count "$w" $((2 * n)))"
    echo "$w $(((b - a) / n))"
done
