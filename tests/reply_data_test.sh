#!/usr/bin/env bash
# End-to-end test of `s2s reply-data extract|split|responses|baseline|pretraining|training`
# through the real binary, on a tiny mbox, JSON records and Brown-corpus-like files made here.
# Usage: reply_data_test.sh PATH_TO_S2S
set -u
s2s=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
d=$(mktemp -d /tmp/s2s_reply_data.XXXXXX)
trap 'rm -rf "$d"' EXIT
expect_exit() {  # expect_exit CODE DESCRIPTION -- COMMAND...
  local want=$1 what=$2; shift 3
  "$@" >"$d/out" 2>"$d/err"; local got=$?
  [ "$got" -eq "$want" ] || fail "$what: exit $got, expected $want: $(head -3 "$d/err")"
}

# Eight replies (one with a tab and a backslash, one quoted-printable, one in an Outlook block), a
# message that quotes nothing, a forward, and a ">From " line to unquote.
{
  for who in ann bob cat; do
    printf 'From %s@example.org Mon Sep  2 10:00:00 2002\nFrom: %s@example.org\nSubject: Re: meeting\n\n' "$who" "$who"
    printf 'Joe wrote:\n> Can we meet on Friday at 10, %s?\n\nSounds good!\n\n-- \n%s\n\n' "$who" "$who"
  done
  printf 'From dan@example.org Mon Sep  2 11:00:00 2002\nSubject: Re: meeting\n\n> Can we meet on Friday?\n\nsounds   good\n\n'
  printf 'From eve@example.org Mon Sep  2 12:00:00 2002\nSubject: Re: x\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n'
  printf 'On Mon, 2 Sep 2002, Joe wrote:\n> Is the build broken, R=E9my?\n\nYes, sorry.\n\n'
  printf 'From fay@example.org Mon Sep  2 13:00:00 2002\nSubject: Re: path\n\n> Which path?\n\nUse C:\\temp\tor D:\\tmp\n>From here on it works.\n\n'
  printf 'From gus@example.org Mon Sep  2 14:00:00 2002\nSubject: Re: lunch\n\nYes, sorry.\n\n-----Original Message-----\nFrom: Joe\nSent: Monday\n\nLunch?\n\n'
  printf 'From hal@example.org Mon Sep  2 15:00:00 2002\nSubject: news\n\nNothing quoted here.\n\n'
  printf 'From ivy@example.org Mon Sep  2 16:00:00 2002\nSubject: Fwd: news\n\n> forwarded text\n\nfyi\n'
} > "$d/box.mbox"
mkdir -p "$d/json"
printf '{"id":"1","group":"easy-ham-1","text":"Subject: Re: a\\n\\n> Ready?\\n\\nSounds good.\\n"}' > "$d/json/1.json"
printf '{"id":"2","group":"spam-1","text":"Subject: Re: money\\n\\n> win\\n\\nBuy now!\\n"}' > "$d/json/2.json"
printf '{"id":"3", "text": ' > "$d/json/3.json"

expect_exit 0 "extract" -- "$s2s" reply-data extract "$d/box.mbox" --input "$d/json" -o "$d/pairs.tsv" --sources "$d/src.txt"
[ "$(wc -l <"$d/pairs.tsv")" -eq 8 ] || fail "extract: expected 8 pairs, got $(wc -l <"$d/pairs.tsv"): $(cat "$d/err")"
[ "$(wc -l <"$d/src.txt")" -eq 8 ] || fail "extract: --sources is not one line per pair"
grep -q "^$d/box.mbox:1$" "$d/src.txt" || fail "extract: sources do not name the mbox line"
grep -q "12 messages, 8 pairs kept" "$d/err" || fail "extract summary: $(cat "$d/err")"
for reason in "non-ham: 1" "unreadable: 1" "no-quote: 1" "forwarded: 1"; do
  grep -q "$reason" "$d/err" || fail "extract: summary lacks '$reason'"
done
awk -F'\t' 'NF != 2 { bad = 1 } END { exit bad }' "$d/pairs.tsv" || fail "extract: a line without exactly 2 fields"
grep -qF 'Use C:\\temp\tor D:\\tmp\nFrom here on it works.' "$d/pairs.tsv" || fail "extract: tab/backslash/>From not escaped as documented: $(sed -n 6p "$d/pairs.tsv")"
grep -q "Is the build broken, Rémy?" "$d/pairs.tsv" || fail "extract: quoted-printable latin-1 not decoded"
grep -q "^Lunch?	Yes, sorry.$" "$d/pairs.tsv" || fail "extract: Outlook block pair missing"
grep -q "Sounds good!" "$d/pairs.tsv" && grep -q "^Can we meet on Friday at 10, ann?	Sounds good!$" "$d/pairs.tsv" || fail "extract: signature not stripped"

