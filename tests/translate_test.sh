#!/usr/bin/env bash
# End-to-end tests of s2s translate (beam search) and s2s score through the real binary, on a
# briefly trained digit-reversal model: output independent of the batching, n-best scores equal
# to forced-decoding scores, ensembles, alignments, and bad input lines that fail alone.
# Usage: translate_test.sh PATH_TO_S2S
set -u
s2s=$1
. "$(cd "$(dirname "$0")" && pwd)/check_lib.sh"

# 800 steps: at 400 the model (loss 0.4) still misplaces a digit in one of the five alignment
# sentences below under some float summation orders (1 thread, or 2 workers); at 800 (loss
# 0.01-0.03) every thread and worker count gets all of them right.
train_digit_model 800
m=run/model

# 1. The output does not depend on the batching.
for b in 1 7 64; do "$s2s" translate -m $m -i test.src -o b$b.hyp --beam 5 --batch-size $b 2>/dev/null; done
"$s2s" translate -m $m -i test.src -o tok.hyp --beam 5 --batch-tokens 40 2>/dev/null
check "80 output lines" [ "$(wc -l <b1.hyp)" -eq 80 ]
check "batch 1 == batch 7" cmp -s b1.hyp b7.hyp
check "batch 1 == batch 64" cmp -s b1.hyp b64.hyp
check "batch 1 == --batch-tokens 40" cmp -s b1.hyp tok.hyp

# 2. n-best scores (raw log-probabilities with --normalize 0) equal what s2s score gives the same
# pieces (text would be re-segmented, perhaps into other pieces than the search chose).
"$s2s" translate -m $m -i test.src --beam 4 --n-best 4 --normalize 0 --scores --pieces > nbest.txt 2>/dev/null
check "n-best: exit 0" [ $? -eq 0 ]
check "n-best: 4 lines per input" [ "$(wc -l <nbest.txt)" -eq 320 ]
check "n-best: IDs 0..79 in order" [ "$(awk -F' [|][|][|] ' '{print $1}' nbest.txt | uniq | tr '\n' ' ')" = "$(seq 0 79 | tr '\n' ' ')" ]
awk -F' [|][|][|] ' 'NR == FNR { src[NR - 1] = $0; next } { print src[$1] "\t" $2 }' test.src nbest.txt > pairs.tsv
"$s2s" score -m $m -i pairs.tsv --target-pieces > scored.txt 2>/dev/null
check "score: exit 0" [ $? -eq 0 ]
worst=$(paste -d'\t' <(awk -F' [|][|][|] ' '{print $3}' nbest.txt) <(cut -f1 scored.txt) |
  awk -F'\t' '{ d = $1 - $2; if (d < 0) d = -d; if (d > w) w = d } END { printf "%.6f", w + 0 }')
check "n-best scores == s2s score within 1e-4 (worst $worst)" awk -v w="$worst" 'BEGIN { exit !(w <= 1e-4) }'
check "n-best: scores non-increasing per input" awk -F' [|][|][|] ' '$1 == id && $3 > last + 1e-9 { bad = 1 } { id = $1; last = $3 } END { exit bad }' nbest.txt
check "score: per-piece log-probs add up to the total" awk -F'\t' '{ n = split($2, a, " "); s = 0; for (i = 1; i <= n; ++i) s += a[i]; d = s - $1; if (d < 0) d = -d; if (d > 1e-3) bad = 1 } END { exit bad }' scored.txt
cut -f1 pairs.tsv > p.src; cut -f2 pairs.tsv > p.tgt
"$s2s" score -m $m --source p.src --target p.tgt --target-pieces > scored2.txt 2>/dev/null
check "score: --source/--target == TSV" cmp -s scored.txt scored2.txt

# 3. Ensembles: a model with itself is the model.
"$s2s" translate -m $m -m $m -i test.src -o ens.hyp --beam 5 2>/dev/null
check "ensemble of a model with itself == the model" cmp -s b1.hyp ens.hyp

