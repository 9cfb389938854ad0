#!/usr/bin/env bash
# End-to-end test of `s2s reply` through the real binary: a tiny message -> reply model (the reply
# is decided by the message's first digit) scores a response set by trie search; its top 3 equal
# forced decoding of every response (--evaluate --forced-check, and the batch job --exhaustive,
# also with lambda); suggestions are diverse, in input order whatever the threads; bad records
# get error records and the job goes on; the 1-of-N ranking test tells the model from random,
# --tune --save keeps lambda in the model folder. Usage: reply_test.sh PATH_TO_S2S
set -u
s2s=$1
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"

# Ten replies, one per first digit of the message.
cat > replies.txt <<'TXT'
yes please
no thanks
see you soon
sounds good to me
i will check
thanks a lot
not today
call me later
on my way
good night
TXT
gen() { awk -v n="$1" -v seed="$2" 'NR == FNR { r[NR - 1] = $0; next }
  END { srand(seed); for (i = 0; i < n; ++i) { len = 2 + int(rand() * 5); s = "";
    for (j = 0; j < len; ++j) s = s (j ? " " : "") int(rand() * 10);
    print s "\t" r[substr(s, 1, 1) + 0] } }' replies.txt /dev/null; }
gen 1500 1 > train.tsv
gen 40 2 > test.tsv
cat > tiny.yaml <<'YAML'
data: {train: train.tsv, batch_tokens: 256, max_length: 20}
vocab: {size: 48}
encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.0}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}
train: {max_steps: 400, valid_every: 0, log_every: 200, learning_rate: 0.01, warmup_steps: 20,
        label_smoothing: 0.0, patience: 0}
YAML
"$s2s" train -r tiny.yaml -o run >train.log 2>&1
check "train exits 0" [ $? -eq 0 ]
m=run/model
# The response set: the ten replies and thirty distractors, in clusters of related replies.
{
  echo "# response<TAB>cluster<TAB>prior"
  awk '{ printf "%s\tc%d\t-3.0\n", $0, NR }' replies.txt
  awk '{ printf "%s now\tc%d\t-4.0\n%s again\tc%d\t-4.0\nwell %s\tc%d\t-4.5\n", $0, NR, $0, NR, $0, NR }' replies.txt
} > responses.tsv

# 1. The trie search ranks exactly as forced decoding of every response.
"$s2s" reply -m $m --responses responses.tsv --evaluate test.tsv --forced-check 40 > eval.txt 2>/dev/null
check "evaluate exits 0" [ $? -eq 0 ]
check "top 3 of the trie search == forced decoding for all 40 ($(grep -o 'identical for [0-9]* ([0-9.]*%)' eval.txt))" grep -q "identical for 40 (100.0%)" eval.txt
check "recall@3 is reported for model and baseline" grep -q "model: *recall@3" eval.txt
check "and for the model's clusters ranked by probability" grep -q "model, clusters by probability: recall@3" eval.txt
recall=$(awk '/^model:/ { print $3 }' eval.txt)
check "the model finds the true cluster (recall@3 $recall >= 0.9)" awk -v r="$recall" 'BEGIN { exit !(r >= 0.9) }'
# The check compares like with like when the score subtracts the prior.
"$s2s" reply -m $m --responses responses.tsv --evaluate test.tsv --forced-check 40 --lambda 0.7 > eval07.txt 2>/dev/null
check "lambda 0.7: evaluate exits 0" [ $? -eq 0 ]
check "lambda 0.7: top 3 of the trie search == forced decoding for all 40 ($(grep -o 'identical for [0-9]* ([0-9.]*%)' eval07.txt))" grep -q "identical for 40 (100.0%)" eval07.txt
# The product's measure: true replies classified into the set's clusters as intents (every test
# reply is one of the ten phrases, so all 40 fall into one); intervals and McNemar printed.
"$s2s" reply -m $m --responses responses.tsv --evaluate test.tsv --truth intent > intent.txt 2>/dev/null
check "evaluate --truth intent exits 0" [ $? -eq 0 ]
check "all 40 replies fall into an intent" grep -q "with a reply that falls into an intent 40;" intent.txt
check "intent recall@3 with intervals and McNemar" grep -qE "^recall@3 \[95% interval\]: model [0-9.]+ \[[0-9.]+, [0-9.]+\], frequency [0-9.]+ \[[0-9.]+, [0-9.]+\]; McNemar p" intent.txt
intent_recall=$(awk '/^model:/ { print $3 }' intent.txt)
check "the model finds the true intent (recall@3 $intent_recall >= 0.9)" awk -v r="$intent_recall" 'BEGIN { exit !(r >= 0.9) }'
"$s2s" reply -m $m --responses responses.tsv --evaluate test.tsv --truth guess > /dev/null 2>err.txt
check "evaluate --truth guess: a usage error" [ $? -eq 2 ]

