# Sourced by serve_test.sh and web_page_test.sh (after check_lib.sh, in its scratch folder, with
# $s2s and $here set): trains the tiny models the server tests serve — digit reversal
# (translation, with validations so its run has learning curves; also a reply model with a
# response set) and squares (caption) — and defines start_server, post and field.
py=/usr/bin/python3
servers=()
cleanup_servers() { for p in "${servers[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap 'cleanup_servers; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

# ---- models: digit reversal (translation, and reply with a response set), squares (caption) ----
digit_pairs 1000 1 8 > train.tsv
digit_pairs 80 3 8 | cut -f1 > test.src
digit_pairs 40 5 8 > dev.tsv
cat > digits.yaml <<'YAML'
data: {train: train.tsv, valid: dev.tsv, batch_tokens: 256, max_length: 20}
vocab: {size: 16}
encoder: {embed_size: 16, hidden_size: 32, layers: 1, dropout: 0.0}
decoder: {embed_size: 16, hidden_size: 32, dropout: 0.0}
train: {max_steps: 400, valid_every: 100, log_every: 50, learning_rate: 0.01, warmup_steps: 20,
        label_smoothing: 0.0, patience: 0}
YAML
"$s2s" train -r digits.yaml -o digits >train.log 2>&1
check "digit model trains" [ $? -eq 0 ]
$py "$here/make_caption_images.py" data >/dev/null
cp "$here/data/tiny_caption.yaml" squares.yaml
"$s2s" train -r squares.yaml -o squares >caption_train.log 2>&1
check "caption model trains" [ $? -eq 0 ]
printf '1 2 3\tcount-up\t-0.5\n3 2 1\tcount-down\t-1.2\n4 4\tpair\t-1.6\n5\tone\t-2.0\n' > responses.tsv

start_server() {  # start_server NAME ARGS...: starts s2s serve, waits for its port in $port
  local name=$1; shift
  rm -f "$name.port"
  "$s2s" serve -m digits=digits/model -m squares=squares/model -m replies=digits/model \
    --responses replies=responses.tsv --runs . --port 0 --port-file "$name.port" "$@" >"$name.log" 2>&1 &
  server=$!
  servers+=("$server")
  for _ in $(seq 300); do [ -s "$name.port" ] && break; sleep 0.1; done
  port=$(cat "$name.port" 2>/dev/null)
}
post() {  # post PATH JSON -> body in out.json, status in $status
  status=$(curl -s -o out.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "$2" "http://127.0.0.1:$port$1")
}
field() {  # field PYTHON_EXPRESSION_OF_j: prints it for the JSON in out.json
  $py -c "import json, sys; j = json.load(open('out.json')); print($1)"
}