expect_exit 0 "responses" -- "$s2s" reply-data responses -i "$d/pairs.tsv" -o "$d/responses.tsv" --min-count 2
grep -v '^#' "$d/responses.tsv" > "$d/body"
[ "$(wc -l <"$d/body")" -eq 2 ] || fail "responses: expected 2 responses: $(cat "$d/responses.tsv")"
head -1 "$d/body" | grep -q "^Sounds good!	Sounds good!	-0.336" || fail "responses: first line $(head -1 "$d/body")"
grep -q "^Yes, sorry.	Yes, sorry.	" "$d/body" || fail "responses: no 'Yes, sorry.'"
expect_exit 0 "baseline" -- "$s2s" reply-data baseline -i "$d/pairs.tsv" --responses "$d/responses.tsv" --k 1
grep -q "^pairs: 8$" "$d/out" || fail "baseline: $(cat "$d/out")"
grep -q "^recall@1 (all pairs): 0.625$" "$d/out" && grep -q "^recall@1 (mapped): 0.714" "$d/out" || fail "baseline recall: $(cat "$d/out")"

# Intents: hand-seeded, spread by label propagation; responses reaching none are dropped.
printf '# reviewed\nagree\tSounds good\nagree\tSounds fine to me\nsorry\tSorry.\nsorry\tMy bad, sorry\n' > "$d/intents.tsv"
expect_exit 0 "responses --intents" -- "$s2s" reply-data responses -i "$d/pairs.tsv" -o "$d/intents.responses" --min-count 1 --intents "$d/intents.tsv"
# Priors renormalised over the kept responses: ln(5/7), not ln(5/8).
grep -q "^Sounds good!	agree	-0.336472$" "$d/intents.responses" || fail "responses --intents: 'Sounds good!' not in agree: $(cat "$d/intents.responses")"
grep -q "^Yes, sorry.	sorry	" "$d/intents.responses" || fail "responses --intents: 'Yes, sorry.' did not reach sorry: $(cat "$d/intents.responses")"
grep -q "^Use C:" "$d/intents.responses" && fail "responses --intents: a response of no intent was kept"
grep -q "intents: 2 of 3 responses reach one of 2 (1 seeds among the responses, 3 not)" "$d/err" || fail "responses --intents summary: $(cat "$d/err")"
printf 'agree\tSounds good\nagree\tSOUNDS GOOD!\n' > "$d/intents.bad"
expect_exit 1 "responses with a seed twice" -- "$s2s" reply-data responses -i "$d/pairs.tsv" -o "$d/intents.r2" --min-count 1 --intents "$d/intents.bad"
grep -q "intents.bad:2: response 'SOUNDS GOOD!' is seeded on line 1" "$d/err" || fail "bad intents file: $(cat "$d/err")"
[ -e "$d/intents.r2" ] && fail "responses --intents: partial output left behind"
printf 'thanks\tThanks a lot\n' > "$d/intents.none"
expect_exit 1 "responses when no response reaches an intent" -- "$s2s" reply-data responses -i "$d/pairs.tsv" -o "$d/intents.r3" --min-count 1 --intents "$d/intents.none"
grep -q "no response of .* reaches an intent" "$d/err" || fail "no intent reached: $(cat "$d/err")"
[ -e "$d/intents.r3" ] && fail "responses --intents: output left behind when no response reached an intent"
expect_exit 2 "bad intent share" -- "$s2s" reply-data responses -i "$d/pairs.tsv" -o "$d/intents.r4" --intents "$d/intents.tsv" --intent-share 0

# Threads: replies linked by Message-ID / In-Reply-To / References (or quoting the same text)
# share a thread key; split keeps a thread on one side.
{
  printf 'From a@x Mon Sep  2 10:00:00 2002\nMessage-ID: <a@x>\nIn-Reply-To: <root@x>\nSubject: Re: q\n\n> Is it fixed?\n\nYes.\n\n'
  printf 'From b@x Mon Sep  2 11:00:00 2002\nMessage-ID: <b@x>\nReferences: <root@x>\n <a@x>\nSubject: Re: q\n\n> Yes.\n\nThanks!\n\n'
  printf 'From c@y Mon Sep  2 12:00:00 2002\nMessage-ID: <c@y>\nIn-Reply-To: <other@y>\nSubject: Re: z\n\n> Lunch at noon?\n\nSure.\n\n'
  printf 'From d@z Mon Sep  2 13:00:00 2002\nSubject: Re: z\n\n> Lunch  at noon?\n\nNo, at one.\n\n'
} > "$d/threads.mbox"
expect_exit 0 "extract --threads" -- "$s2s" reply-data extract "$d/threads.mbox" -o "$d/tp.tsv" --threads "$d/tp.threads"
[ "$(wc -l <"$d/tp.threads")" -eq 4 ] || fail "extract --threads: not one key per pair: $(cat "$d/tp.threads")"
[ "$(sed -n 1p "$d/tp.threads")" = "<a@x>" ] && [ "$(sed -n 2p "$d/tp.threads")" = "<a@x>" ] ||
  fail "extract --threads: a reply and its reply are not one thread: $(cat "$d/tp.threads")"
