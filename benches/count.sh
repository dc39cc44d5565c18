#!/usr/bin/env bash
# Instructions per operation, counted by valgrind (callgrind) over the measured loop only,
# for every workload and every implementation (ours, the peers, and memcpy as the floor),
# decode and encode:
#
#   benches/count.sh                      # everything
#   benches/count.sh decode               # lines of `count list` matching a pattern
#   benches/count.sh 'encode publish_qos0_16B'
#
# Output, one line per measurement: `<op> <workload> <implementation> <instructions>`.
# Deterministic, unlike wall-clock time on a shared machine: use it to compare
# implementations and versions of the code, and criterion (benches/run.sh) for the time.
# Needs valgrind (apt-get install valgrind). COUNT_N sets the iterations (default 2000;
# large packets run fewer, so that the input stays under 16 MiB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
cargo build -q --release -p mqtt-benches --example count
bin="$target_dir/release/examples/count"
n="${COUNT_N:-2000}"
pattern="${1:-}"
"$bin" list | grep -e "$pattern" | while read -r op workload imp; do
    out="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        --toggle-collect='*count::measure*' "$bin" "$op" "$workload" "$imp" "$n" 2>&1)" || {
        # An implementation that cannot carry this packet (mqttbytes' encoder and the
        # 5.0 properties, say): nothing to count.
        echo "$op $workload $imp -"
        continue
    }
    iters="$(echo "$out" | grep -E '^[0-9]+ [0-9]+$' | cut -d' ' -f1)"
    total="$(echo "$out" | awk '/Collected/ {print $4}')"
    echo "$op $workload $imp $((total / iters))"
done
