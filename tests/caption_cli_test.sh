#!/usr/bin/env bash
# End-to-end tests of `s2s eval captions`: scores of TSV and JSONL captions against COCO JSON and
# TSV references (the values tests/data/captions/coco_metrics_reference.py prints for its
# "scenes" example; the captions here add capitals and punctuation, which the tokenizer removes),
# and bad input as one line on stderr with exit 1 (usage mistakes: exit 2).
# Usage: caption_cli_test.sh PATH_TO_S2S
set -u
s2s=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
d=$(mktemp -d /tmp/s2s_caption_cli.XXXXXX)
trap 'rm -rf "$d"' EXIT
out=$d/out err=$d/err
expect_exit() {  # expect_exit CODE DESCRIPTION -- COMMAND...
  local want=$1 what=$2; shift 3
  "$@" >"$out" 2>"$err"; local got=$?
  [ "$got" -eq "$want" ] || fail "$what: exit $got, expected $want ($(head -c 300 "$err"))"
}
one_line_naming() {  # one_line_naming DESCRIPTION TEXT: stderr is one line containing TEXT
  [ "$(wc -l <"$err")" -eq 1 ] || fail "$1: not exactly one line on stderr: $(cat "$err")"
  grep -qF -- "$2" "$err" || fail "$1: stderr does not say '$2': $(cat "$err")"
}
expect_scores() {  # expect_scores DESCRIPTION
  grep -q "^Bleu_4: 0.8144$" "$out" || fail "$1: Bleu_4: $(cat "$out")"
  grep -q "^CIDEr-D: 3.9888$" "$out" || fail "$1: CIDEr-D: $(cat "$out")"
  grep -q "^images: 4 " "$out" || fail "$1: image count: $(cat "$out")"
}

mkdir -p "$d/refs/img" "$d/run"
cat >"$d/refs/refs.json" <<'JSON'
{"images": [{"id": 1, "file_name": "img/1.png"}, {"id": 2, "file_name": "img/2.png"},
            {"id": 3, "file_name": "img/3.png"}, {"id": 4, "file_name": "img/4.png"}],
 "annotations": [
  {"image_id": 1, "caption": "a sneaker in the top left and a bag below it"},
  {"image_id": 1, "caption": "top left a sneaker with a bag under it"},
  {"image_id": 1, "caption": "a sneaker top left and a bag in the middle left"},
  {"image_id": 2, "caption": "a dress in the center"},
  {"image_id": 2, "caption": "a dress right in the middle of the picture"},
  {"image_id": 3, "caption": "a shirt at the top and a coat at the bottom right"},
  {"image_id": 3, "caption": "a coat in the bottom right corner"},
  {"image_id": 3, "caption": "bottom right a coat and top middle a shirt"},
  {"image_id": 4, "caption": "a bag on the left and a bag at the top left"},
  {"image_id": 4, "caption": "two bags in the left column"}]}
JSON
# The same references as TSV, in another order.
python3 - "$d/refs/refs.json" >"$d/refs/refs.tsv" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
names = {i["id"]: i["file_name"] for i in doc["images"]}
for a in reversed(doc["annotations"]):
    print(names[a["image_id"]] + "\t" + a["caption"])
PY
printf 'img/2.png\tA dress in the middle.\t-0.5\nimg/1.png\tA sneaker in the top left, and a bag below it!\nimg/3.png\ta coat at the bottom right and a shirt at the top\nimg/4.png\tTwo bags on the left.\n' >"$d/refs/hyp.tsv"

expect_exit 0 "eval captions TSV vs COCO JSON" -- sh -c "cd \"$d/refs\" && \"$s2s\" eval captions hyp.tsv refs.json"
expect_scores "TSV vs COCO JSON"
grep -q "^BLEU-4 = 81.44 (hyp_len = 33 ref_len = 34)$" "$out" || fail "BLEU-4 line: $(cat "$out")"

