#!/usr/bin/env bash
# End-to-end test of `s2s serve` through the real binary, on loopback only (127.0.0.1): every
# endpoint with a translation, a caption and a reply model side by side, answers equal to the
# CLI's (translate, caption, reply), 64 concurrent clients decoded in shared batches with the
# CLI's outputs, every refusal with its status (413, 400 naming the field, invalid UTF-8, 404,
# 405, 503 + Retry-After, 504), a client that leaves costing no decode, the server still serving
# after all of them, SIGTERM draining the request in flight and exiting 0; the training runs
# under --runs with their learning curves (/v1/runs) and `s2s plot`.
# Usage: serve_test.sh PATH_TO_S2S PATH_TO_S2S_SERVE_LOAD
set -u
s2s=$1
load=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/check_lib.sh"
. "$here/serve_fixture.sh"

start_server main
check "server listens (port file written)" [ -n "$port" ]

# ---- the endpoints ----------------------------------------------------------------------------
status=$(curl -s -o out.json -w '%{http_code}' "http://127.0.0.1:$port/healthz")
check "GET /healthz: 200 ok" [ "$status" = 200 ]
check "healthz says ok" [ "$(field "j['status']")" = ok ]
status=$(curl -s -o out.json -w '%{http_code}' "http://127.0.0.1:$port/v1/models")
check "GET /v1/models: 200" [ "$status" = 200 ]
check "models: three, with their kinds" [ "$(field "' '.join(m['name'] + ':' + m['kind'] for m in j['models'])")" = "digits:translation squares:caption replies:reply" ]

"$s2s" translate -m digits/model -i test.src -o cli.txt 2>/dev/null
check "s2s translate exits 0" [ $? -eq 0 ]
post /v1/translate "$($py -c "import json; print(json.dumps({'model': 'digits', 'text': open('test.src').read().splitlines()}))")"
check "POST /v1/translate (80 lines): 200" [ "$status" = 200 ]
field "'\n'.join(t['text'] for t in j['translations'])" > served.txt
check "80 translations equal s2s translate's" cmp -s served.txt cli.txt
post /v1/translate '{"text": ["1 2 3 4"], "beam": 4, "n_best": 3, "alignment": "soft"}'
check "n_best 3: 3 hypotheses, best first" [ "$(field "len(j['translations'][0]['n_best'])")" = 3 ]
check "alignment: a soft row and a hard index per target piece" [ "$(field "int(len(j['translations'][0]['alignment']['soft']) == len(j['translations'][0]['alignment']['target']) == len(j['translations'][0]['alignment']['hard']) + 1)")" = 1 ]

"$s2s" caption -m squares/model --format jsonl data/test/000.png data/test/005.png >cli_caption.jsonl 2>/dev/null
check "s2s caption exits 0" [ $? -eq 0 ]
$py -c "import json; print(json.dumps({'images': [__import__('base64').b64encode(open(p, 'rb').read()).decode() for p in ['data/test/000.png', 'data/test/005.png']], 'attention_png': True}))" > caption.json
post /v1/caption @caption.json
check "POST /v1/caption (base64 JSON): 200" [ "$status" = 200 ]
check "captions equal s2s caption's" [ "$(field "'|'.join(c['text'] for c in j['captions'])")" = "$($py -c "import json; print('|'.join(json.loads(l)['caption'] for l in open('cli_caption.jsonl')))")" ]
check "attention: grid weights per word and a PNG overlay" [ "$(field "int(len(j['captions'][0]['attention']['weights']) == len(j['captions'][0]['words']) + 1 and __import__('base64').b64decode(j['captions'][0]['attention_png'])[:8] == b'\x89PNG\r\n\x1a\n')")" = 1 ]
status=$(curl -s -o out.json -w '%{http_code}' -F image=@data/test/005.png -F beam=2 "http://127.0.0.1:$port/v1/caption")
check "POST /v1/caption (multipart upload): 200" [ "$status" = 200 ]
check "multipart caption equals the CLI's" [ "$(field "j['captions'][0]['text']")" = "$($py -c "import json; print(json.loads(open('cli_caption.jsonl').readlines()[1])['caption'])")" ]
post /v1/caption '{"images": ["aGVsbG8gd29ybGQ="]}'
check "an upload that is no image: its own error, named by its place" [ "$(field "int('images[0]' in j['captions'][0]['error'])")" = 1 ]

