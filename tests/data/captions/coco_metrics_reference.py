#!/usr/bin/env python3
"""An independent reference for tests/caption_metrics_test.cc: coco-caption's BLEU ('closest')
and CIDEr-D written from the published formulas (pycocoevalcap's bleu_scorer.py and
cider_scorer.py), standard library only. Input: captions already tokenized (space-separated),
as coco-caption's scorers receive them after its PTB tokenizer.

    tests/data/captions/coco_metrics_reference.py    # prints the values the C++ test expects
"""

import math
from collections import defaultdict


def ngrams(words, n=4):
    counts = defaultdict(int)
    for k in range(1, n + 1):
        for i in range(len(words) - k + 1):
            counts[tuple(words[i:i + k])] += 1
    return counts


def bleu(hyps, refs, n=4):
    tiny, small = 1e-15, 1e-9
    testlen = reflen = 0
    guess, correct = [0] * n, [0] * n
    for hyp, rs in zip(hyps, refs):
        h = hyp.split()
        maxcounts = {}
        lens = []
        for r in rs:
            w = r.split()
            lens.append(len(w))
            for g, c in ngrams(w, n).items():
                maxcounts[g] = max(maxcounts.get(g, 0), c)
        testlen += len(h)
        reflen += min((abs(l - len(h)), l) for l in lens)[1]
        for k in range(n):
            guess[k] += max(0, len(h) - k)
        for g, c in ngrams(h, n).items():
            correct[len(g) - 1] += min(maxcounts.get(g, 0), c)
    out, prod = [], 1.0
    for k in range(n):
        prod *= (correct[k] + tiny) / (guess[k] + small)
        out.append(prod ** (1.0 / (k + 1)))
    ratio = (testlen + tiny) / (reflen + small)
    if ratio < 1:
        out = [b * math.exp(1 - 1 / ratio) for b in out]
    return out


def cider_d(hyps, refs, n=4, sigma=6.0):
    crefs = [[ngrams(r.split(), n) for r in rs] for rs in refs]
    df = defaultdict(float)
    for rs in crefs:
        for g in set(g for r in rs for g in r):
            df[g] += 1
    ref_len = math.log(float(len(crefs)))

    def vec(cnts):
        v = [defaultdict(float) for _ in range(n)]
        norm = [0.0] * n
        length = 0
        for g, tf in cnts.items():
            k = len(g) - 1
            v[k][g] = float(tf) * (ref_len - math.log(max(1.0, df[g])))
            norm[k] += v[k][g] ** 2
            if k == 1:  # the published code's quirk: the length is the bigram count
                length += tf
        return v, [math.sqrt(x) for x in norm], length

    scores = []
    for hyp, rs in zip(hyps, crefs):
        vh, nh, lh = vec(ngrams(hyp.split(), n))
        total = [0.0] * n
        for r in rs:
            vr, nr, lr = vec(r)
            delta = float(lh - lr)
            for k in range(n):
                val = sum(min(vh[k][g], vr[k][g]) * vr[k][g] for g in list(vh[k]))
                if nh[k] != 0 and nr[k] != 0:
                    val /= nh[k] * nr[k]
                total[k] += val * math.exp(-(delta ** 2) / (2 * sigma ** 2))
        scores.append(sum(total) / n / len(rs) * 10.0)
    return sum(scores) / len(scores), scores


# The examples of caption_metrics_test.cc.
EXAMPLES = {
    "tiny": (["a b", "c"], [["a b", "a c"], ["c d"]]),
    "scenes": ([
        "a sneaker in the top left and a bag below it",
        "a dress in the middle",
        "a coat at the bottom right and a shirt at the top",
        "two bags on the left",
    ], [
        ["a sneaker in the top left and a bag below it", "top left a sneaker with a bag under it",
         "a sneaker top left and a bag in the middle left"],
        ["a dress in the center", "a dress right in the middle of the picture"],
        ["a shirt at the top and a coat at the bottom right", "a coat in the bottom right corner",
         "bottom right a coat and top middle a shirt"],
        ["a bag on the left and a bag at the top left", "two bags in the left column"],
    ]),
}

if __name__ == "__main__":
    for name, (hyps, refs) in EXAMPLES.items():
        b = bleu(hyps, refs)
        c, per = cider_d(hyps, refs)
        print(name, "bleu", " ".join("%.15g" % x for x in b))
        print(name, "cider", "%.15g" % c, "per_image", " ".join("%.15g" % x for x in per))