# 2. The batch job: JSONL in, JSONL out in order, one suggestion per cluster.
{
  echo '{"id": "a", "text": "3 1 4"}'
  echo '{"id": 7, "text": "9 9"}'
  echo 'this is not json'
  echo '{"id": "no-text"}'
  printf '{"id": "bad-utf8", "text": "4 \xff 4"}\n'
  printf '{"id": "huge", "text": "%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' '1')"
  echo '{"id": "z", "text": "0 5"}'
} > in.jsonl
"$s2s" reply -m $m --responses responses.tsv -i in.jsonl -o out.jsonl --max-text-bytes 2000 2>err.txt
check "bad records: exit 1" [ $? -eq 1 ]
check "one output record per input record" [ "$(wc -l <out.jsonl)" -eq 7 ]
check "ids in input order" [ "$(grep -o '"id":[^,]*' out.jsonl | tr '\n' ' ')" = '"id":"a" "id":7 "id":null "id":"no-text" "id":null "id":"huge" "id":"z" ' ]
check "record a: suggestions as text, score, cluster" grep -Eq '^\{"id":"a","suggestions":\[\{"text":"[a-z ]+","score":-[0-9.]+,"cluster":"c[0-9]+"\}' out.jsonl
check "record a: three distinct clusters" [ "$(sed -n 1p out.jsonl | grep -o '"cluster":"c[0-9]*"' | sort -u | wc -l)" -eq 3 ]
check "invalid JSON: an error record naming line 3" grep -q '"line":3,"error":"invalid JSON' out.jsonl
check "no text: an error record" grep -q '"id":"no-text","line":4,"error":"the record has no' out.jsonl
check "huge text: an error record" grep -q '"id":"huge",.*over --max-text-bytes' out.jsonl
check "invalid UTF-8: an error record" [ "$(sed -n 5p out.jsonl | grep -c '"error"')" -eq 1 ]
check "the records after the bad ones are scored" grep -q '"id":"z","suggestions":\[{"text":"yes please"' out.jsonl

# 3. Threads, batches and the search change nothing; text input works; a threshold turns
# suggestions off.
cut -f1 test.tsv > test.txt
# same_records A B: the same records field for field, but for the scores, which may differ by
# one unit in the last printed digit: other batches and threads sum the same log-probabilities
# in another order (float sums differ by ~1e-6), which the 4-decimal rounding turns into at most
# 1e-4. Prints the first difference, or the largest score difference.
same_records() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a = [json.loads(line) for line in open(sys.argv[1])]
b = [json.loads(line) for line in open(sys.argv[2])]
gap = 0.0
def same(x, y, where):
    global gap
    if isinstance(x, dict) and isinstance(y, dict):
        if list(x) != list(y):
            sys.exit(f"{where}: keys {list(x)} vs {list(y)}")
        for key in x:
            if key == "score" and isinstance(x[key], float) and isinstance(y[key], float):
                gap = max(gap, abs(x[key] - y[key]))
                if abs(x[key] - y[key]) > 1e-4 + 1e-9:
                    sys.exit(f"{where}.score: {x[key]} vs {y[key]}")
            else:
                same(x[key], y[key], f"{where}.{key}")
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (u, v) in enumerate(zip(x, y)):
            same(u, v, f"{where}[{i}]")
    elif x != y or type(x) is not type(y):
        sys.exit(f"{where}: {x!r} vs {y!r}")
if len(a) != len(b):
    sys.exit(f"{len(a)} vs {len(b)} records")
for i, (x, y) in enumerate(zip(a, b)):
    same(x, y, f"record {i + 1}")
print(f"largest score difference {gap:.4f}")
PY
}
"$s2s" reply -m $m --responses responses.tsv -i test.txt --threads 1 > t1.jsonl 2>/dev/null
check "text input: 40 records" [ "$(wc -l <t1.jsonl)" -eq 40 ]
for options in "--threads 2 --batch-size 7" "--threads 1 --batch-size 1" \
               "--threads 2 --batch-size 64" "--exhaustive" "--expand 1"; do
  # $options unquoted: its words are options.
  "$s2s" reply -m $m --responses responses.tsv -i test.txt $options > other.jsonl 2>/dev/null
  check "$options: the records of 1 thread, scores within 1e-4" same_records t1.jsonl other.jsonl