[ "$(sed -n 3p "$d/tp.threads")" = "$(sed -n 4p "$d/tp.threads")" ] ||
  fail "extract --threads: two replies quoting the same text are not one thread"
[ "$(sed -n 1p "$d/tp.threads")" != "$(sed -n 3p "$d/tp.threads")" ] || fail "extract --threads: all one thread"
# 300 pairs in 60 threads: every thread on one side, shares near 50/10/40, reproducible.
awk 'BEGIN { for (i = 0; i < 300; ++i) printf "message %d of thread %d\treply %d\n", i, i % 60, i }' > "$d/many.tsv"
awk 'BEGIN { for (i = 0; i < 300; ++i) printf "<t%d@x>\n", i % 60 }' > "$d/many.threads"
expect_exit 0 "split" -- "$s2s" reply-data split -i "$d/many.tsv" --threads "$d/many.threads" -o "$d/split" --dev 10 --test 40
grep -q "^test: [0-9]* pairs in [0-9]* threads$" "$d/out" || fail "split: no counts: $(cat "$d/out")"
[ "$(cat "$d/split/train.tsv" "$d/split/dev.tsv" "$d/split/test.tsv" | sort | md5sum)" = "$(sort "$d/many.tsv" | md5sum)" ] ||
  fail "split: the three files are not the pairs"
for split in train dev test; do
  sed 's/.* of thread \([0-9]*\)\t.*/\1/' "$d/split/$split.tsv" | sort -u > "$d/$split.ids"
done
[ -z "$(comm -12 "$d/train.ids" "$d/test.ids")$(comm -12 "$d/train.ids" "$d/dev.ids")$(comm -12 "$d/dev.ids" "$d/test.ids")" ] ||
  fail "split: a thread on two sides"
[ "$(wc -l <"$d/split/test.tsv")" -ge 60 ] && [ "$(wc -l <"$d/split/test.tsv")" -le 180 ] ||
  fail "split: test has $(wc -l <"$d/split/test.tsv") of 300 pairs for a 40% share"
cp "$d/split/test.tsv" "$d/test.first"
expect_exit 0 "split again" -- "$s2s" reply-data split -i "$d/many.tsv" --threads "$d/many.threads" -o "$d/split"
cmp -s "$d/test.first" "$d/split/test.tsv" || fail "split: not reproducible"
head -299 "$d/many.threads" > "$d/short.threads"
expect_exit 1 "split with a thread file one line short" -- "$s2s" reply-data split -i "$d/many.tsv" --threads "$d/short.threads" -o "$d/split2"
grep -q "short.threads.*fewer lines" "$d/err" || fail "split, short thread file: $(cat "$d/err")"
[ -e "$d/split2/train.tsv" ] && fail "split: partial output left behind"
expect_exit 2 "split with shares over 100" -- "$s2s" reply-data split -i "$d/many.tsv" --threads "$d/many.threads" -o "$d/split3" --dev 70 --test 40

