#!/usr/bin/env bash
# The web page of `s2s serve` in headless Chromium (Debian's chromium), against a real server on
# 127.0.0.1 with a translation, a caption and a reply model and the runs of their training:
# each tab loads, a text typed into the form (the page's ?text= link fills and submits it as a
# person would) comes back translated with its alignment heat map, an image comes back captioned
# with its attention overlay, a message gets its three suggested replies, and the runs tab draws
# the learning curves. Each page is also a screenshot that must not be blank.
# Skips (exit 77) only where chromium is not installed. Usage: web_page_test.sh PATH_TO_S2S
set -u
s2s=$1
here=$(cd "$(dirname "$0")" && pwd)
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (scripts/install-deps.sh installs Debian's chromium)"
  exit 77
fi
. "$here/check_lib.sh"
. "$here/serve_fixture.sh"

start_server page
check "server listens" [ -n "$port" ]
base="http://127.0.0.1:$port"

# browse NAME QUERY: the page's DOM after its scripts ran (virtual time lets fetches finish), and
# its screenshot in NAME.png.
browse() {
  local name=$1 query=$2
  local flags=(--headless=new --no-sandbox --disable-gpu --no-first-run --no-default-browser-check
               --user-data-dir="$work/chromium-$name" --virtual-time-budget=8000
               --window-size=1100,760 --hide-scrollbars)
  timeout 60 "$chromium" "${flags[@]}" --dump-dom "$base/$query" >"$name.html" 2>"$name.chromium.log"
  check "$name: chromium loads the page (exit 0)" [ $? -eq 0 ]
  timeout 60 "$chromium" "${flags[@]}" --screenshot="$work/$name.png" "$base/$query" \
    >>"$name.chromium.log" 2>&1
  check "$name: chromium takes a screenshot" [ -s "$name.png" ]
  # Not blank: a PNG of many colours (text, heat map, chart lines), decoded with the stdlib.
  colours=$($py "$here/png_decode.py" colours "$name.png")
  check "$name: the screenshot is not blank ($colours colours)" [ "${colours:-0}" -gt 20 ]
}
dom() {  # dom NAME PYTHON_EXPRESSION_OF_d: evaluates it on NAME.html's text
  $py -c "import re, sys; d = open('$1.html').read(); print($2)"
}

"$s2s" translate -m digits/model -o cli.txt <<<'1 2 3 4' 2>/dev/null
browse translate '?tab=translate&text=1%202%203%204'
check "translate: the page says translated" [ "$(dom translate "int('data-state=\"translated\"' in d)")" = 1 ]
check "translate: the translation is the CLI's ($(cat cli.txt))" [ "$(dom translate "re.search(r'id=\"translate-output\"[^>]*><p>([^<]*)</p>', d).group(1)")" = "$(cat cli.txt)" ]
check "translate: an alignment heat map with a cell per target x source piece" [ "$(dom translate "int(d.count('rgba(47, 111, 214') >= 16)")" = 1 ]

image=$($py -c "import base64; print('data:image/png;base64,' + base64.b64encode(open('data/test/005.png', 'rb').read()).decode())")
"$s2s" caption -m squares/model data/test/005.png -o cli_caption.tsv 2>/dev/null
browse caption "?tab=caption&image=$($py -c "import urllib.parse, sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$image")"
check "caption: the page says captioned" [ "$(dom caption "int('data-state=\"captioned\"' in d)")" = 1 ]
check "caption: the caption is the CLI's" [ "$(dom caption "re.search(r'id=\"caption-output\"[^>]*>([^<]*)<', d).group(1)")" = "$(cut -f2 cli_caption.tsv)" ]
check "caption: a word to point at per caption word" [ "$(dom caption "re.search(r'id=\"caption-words\"[^>]*>(.*?)</div>', d, re.S).group(1).count('<span')")" = "$(cut -f2 cli_caption.tsv | wc -w)" ]

browse reply '?tab=reply&text=3%202%201'
check "reply: the page says replied" [ "$(dom reply "int('data-state=\"replied\"' in d)")" = 1 ]
check "reply: three suggested replies" [ "$(dom reply "len(re.findall(r'<div title=\"log P', re.search(r'id=\"reply-output\".*?</section>', d, re.S).group(0)))")" = 3 ]

browse runs '?tab=runs'
check "runs: the page says charted" [ "$(dom runs "int('data-state=\"charted\"' in d)")" = 1 ]
check "runs: a card per run (digits, squares)" [ "$(dom runs "len(re.findall(r'class=\"run\"', d))")" = 2 ]
check "runs: digits' loss chart has its 8 points, its BLEU chart 4" [ "$(dom runs "' '.join(re.findall(r'data-points=\"(\d+)\"', d)[:2])")" = "8 4" ]
check "runs: squares (no validation set) has an empty score chart" [ "$(dom runs "' '.join(re.findall(r'data-points=\"(\d+)\"', d)[2:4])")" = "3 0" ]
browse runs_time '?tab=runs&axis=time'
check "runs by training time: charted" [ "$(dom runs_time "int('data-state=\"charted\"' in d)")" = 1 ]

kill -TERM "$server"
wait "$server"
check "the server stops with 0" [ $? -eq 0 ]
if [ -n "${SCREENSHOTS:-}" ]; then mkdir -p "$SCREENSHOTS" && cp ./*.png "$SCREENSHOTS"/; fi
echo "web_page_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
