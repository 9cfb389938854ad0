#!/usr/bin/env bash
# Python overhead benchmark: the Python package's Translator.translate against `s2s translate` on
# the same model, lines and options (greedy and beam), alternating ROUNDS times so that foreign
# load hits both alike. Each side times its translation of the whole file after the model is
# loaded (the CLI's --profile line; time.perf_counter around translate() in Python), and the
# outputs are compared byte for byte. Prints per search the median sentences/s of both and their
# ratio (Python / CLI).
# Usage: scripts/bench-python.sh MODEL_DIR TEST_TSV_OR_SRC
# Environment: BUILD_DIR (default build), BEAM (5), BATCH (32), THREADS (2), ROUNDS (5),
#   PYTHON (default /usr/bin/python3, the interpreter the build's package is made for).
# For the de-en recipe: scripts/bench-python.sh runs/demo/model recipes/de-en/data/test.tsv
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench-python.sh MODEL_DIR TEST_TSV_OR_SRC}
test=${2:?usage: bench-python.sh MODEL_DIR TEST_TSV_OR_SRC}
build=${BUILD_DIR:-build}
s2s=$build/s2s python=${PYTHON:-/usr/bin/python3}
beam=${BEAM:-5} batch=${BATCH:-32} threads=${THREADS:-2} rounds=${ROUNDS:-5}
[[ -x $s2s ]] || { echo "bench-python: no $s2s (build first, or set BUILD_DIR)" >&2; exit 1; }
ls "$build"/python/s2s/_s2s*.so >/dev/null 2>&1 ||
  { echo "bench-python: no Python module in $build/python/s2s (S2S_PYTHON=ON)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $test == *.tsv ]]; then cut -f1 "$test" >"$work/src"; else cp "$test" "$work/src"; fi
cat >"$work/bench.py" <<'PY'
import sys, time
import s2s
model, src, out, beam, batch, threads = sys.argv[1:7]
lines = open(src, encoding="utf-8").read().splitlines()
t = s2s.Translator(model, device="cpu", threads=int(threads))
start = time.perf_counter()
found = t.translate(lines, beam=int(beam), batch_size=int(batch))
seconds = time.perf_counter() - start
with open(out, "w", encoding="utf-8") as f:
    f.write("".join((h[0].text if h else "") + "\n" for h in found))
print(f"{len(lines) / seconds:.2f}")
PY

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
echo "test: $(wc -l <"$work/src") sentences; batch $batch, $threads threads, $rounds rounds"
for k in 1 "$beam"; do
  for round in $(seq "$rounds"); do
    "$s2s" translate -m "$model" -i "$work/src" -o "$work/cli.$k" --beam "$k" --batch-size "$batch" \
      --threads "$threads" --profile 2>"$work/log" >/dev/null
    awk '/^translate:/ { print $7 }' "$work/log" >>"$work/cli.$k.rates"
    PYTHONPATH=$build/python "$python" "$work/bench.py" "$model" "$work/src" "$work/py.$k" "$k" \
      "$batch" "$threads" >>"$work/py.$k.rates"
  done
done

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '\n%-8s %14s %14s %14s %10s\n' search "CLI sent/s" "Python sent/s" "Python/CLI" outputs
for k in 1 "$beam"; do
  cli=$(median "$work/cli.$k.rates") py=$(median "$work/py.$k.rates")
  same=$(cmp -s "$work/cli.$k" "$work/py.$k" && echo identical || echo DIFFERENT)
  awk -v k="$k" -v c="$cli" -v p="$py" -v s="$same" \
    'BEGIN { printf "%-8s %14.1f %14.1f %14.3f %10s\n", (k == 1 ? "greedy" : "beam " k), c, p, p / c, s }'
done