# 4. Alignments: one source position per output piece.
printf '1 2 3 4\n' | "$s2s" translate -m $m --alignment hard > hard.txt 2>/dev/null
check "hard alignment pairs" grep -Eq '^.* [|][|][|] ([0-9]+-[0-9]+ ?)+$' hard.txt
# Strict: every output digit attends most to the source word it copies, which on this task is
# the reverse diagonal (the k-th of n words out on the (n-1-k)-th word in). Words, not pieces:
# SentencePiece may cut "▁3" into "▁" "3", and attending to either half is right.
printf '1 2 3 4\n5 0 7\n9 8 7 6 5 4\n3 1\n2 7 4 9 0 6 8\n' > distinct.src
"$s2s" translate -m $m -i distinct.src --alignment hard --pieces > hard_pieces.txt 2>/dev/null
"$s2s" vocab encode -m $m/vocab.model -i distinct.src > distinct.pieces
reverse_diagonal() {
  paste distinct.pieces hard_pieces.txt | awk -F'\t' '
    function words(text, word, digit,   p, i, n, w) {  # word index and digit flag per piece
      n = split(text, p, " "); w = -1
      for (i = 1; i <= n; ++i) { if (p[i] ~ /^▁/) ++w; word[i - 1] = w; digit[i - 1] = p[i] ~ /[0-9]/ }
      return w + 1
    }
    { split("", sw); split("", sd); split("", tw); split("", td)
      split($2, parts, / [|][|][|] /)
      n = words($1, sw, sd); k = words(parts[1], tw, td); np = split(parts[2], pairs, " ")
      if (k != n) { bad = 1; print "line " NR ": " n " words in, " k " out" }
      for (i = 1; i <= np; ++i) {
        split(pairs[i], st, "-")
        if (td[st[2]] && sw[st[1]] != n - 1 - tw[st[2]]) { bad = 1; print "line " NR ": " pairs[i] }
      } }
    END { exit bad }'
}
check "hard alignments: each output digit on its mirrored source digit" reverse_diagonal
printf '1 2 3 4\n' | "$s2s" translate -m $m --alignment soft > soft.txt 2>/dev/null
check "soft alignment weights" grep -Eq '^.* [|][|][|] ([0-9.]+(,[0-9.]+)* ?)+$' soft.txt

# 5. Bad input: an empty line, invalid UTF-8, a line over the source limit; the others go on.
long=$(seq 1 40 | awk '{ printf "%s%d", (NR > 1 ? " " : ""), $1 % 10 }')
{ echo "1 2 3"; echo; printf '4 \xff 5\n'; echo "$long"; echo "6 7"; } > bad.src
"$s2s" translate -m $m -i bad.src -o bad.hyp --max-source-length 20 2>bad.err
check "bad input: exit 1" [ $? -eq 1 ]
check "bad input: the output exists with 5 lines" [ "$(wc -l <bad.hyp)" -eq 5 ]
check "bad input: empty line -> empty line" [ -z "$(sed -n 2p bad.hyp)" ]
check "bad input: invalid UTF-8 named with its line" grep -q "bad.src:3" bad.err
check "bad input: invalid UTF-8 -> empty line" [ -z "$(sed -n 3p bad.hyp)" ]
check "bad input: the long line is truncated with a warning naming it" grep -q "warning: bad.src:4: .*truncated" bad.err
check "bad input: the long line is translated" [ -n "$(sed -n 4p bad.hyp)" ]
check "bad input: the lines around are translated" [ -n "$(sed -n 1p bad.hyp)" -a -n "$(sed -n 5p bad.hyp)" ]
"$s2s" translate -m $m -i bad.src -o rej.hyp --max-source-length 20 --reject-long 2>rej.err
check "--reject-long: exit 1, 5 lines" [ $? -eq 1 -a "$(wc -l <rej.hyp)" -eq 5 -a -z "$(sed -n 4p rej.hyp)" ]
check "--reject-long: the long line fails by name" grep -q "bad.src:4: .*over the limit" rej.err
printf '1 2\tx\nno tab here\n3 4\t5\n' | "$s2s" score -m $m > s.txt 2>s.err
check "score: a line without a tab fails alone" [ $? -eq 1 -a "$(wc -l <s.txt)" -eq 3 -a -z "$(sed -n 2p s.txt)" -a -n "$(sed -n 3p s.txt)" ]
check "score: the bad line is named" grep -q "line 2\|:2:" s.err
printf '1\n2\n' > two.txt; printf '1\n' > one.txt
"$s2s" score -m $m --source two.txt --target one.txt -o never.txt >/dev/null 2>&1
check "score: unequal files fail and leave no output" [ $? -eq 1 -a ! -e never.txt ]
"$s2s" translate -m $m --beam 2 --n-best 3 < test.src >/dev/null 2>usage.err
check "--n-best over the beam: usage error" [ $? -eq 2 ]

echo "translate_test: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