# Pretraining pairs: next sentences of the pairs' texts and of Brown corpus files.
printf 'First line here. Second one follows.\\n\\nA new paragraph.\tAnd its reply. Which goes on.\n' > "$d/pre.tsv"
mkdir -p "$d/brown"
printf '\n\n\tThe/at jury/nn said/vbd ./.\n\n\n\tIt/pps was/bedz late/jj ./.\n' > "$d/brown/ca01"
printf 'not a corpus file\n' > "$d/brown/README"
expect_exit 0 "pretraining" -- "$s2s" reply-data pretraining -i "$d/pre.tsv" --brown "$d/brown" -o "$d/pretrain.tsv"
grep -q "^First line here.	Second one follows.$" "$d/pretrain.tsv" || fail "pretraining: no sentence pair: $(cat "$d/pretrain.tsv")"
grep -q "^First line here. Second one follows.	A new paragraph.$" "$d/pretrain.tsv" || fail "pretraining: no paragraph pair"
grep -q "^And its reply.	Which goes on.$" "$d/pretrain.tsv" || fail "pretraining: the reply's text is not used"
grep -q "^The jury said.	It was late.$" "$d/pretrain.tsv" || fail "pretraining: no Brown pair: $(cat "$d/pretrain.tsv")"
[ "$(wc -l <"$d/pretrain.tsv")" -eq 4 ] || fail "pretraining: expected 4 pairs: $(cat "$d/pretrain.tsv")"
# The reply's sentences after its message, and sentences in their context.
expect_exit 0 "pretraining --reply-sentences --in-context-percent 100" -- "$s2s" reply-data pretraining -i "$d/pre.tsv" -o "$d/pretrain2.tsv" --reply-sentences --in-context-percent 100
grep -q "^First line here. Second one follows. A new paragraph.	Which goes on.$" "$d/pretrain2.tsv" || fail "pretraining: no message -> reply sentence pair: $(cat "$d/pretrain2.tsv")"
grep -q "^First line here. Second one follows.	Second one follows.$" "$d/pretrain2.tsv" || fail "pretraining: no sentence-in-context pair: $(cat "$d/pretrain2.tsv")"
[ "$(wc -l <"$d/pretrain2.tsv")" -eq 10 ] || fail "pretraining: expected 3 + 2 + 3 + 2 pairs: $(cat "$d/pretrain2.tsv")"
grep -q "2 message -> reply sentence pairs; 5 of them sentences in their context" "$d/err" || fail "pretraining summary: $(cat "$d/err")"
expect_exit 2 "pretraining --in-context-percent 101" -- "$s2s" reply-data pretraining -i "$d/pre.tsv" -o "$d/pretrain3.tsv" --in-context-percent 101
mkdir -p "$d/empty"
expect_exit 1 "pretraining with a folder without Brown files" -- "$s2s" reply-data pretraining --brown "$d/empty" -o "$d/pre2.tsv"
grep -q "empty.*no Brown corpus files" "$d/err" || fail "pretraining, empty folder: $(cat "$d/err")"
[ -e "$d/pre2.tsv" ] && fail "pretraining: partial output left behind"
printf '\tbad/nn \xff/nn\n' > "$d/brown/ca02"
expect_exit 1 "pretraining on invalid UTF-8" -- "$s2s" reply-data pretraining --brown "$d/brown" -o "$d/pre3.tsv"
grep -q "ca02:1: invalid UTF-8" "$d/err" || fail "pretraining, invalid UTF-8: $(cat "$d/err")"
expect_exit 2 "pretraining without input" -- "$s2s" reply-data pretraining -o "$d/pre4.tsv"

# Training pairs with the prior: every target once more after "(no message)" at 100%.
expect_exit 0 "training --prior-percent 100" -- "$s2s" reply-data training -i "$d/pairs.tsv" -o "$d/train.pairs" --prior-percent 100
[ "$(grep -c '^(no message)	' "$d/train.pairs")" -eq 8 ] && [ "$(wc -l <"$d/train.pairs")" -eq 16 ] ||
  fail "training --prior-percent 100: $(cat "$d/train.pairs")"
expect_exit 2 "training --prior-percent 101" -- "$s2s" reply-data training -i "$d/pairs.tsv" -o "$d/t2" --prior-percent 101

# Bad input: one line on stderr, exit 1 (input) or 2 (usage), no partial output.
printf 'Sounds good\tc\t0.5\n' > "$d/bad.tsv"
expect_exit 1 "baseline on a bad response file" -- "$s2s" reply-data baseline -i "$d/pairs.tsv" --responses "$d/bad.tsv"
grep -q "bad.tsv:1: prior must be" "$d/err" || fail "bad response file: $(cat "$d/err")"
[ "$(wc -l <"$d/err")" -eq 1 ] || fail "bad response file: not one line on stderr"
printf 'no tab here\n' > "$d/notab.tsv"
expect_exit 1 "responses on a line without a tab" -- "$s2s" reply-data responses -i "$d/notab.tsv" -o "$d/r2.tsv"
grep -q "notab.tsv:1: expected message<TAB>reply" "$d/err" || fail "no tab: $(cat "$d/err")"
[ -e "$d/r2.tsv" ] && fail "responses: partial output left behind"
expect_exit 1 "extract on a missing path" -- "$s2s" reply-data extract "$d/missing" -o "$d/p2.tsv"
[ -e "$d/p2.tsv" ] && fail "extract: partial output left behind"
expect_exit 2 "unknown mode" -- "$s2s" reply-data frobnicate
expect_exit 2 "bad format" -- "$s2s" reply-data extract "$d/box.mbox" --format maildir -o "$d/p3.tsv"
expect_exit 2 "bad similarity" -- "$s2s" reply-data responses -i "$d/pairs.tsv" -o "$d/r3.tsv" --similarity 2
expect_exit 0 "help" -- "$s2s" reply-data --help

if [ "$failures" -eq 0 ]; then echo "reply_data_test: all passed"; else echo "reply_data_test: $failures failed"; exit 1; fi