printf '3 2 1\n9 9\n' | "$s2s" reply -m digits/model --responses responses.tsv >cli_reply.jsonl 2>/dev/null
post /v1/reply '{"messages": ["3 2 1", "9 9"], "k": 3}'
check "POST /v1/reply: 200" [ "$status" = 200 ]
check "suggestions equal s2s reply's" [ "$(field "'|'.join(','.join(r['text'] for r in s['replies']) for s in j['suggestions'])")" = "$($py -c "import json; print('|'.join(','.join(s['text'] for s in json.loads(l)['suggestions']) for l in open('cli_reply.jsonl')))")" ]

# ---- training visible: the runs under --runs, their log.jsonl, and `s2s plot` ------------------
status=$(curl -s -o out.json -w '%{http_code}' "http://127.0.0.1:$port/v1/runs")
check "GET /v1/runs: 200" [ "$status" = 200 ]
check "runs: digits and squares with their tasks and last steps" [ "$(field "' '.join('%s:%s:%d' % (r['name'], r['task'], r['step']) for r in j['runs'])")" = "digits:translate:400 squares:caption:300" ]
check "  digits' best BLEU from its validations" [ "$(field "int(j['runs'][0]['score_name'] == 'bleu' and j['runs'][0]['has_model'])")" = 1 ]
status=$(curl -s -o out.json -w '%{http_code}' "http://127.0.0.1:$port/v1/runs/log?run=digits")
check "GET /v1/runs/log?run=digits: 200" [ "$status" = 200 ]
check "  8 progress records (every 50 steps) and 4 validations" [ "$(field "'%d %d' % (sum(r['kind'] == 'progress' for r in j['records']), sum(r['kind'] == 'validation' for r in j['records']))")" = "8 4" ]
check "  the loss falls" [ "$(field "int([r['loss'] for r in j['records'] if r['kind'] == 'progress'][-1] < [r['loss'] for r in j['records'] if r['kind'] == 'progress'][0])")" = 1 ]
status=$(curl -s -o out.json -w '%{http_code}' "http://127.0.0.1:$port/v1/runs/log?run=../digits")
check "a run name that is not listed: 404" [ "$status" = 404 ]
status=$(curl -s -o out.json -w '%{http_code}' "http://127.0.0.1:$port/v1/runs/log")
check "no run named: 400" [ "$status" = 400 ]
"$s2s" plot digits squares -o curves.png 2>plot.err
check "s2s plot of two runs exits 0" [ $? -eq 0 ]
check "  and writes a PNG" [ "$(head -c 8 curves.png | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
"$s2s" plot data -o nothing.png 2>plot.err
check "s2s plot of a folder that is no run: exit 1" [ $? -eq 1 ]
check "  saying so, and no file left" [ "$(grep -c 'has no log.jsonl' plot.err)$(ls nothing.png 2>/dev/null)" = 1 ]
mkdir broken && printf 'not json\n{"kind":"progress","step":1}\n' > broken/log.jsonl
"$s2s" plot broken -o nothing.png 2>plot.err
check "a damaged run log: exit 1 naming file:line" grep -q 'broken/log.jsonl:1' plot.err

# ---- 64 concurrent clients: shared batches, the CLI's outputs ----------------------------------
"$load" --port "$port" --input test.src --clients 64 --requests 5 --output load.txt >load.log 2>&1
check "64 clients x 5 requests: no error ($(cat load.log))" [ $? -eq 0 ]
for _ in 1 2 3 4; do cat cli.txt; done > cli320.txt
check "320 concurrent answers equal s2s translate's" cmp -s load.txt cli320.txt
curl -s "http://127.0.0.1:$port/metrics" > metrics.txt
mean=$(awk '/^s2s_batch_items_sum\{model="digits"\}/ { s = $2 } /^s2s_batch_items_count\{model="digits"\}/ { c = $2 } END { printf "%.1f", s / c }' metrics.txt)
check "requests shared batches (mean batch $mean lines > 2)" awk -v m="$mean" 'BEGIN { exit !(m > 2) }'
check "metrics: requests by endpoint and status" grep -q '^s2s_requests_total{endpoint="/v1/translate",status="200"}' metrics.txt
check "metrics: latency histogram" grep -q '^s2s_request_duration_seconds_bucket{endpoint="/v1/translate",le="+Inf"}' metrics.txt
check "metrics: queue depth per model" grep -q '^s2s_queue_items{model="digits"} 0' metrics.txt

# ---- refusals: each with its status, the server serving on --------------------------------------
post /v1/translate '{"text": ["1 2"'
check "malformed JSON: 400" [ "$status" = 400 ]
post /v1/translate '{"text": "1 2", "beam": "five"}'
check "wrong field type: 400 naming the field" [ "$status" = 400 ]
check "  message names beam" grep -q '\\"beam\\"' out.json
post /v1/translate '{"text": ["1 2", 3]}'
check "wrong element type: 400 naming text[1]" [ "$status" = 400 ]
check "  message names text[1]" grep -q 'text\\"\[1\]' out.json
post /v1/translate '{"text": "1 2", "bean": 3}'
check "unknown field: 400" [ "$status" = 400 ]
printf '{"text": ["1 \xff 2"]}' > bad_utf8.json
post /v1/translate @bad_utf8.json
check "invalid UTF-8: 400" [ "$status" = 400 ]
check "  message says UTF-8" grep -q 'UTF-8' out.json
post /v1/translate '{"text": "1 2", "model": "nope"}'
check "unknown model: 404" [ "$status" = 404 ]
post /v1/translate '{"text": "1 2", "model": "squares"}'
check "a caption model on /v1/translate: 400" [ "$status" = 400 ]
post /v1/nothing '{}'
check "unknown endpoint: 404" [ "$status" = 404 ]
status=$(curl -s -o out.json -w '%{http_code}' "http://127.0.0.1:$port/v1/translate")
check "GET on a POST endpoint: 405" [ "$status" = 405 ]
head -c 17000000 /dev/zero | tr '\0' 'x' > big.txt
post /v1/translate @big.txt
check "a 17 MB body: 413" [ "$status" = 413 ]
$py -c "import json; print(json.dumps({'text': ['1'] * 300}))" > many.json
post /v1/translate @many.json
check "300 lines (over --max-lines 256): 413" [ "$status" = 413 ]
post /v1/translate '{"text": ["1 2 3"]}'
check "still serving after the refusals" [ "$status" = 200 ]
check "  with the right answer" [ "$(field "j['translations'][0]['text']")" = "3 2 1" ]
kill -0 "$server" 2>/dev/null
check "the server process is alive" [ $? -eq 0 ]

kill -TERM "$server"
wait "$server"
check "the first server stops with 0" [ $? -eq 0 ]

# A second server whose short batches wait 400 ms for company, with a queue of 4 lines: a
# request waits in the queue long enough to fill it, pass its deadline, or lose its client.
start_server slow --max-wait-ms 400 --max-queue 4
check "second server listens" [ -n "$port" ]
post /v1/translate '{"text": "1 2", "deadline_ms": 50}'
check "deadline passed in the queue: 504" [ "$status" = 504 ]
curl -s -o /dev/null -X POST --data-binary '{"text": ["1", "2", "3", "4"]}' "http://127.0.0.1:$port/v1/translate" &
filler=$!
sleep 0.1
status=$(curl -s -o out.json -D headers.txt -w '%{http_code}' -X POST --data-binary '{"text": ["5"]}' "http://127.0.0.1:$port/v1/translate")
check "full queue: 503" [ "$status" = 503 ]
check "  with Retry-After" grep -qi '^Retry-After: [0-9]' headers.txt
wait "$filler"
before=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^s2s_batched_requests_total\{model="digits"\}/ { print $2 }')
curl -s -o /dev/null --max-time 0.15 -X POST --data-binary '{"text": ["7 7 7"]}' "http://127.0.0.1:$port/v1/translate"
check "a client that leaves: curl gives up (exit 28)" [ $? -eq 28 ]
sleep 0.6
curl -s "http://127.0.0.1:$port/metrics" > metrics2.txt
after=$(awk '/^s2s_batched_requests_total\{model="digits"\}/ { print $2 }' metrics2.txt)
check "its request was never decoded (batched requests $before -> $after)" [ "$before" = "$after" ]
check "  and was counted as closed by the client (499)" grep -q 'status="499"} 1' metrics2.txt

# ---- SIGTERM drains: the request in flight is answered, new ones refused, exit 0 ----------------
$py -c "import json; print(json.dumps({'text': ['1 2 3 4 5 6 7 8'] * 200, 'beam': 16}))" > long.json
curl -s -o drained.json -w '%{http_code}' -X POST --data-binary @long.json "http://127.0.0.1:$port/v1/translate" >drained.status &
client=$!
sleep 0.2
kill -TERM "$server"
wait "$server"
code=$?
wait "$client"
check "SIGTERM: exit 0 (got $code)" [ "$code" -eq 0 ]
check "the request in flight was answered: 200" [ "$(cat drained.status)" = 200 ]
check "  with its 200 translations" [ "$($py -c "import json; print(len(json.load(open('drained.json'))['translations']))")" = 200 ]
check "the server said it drained" grep -q "draining" slow.log
curl -s -o /dev/null "http://127.0.0.1:$port/healthz"
check "then the port is closed" [ $? -ne 0 ]

echo "serve_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
