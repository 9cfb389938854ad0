#!/usr/bin/env bash
# Host caching allocator benchmark: the same short training run (default: the fashion-scenes
# caption recipe, STEPS steps) with the cache on (the default) and off (S2S_HOST_CACHE_MB=0),
# alternating ROUNDS times so that foreign load hits both alike. Prints per run the training
# seconds (the trainer's own "over the run" figure, vocabulary and data loading excluded) and the
# process's user and system CPU seconds, then the ratio of the fastest runs (off / on).
# Usage: scripts/bench-allocator.sh [RECIPE]   (recipes/fashion-scenes/base.yaml: run its
#   prepare.sh first). Environment: BUILD_DIR (build), STEPS (120), ROUNDS (2), EXTRA (recipe
#   overrides, e.g. "--image_encoder.channels [32,64,64] --image_encoder.batch_norm true").
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-recipes/fashion-scenes/base.yaml}
s2s=${BUILD_DIR:-build}/s2s
steps=${STEPS:-120} rounds=${ROUNDS:-2}
[[ -x $s2s ]] || { echo "bench-allocator: no $s2s (build first, or set BUILD_DIR)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
echo "recipe: $recipe ${EXTRA:-}, $steps steps"
printf '%-6s %-5s %14s %10s %10s\n' round cache "train seconds" "user s" "sys s"
for round in $(seq "$rounds"); do
  for cache in on off; do
    limit=$([[ $cache == on ]] && echo "${S2S_HOST_CACHE_MB:-256}" || echo 0)
    rm -rf "$work/run"
    S2S_HOST_CACHE_MB=$limit /usr/bin/time -f '%U %S' -o "$work/time" \
      "$s2s" train -r "$recipe" -o "$work/run" --train.max_steps "$steps" \
      --train.valid_every 0 --train.max_minutes 30 ${EXTRA:-} >"$work/log" 2>&1 ||
      { echo "bench-allocator: training failed:" >&2; tail -3 "$work/log" >&2; exit 1; }
    secs=$(sed -n 's/.* of \([0-9.]*\) s$/\1/p' "$work/log" | tail -1)
    read -r user sys <"$work/time"
    printf '%-6s %-5s %14s %10s %10s\n' "$round" "$cache" "$secs" "$user" "$sys"
    echo "$cache $secs" >>"$work/all"
  done
done
awk '{ if (!($1 in best) || $2 < best[$1]) best[$1] = $2 }
     END { printf "\nfastest run: cache on %.1f s, off %.1f s: %.2fx faster with the cache\n",
           best["on"], best["off"], best["off"] / best["on"] }' "$work/all"