# JSONL with absolute paths and an n-best second record (ignored), run from another folder
# against the TSV references.
{
  printf '{"path": "%s/refs/img/1.png", "caption": "A sneaker in the top left, and a bag below it!", "score": -1}\n' "$d"
  printf '{"path": "%s/refs/img/1.png", "caption": "a worse caption", "score": -3}\n' "$d"
  printf '{"path": "%s/refs/img/2.png", "caption": "a dress in the middle"}\n' "$d"
  printf '{"path": "%s/refs/img/3.png", "caption": "a coat at the bottom right and a shirt at the top"}\n' "$d"
  printf '{"path": "%s/refs/img/4.png", "caption": "two bags on the left"}\n' "$d"
} >"$d/run/hyp.jsonl"
expect_exit 0 "eval captions JSONL vs TSV" -- sh -c "cd \"$d/run\" && \"$s2s\" eval captions hyp.jsonl ../refs/refs.tsv"
expect_scores "JSONL vs TSV"
expect_exit 0 "eval captions -f json" -- "$s2s" eval captions -f json "$d/run/hyp.jsonl" "$d/refs/refs.json"
grep -q '"Bleu_4": 0.814387, "CIDEr-D": 3.988826' "$out" || fail "-f json: $(cat "$out")"

# A failed image scores as an empty caption; a missing one is an error unless --allow-missing.
head -3 "$d/run/hyp.jsonl" >"$d/run/partial.jsonl"
printf '{"path": "%s/refs/img/3.png", "caption": null, "error": "cannot decode"}\n' "$d" >>"$d/run/partial.jsonl"
expect_exit 1 "missing image" -- "$s2s" eval captions "$d/run/partial.jsonl" "$d/refs/refs.json"
one_line_naming "missing image" "no caption for 1 of 4 reference images"
expect_exit 0 "--allow-missing" -- "$s2s" eval captions --allow-missing "$d/run/partial.jsonl" "$d/refs/refs.json"
grep -q "^images: 3 (references: 8, failed images: 1)$" "$out" || fail "--allow-missing: $(cat "$out")"
grep -q "warning: scoring 3 of 4 reference images" "$err" || fail "--allow-missing warning: $(cat "$err")"

# Bad input: one line naming the file and line or key, exit 1.
printf 'img/1.png\tok\nimg/2.png\tbad \377\n' >"$d/refs/bad.tsv"
expect_exit 1 "invalid UTF-8 captions" -- "$s2s" eval captions "$d/refs/bad.tsv" "$d/refs/refs.json"
one_line_naming "invalid UTF-8 captions" "bad.tsv:2: invalid UTF-8"
printf 'img/9.png\tx\n' >"$d/refs/unknown.tsv"
expect_exit 1 "unknown image" -- "$s2s" eval captions "$d/refs/unknown.tsv" "$d/refs/refs.json"
one_line_naming "unknown image" "unknown.tsv:1: 'img/9.png' is not an image of the references"
printf '{"images": [{"id": 1, "file_name": "img/1.png"}], "annotations": [{"image_id": 1}]}' >"$d/refs/nokey.json"
expect_exit 1 "reference without caption" -- "$s2s" eval captions "$d/refs/hyp.tsv" "$d/refs/nokey.json"
one_line_naming "reference without caption" "nokey.json: annotations[0]: missing key 'caption'"
printf '{"images": [' >"$d/refs/cut.json"
expect_exit 1 "truncated JSON" -- "$s2s" eval captions "$d/refs/hyp.tsv" "$d/refs/cut.json"
one_line_naming "truncated JSON" "cut.json: invalid JSON"
: >"$d/refs/empty.json"
expect_exit 1 "empty references" -- "$s2s" eval captions "$d/refs/hyp.tsv" "$d/refs/empty.json"
one_line_naming "empty references" "empty.json: empty file"
expect_exit 1 "missing file" -- "$s2s" eval captions "$d/refs/none.tsv" "$d/refs/refs.json"
one_line_naming "missing file" "none.tsv"

# Usage mistakes: exit 2.
expect_exit 2 "eval without a mode" -- "$s2s" eval
expect_exit 2 "eval with an unknown mode" -- "$s2s" eval frobnicate
one_line_naming "unknown mode" "frobnicate"
expect_exit 2 "eval captions with one file" -- "$s2s" eval captions "$d/refs/hyp.tsv"
expect_exit 2 "eval captions bad --format" -- "$s2s" eval captions -f xml "$d/refs/hyp.tsv" "$d/refs/refs.json"
expect_exit 0 "eval --help" -- "$s2s" eval --help
grep -q "captions" "$out" || fail "eval --help does not list captions"
expect_exit 0 "eval captions --help" -- "$s2s" eval captions --help

if [ "$failures" -eq 0 ]; then echo "caption_cli_test: all passed"; else echo "caption_cli_test: $failures failed"; fi
[ "$failures" -eq 0 ]
