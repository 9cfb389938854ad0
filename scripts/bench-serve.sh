#!/usr/bin/env bash
# Serving benchmark on loopback: the same LINES one-line translation requests (a test split
# cycled) sent by N = 1, 8 and 64 concurrent clients to `s2s serve`, with dynamic batching on
# and off, against `s2s translate` of all the lines as one batch job on the same threads. Prints
# per run the throughput (lines/s), p50/p99 latency and whether the outputs equal the CLI's,
# then served/CLI throughput at 64 clients and the batching on/off speed-up. The load generator
# (build/s2s_serve_load) is bounded: CLIENTS x REQUESTS requests and a time limit.
# Usage: scripts/bench-serve.sh MODEL_DIR TEST_TSV_OR_SRC
# Environment: BUILD_DIR (build), REQUESTS per client (20), THREADS (2), MAX_WAIT_MS (server's
# default when unset), TIME_LIMIT seconds per load run (600).
# For the de-en recipe: scripts/bench-serve.sh runs/hour/model recipes/de-en/data/test.tsv
# Measure alone: the server and the load generator share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench-serve.sh MODEL_DIR TEST_TSV_OR_SRC"
model=${1:?$usage}
test=${2:?$usage}
build=${BUILD_DIR:-build}
s2s=$build/s2s load=$build/s2s_serve_load
requests=${REQUESTS:-20} threads=${THREADS:-2} time_limit=${TIME_LIMIT:-600}
for f in "$s2s" "$load"; do [[ -x $f ]] || { echo "bench-serve: no $f (build first)" >&2; exit 1; }; done

work=$(mktemp -d)
server=
trap '[[ -n $server ]] && kill -9 "$server" 2>/dev/null; rm -rf "$work"' EXIT
cut -f1 "$test" | awk 'NF' >"$work/test.src"
lines=$((64 * requests))
# The 64-client run sends request k the line k mod L, so the CLI gets the same lines in order.
awk -v n="$lines" '{ l[NR - 1] = $0 } END { for (i = 0; i < n; ++i) print l[i % NR] }' \
  "$work/test.src" >"$work/all.src"

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
echo "model: $model; $lines lines ($(wc -l <"$work/test.src") distinct), $threads threads"
start=$(date +%s.%N)
"$s2s" translate -m "$model" -i "$work/all.src" -o "$work/cli.txt" --threads "$threads" \
  2>"$work/cli.log"
cli_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
cli_rate=$(awk -v n="$lines" -v s="$cli_seconds" 'BEGIN { print n / s }')
printf '\n%-28s %8.2f s %9.1f lines/s\n' "s2s translate (one job)" "$cli_seconds" "$cli_rate"

printf '\n%-10s %7s %9s %12s %9s %9s %8s\n' batching clients requests lines/s "p50 ms" "p99 ms" "= CLI"
declare -A rate
for mode in on off; do
  flags=()
  [[ $mode == off ]] && flags+=(--no-batching)
  [[ -n ${MAX_WAIT_MS:-} ]] && flags+=(--max-wait-ms "$MAX_WAIT_MS")
  rm -f "$work/port"
  "$s2s" serve -m model="$model" --port 0 --port-file "$work/port" --threads "$threads" \
    --max-queue 100000 "${flags[@]}" >"$work/serve.$mode.log" 2>&1 &
  server=$!
  for _ in $(seq 600); do [[ -s $work/port ]] && break; sleep 0.1; done
  port=$(cat "$work/port")
  "$load" --port "$port" --input "$work/test.src" --clients 1 --requests 5 >/dev/null  # warm-up
  for clients in 1 8 64; do
    "$load" --port "$port" --input "$work/all.src" --clients "$clients" --requests "$requests" \
      --time-limit "$time_limit" --output "$work/out.$mode.$clients" --json >"$work/load.json"
    n=$((clients * requests))
    same=no
    head -n "$n" "$work/cli.txt" | cmp -s - "$work/out.$mode.$clients" && same=yes
    read -r r p50 p99 errors < <(/usr/bin/python3 -c "import json; j = json.load(open('$work/load.json')); print(j['requests_per_second'], j['p50_ms'], j['p99_ms'], j['errors'])")
    rate[$mode.$clients]=$r
    printf '%-10s %7d %9d %12.1f %9.1f %9.1f %8s%s\n' "$mode" "$clients" "$n" "$r" "$p50" "$p99" \
      "$same" "$([[ $errors != 0 ]] && echo " ($errors errors)")"
  done
  kill -TERM "$server"
  wait "$server"
  server=
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "served (batching on, 64 clients) / s2s translate: $(ratio "${rate[on.64]}" "$cli_rate")"
echo "batching on / off at 64 clients: $(ratio "${rate[on.64]}" "${rate[off.64]}")"
echo "batching on / off at 8 clients: $(ratio "${rate[on.8]}" "${rate[off.8]}")"