done
"$s2s" reply -m $m --responses responses.tsv -i test.txt --threshold 0 > t0.jsonl 2>/dev/null
check "threshold 0: nothing triggers" [ "$(grep -c '"suggestions":\[\],"triggered":false' t0.jsonl)" -eq 40 ]
"$s2s" reply -m $m --responses responses.tsv --calibrate test.tsv --coverage 0.5 > cal.txt 2>/dev/null
check "calibrate prints a threshold" grep -q "threshold for coverage 0.50: -[0-9.]*" cal.txt
printf 'x\tc1\n' > broken.tsv
"$s2s" reply -m $m --responses broken.tsv -i test.txt -o never.jsonl >/dev/null 2>err2.txt
check "a broken response file: exit 1, no output" [ $? -eq 1 -a ! -e never.jsonl ]
check "a broken response file: the error names broken.tsv:1" grep -q "broken.tsv:1" err2.txt

# 4. The 1-of-N ranking test (the test that can tell), lambda, tuning on dev and saving it.
"$s2s" reply -m $m --responses responses.tsv --evaluate test.tsv --ranking-only --report rank.json \
  > rank.txt 2>/dev/null
check "ranking test exits 0" [ $? -eq 0 ]
check "ranking test: six scorers with intervals" [ "$(grep -cE '^(model|model \+ TF-IDF|random|prior|shortest-first|TF-IDF) +[0-9.]+ \[' rank.txt)" -eq 6 ]
r1=$(awk '$1 == "model" && $2 != "+" { print $2 }' rank.txt)
random_r1=$(awk '$1 == "random" { print $2 }' rank.txt)
check "the model, which knows the reply from the first digit, ranks it first (R@1 $r1 >= 0.9)" awk -v r="$r1" 'BEGIN { exit !(r >= 0.9) }'
check "random does not (R@1 $random_r1 <= 0.3)" awk -v r="$random_r1" 'BEGIN { exit !(r <= 0.3) }'
check "McNemar: the model beats random with p < 0.01" awk '$1 == "random" { exit !($11 + 0 < 0.01) }' rank.txt
python3 - rank.json <<'PY' >rank_json.txt 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["pairs"] == 40 and r["candidates"] >= 2, r
names = [s["name"] for s in r["scorers"]]
assert names == ["model", "model + TF-IDF", "random", "prior", "shortest-first", "TF-IDF"], names
for s in r["scorers"]:
    for k in ("r1", "r3", "mrr"):
        assert s[k]["low"] <= s[k]["value"] <= s[k]["high"], (s["name"], k, s[k])
PY
check "the JSON report holds every scorer with its intervals ($(tail -1 rank_json.txt))" [ ! -s rank_json.txt ]
cp -r $m tuned
"$s2s" reply -m tuned --responses responses.tsv --tune test.tsv --save > tune.txt 2>/dev/null
check "tune exits 0" [ $? -eq 0 ]
check "tune prints what it chose" grep -Eq '^chosen on test.tsv: lambda [0-9.]+, TF-IDF weight [0-9.]+' tune.txt
check "tune --save writes reply.yaml into the model folder" grep -q '^lambda: ' tuned/reply.yaml
check "and the folder's manifest lists it" grep -q ' reply.yaml$' tuned/.complete
"$s2s" reply -m tuned --responses responses.tsv -i test.txt --lambda 0.7 > l1.jsonl 2>/dev/null
check "lambda 0.7: the batch job runs" [ $? -eq 0 ]
"$s2s" reply -m tuned --responses responses.tsv -i test.txt --lambda 0.7 --exhaustive > l2.jsonl 2>/dev/null
check "lambda 0.7: trie search == forced decoding of every response" same_records l1.jsonl l2.jsonl
"$s2s" reply -m tuned --responses responses.tsv -i test.txt --lambda 0 > l0.jsonl 2>/dev/null
check "lambda 0 gives the ranking of a folder without reply.yaml" same_records t1.jsonl l0.jsonl
printf 'lambda: [1, 2]\n' > tuned/reply.yaml
"$s2s" reply -m tuned --responses responses.tsv -i test.txt -o never2.jsonl >/dev/null 2>err3.txt
check "a malformed reply.yaml: exit 1, no output" [ $? -eq 1 -a ! -e never2.jsonl ]
check "a malformed reply.yaml: the error names it" grep -q "reply.yaml" err3.txt

echo "reply_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
