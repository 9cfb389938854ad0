#!/usr/bin/env bash
# Decoding benchmark: translates a test split with greedy decoding and with beam search, with the
# float model, its int8 copy (s2s quantize), and both with a lexical shortlist (s2s shortlist
# over SHORTLIST_CORPUS), all made here by the same binary, on the same batch size and threads, alternating ROUNDS times (so foreign load hits every row alike). Prints
# per row the fastest round's seconds, sentences/s, output pieces/s, the GEMM share of the time
# (s2s translate --profile; float and int8 GEMMs together), peak RSS of that round and BLEU; then
# each row's speed against the float row of the same search, the folder sizes, and the beam
# profile of each model kind.
# Usage: scripts/bench-decode.sh MODEL_DIR TEST_TSV_OR_SRC [REF]
# Environment: BUILD_DIR (default build), BEAM (5), BATCH (32), THREADS (2), ROUNDS (3),
#   KINDS ("fp32 int8 fp32+sl int8+sl": which models to run; +sl needs SHORTLIST_CORPUS, default
#   recipes/de-en/data/train.tsv), SHORTLIST_K (50), SHORTLIST_FREQUENT (200).
# For the de-en recipe: scripts/bench-decode.sh runs/hour/model recipes/de-en/data/test.tsv
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench-decode.sh MODEL_DIR TEST_TSV_OR_SRC [REF]}
test=${2:?usage: bench-decode.sh MODEL_DIR TEST_TSV_OR_SRC [REF]}
s2s=${BUILD_DIR:-build}/s2s
beam=${BEAM:-5} batch=${BATCH:-32} threads=${THREADS:-2} rounds=${ROUNDS:-3}
kinds=${KINDS:-fp32 int8 fp32+sl int8+sl}
corpus=${SHORTLIST_CORPUS:-recipes/de-en/data/train.tsv}
[[ -x $s2s ]] || { echo "bench-decode: no $s2s (build first, or set BUILD_DIR)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench-decode: needs GNU time (scripts/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $test == *.tsv ]]; then
  cut -f1 "$test" >"$work/src"; cut -f2 "$test" >"$work/ref"
else
  cp "$test" "$work/src"; cp "${3:?a .src test file needs REF}" "$work/ref"
fi
declare -A folder=([fp32]=$model)
quantize() {  # FROM TO
  "$s2s" quantize -m "$1" -o "$2" 2>"$work/quantize.log" || { cat "$work/quantize.log" >&2; exit 1; }
}
[[ " $kinds " == *" int8 "* ]] && { quantize "$model" "$work/int8"; folder[int8]=$work/int8; }
if [[ " $kinds " == *"+sl "* ]]; then
  [[ -f $corpus ]] || { echo "bench-decode: no shortlist corpus $corpus (set SHORTLIST_CORPUS)" >&2; exit 1; }
  cp -r "$model" "$work/fp32+sl"
  "$s2s" shortlist -m "$work/fp32+sl" -i "$corpus" -k "${SHORTLIST_K:-50}" \
    --frequent "${SHORTLIST_FREQUENT:-200}" 2>"$work/shortlist.log" ||
    { cat "$work/shortlist.log" >&2; exit 1; }
  echo "shortlist: $(tail -1 "$work/shortlist.log" | sed 's/^s2s shortlist: //; s/ -> .*//')"
  folder[fp32+sl]=$work/fp32+sl
  [[ " $kinds " == *" int8+sl "* ]] && { quantize "$work/fp32+sl" "$work/int8+sl"; folder[int8+sl]=$work/int8+sl; }
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uptime | sed 's/.*load/load/')"
echo "int8 backend: $("$s2s" version 2>&1 | sed -n "s/^int8: *//p")"
echo "test: $(wc -l <"$work/src") sentences; batch $batch, $threads threads, best of $rounds rounds"
for round in $(seq "$rounds"); do
  for kind in $kinds; do
    for k in 1 "$beam"; do
      /usr/bin/time -f 'peak_rss_kb %M' "$s2s" translate -m "${folder[$kind]}" -i "$work/src" \
        -o "$work/hyp.$kind.$k" --beam "$k" --batch-size "$batch" --threads "$threads" --profile \
        2>"$work/log.$kind.$k.$round"
    done
  done
done

printf '\n%-7s %-7s %8s %12s %13s %6s %9s %6s %9s\n' model search seconds sentences/s \
  "out pieces/s" GEMM "peak RSS" BLEU "vs fp32"
for kind in $kinds; do
  for k in 1 "$beam"; do
    best=$(for r in $(seq "$rounds"); do
      awk '/^translate:/ { print $5, FILENAME }' "$work/log.$kind.$k.$r"; done | sort -n | head -1 |
      cut -d' ' -f2)
    bleu=$("$s2s" bleu -b "$work/hyp.$kind.$k" "$work/ref")
    secs=$(awk '/^translate:/ { print $5 }' "$best")
    [[ $kind == fp32 ]] && echo "$secs" >"$work/fp32.$k.secs"
    base=$(cat "$work/fp32.$k.secs" 2>/dev/null || echo "")
    awk -v kind="$kind" -v k="$k" -v bleu="$bleu" -v base="$base" '
      /^translate:/ { secs = $5; sps = $7; pps = $9 }
      $1 == "gemm" || $1 == "gemm_int8" { share += $3 + 0 }
      /^peak_rss_kb/ { rss = $2 }
      END { printf "%-7s %-7s %8.2f %12.1f %13.0f %5.1f%% %7.0f MB %6s %8s\n", kind,
            (k == 1 ? "greedy" : "beam " k), secs, sps, pps, share, rss / 1024, bleu,
            (base == "" ? "-" : sprintf("%.2fx", base / secs)) }' "$best"
    [[ $k != 1 ]] && cp "$best" "$work/profile.$kind"
  done
done
echo
for kind in $kinds; do
  printf '%-7s model.safetensors %8.1f MiB, folder %8.1f MiB\n' "$kind" \
    "$(awk -v b="$(stat -c %s "${folder[$kind]}/model.safetensors")" 'BEGIN { print b / 1048576 }')" \
    "$(du -sk "${folder[$kind]}" | awk '{ print $1 / 1024 }')"
done
for kind in $kinds; do
  echo; echo "profile of the fastest beam round, $kind:"; sed -n '/^profile/,$p' "$work/profile.$kind"
done
