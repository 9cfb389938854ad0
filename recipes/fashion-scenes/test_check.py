#!/usr/bin/env python3
"""Tests the fashion-scenes renderer and checker on tiny synthetic Fashion-MNIST files.

The parser on hand-written captions (the issue's own example included) and on every phrase the
generator knows; render.py on fake idx files whose train and t10k pixels differ (odd vs even
values), checking the PNGs, the split sources, determinism, and that check.py reads every
reference caption back into its scene (accuracy 1.0) and rejects perturbed captions (0.0).
Prints 'N passed, M failed'; exits 1 on any failure. Takes about a second.

    recipes/fashion-scenes/test_check.py
"""

import contextlib
import gzip
import io
import json
import os
import random
import re
import struct
import sys
import tempfile
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check  # noqa: E402
import render  # noqa: E402
import scenes  # noqa: E402

passed = failed = 0


def expect(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


SNEAKER, BAG, DRESS, COAT, SHIRT, TSHIRT, TROUSERS, BOOT = 7, 8, 3, 4, 6, 0, 1, 9

HAND_WRITTEN = [
    ("a sneaker in the top left and a bag below it", {(SNEAKER, 0, 0), (BAG, 1, 0)}),
    ("A sneaker in the top left, and a bag below it.", {(SNEAKER, 0, 0), (BAG, 1, 0)}),
    ("top left: a sneaker; bottom: a bag", {(SNEAKER, 0, 0), (BAG, 2, 1)}),
    ("in the middle there is a dress", {(DRESS, 1, 1)}),
    ("a dress right in the middle", {(DRESS, 1, 1)}),
    ("two garments: a coat on the right and a shirt to its left", {(COAT, 1, 2), (SHIRT, 1, 1)}),
    ("a t-shirt at the top, a shirt in the bottom right corner and an ankle boot above it",
     {(TSHIRT, 0, 1), (SHIRT, 2, 2), (BOOT, 1, 2)}),
    ("a picture of a pair of trousers in the lower left", {(TROUSERS, 2, 0)}),
    ("a single garment: a bag in the middle of the top", {(BAG, 0, 1)}),
    ("a bag at the bottom with a coat next to it on the right", {(BAG, 2, 1), (COAT, 2, 2)}),
    # As a word-vocabulary model writes them: punctuation as separate words.
    ("top left : a sneaker ; at the bottom : a bag", {(SNEAKER, 0, 0), (BAG, 2, 1)}),
    ("a sneaker in the top left , a bag below it and a coat to its right",
     {(SNEAKER, 0, 0), (BAG, 1, 0), (COAT, 1, 1)}),
]
UNREADABLE = [
    "a sneaker",                                   # no place
    "in the top left",                             # no garment
    "a sneaker below it",                          # relative to nothing
    "a bag in the top left and a coat in the top left",  # one cell twice
    "a bag in the top left and a coat above it",   # off the grid
    "a bag in the top bottom",                     # two rows
    "",
]


def test_parser():
    for text, want in HAND_WRITTEN:
        expect(scenes.parse(text) == frozenset(want), "parse(%r) = %r" % (text, scenes.parse(text)))
    for text in UNREADABLE:
        expect(scenes.parse(text) is None, "parse(%r) should fail: %r" % (text, scenes.parse(text)))
    for cell, phrases in scenes.PLACES.items():
        for p in phrases:
            got = scenes.parse("a coat " + p)
            expect(got == frozenset({(COAT,) + cell}), "place %r -> %r" % (p, got))
    for (dr, dc), phrases in scenes.RELATIVE.items():
        for p in phrases:
            got = scenes.parse("a bag in the middle and a coat " + p)
            want = frozenset({(BAG, 1, 1), (COAT, 1 + dr, 1 + dc)})
            expect(got == want, "relative %r -> %r" % (p, got))
    # Every style and scene size, many random scenes: the generator's captions parse back.
    rng = random.Random(5)
    for _ in range(300):
        k = rng.choice((1, 2, 3))
        scene = [(rng.randrange(10),) + divmod(c, 3) for c in rng.sample(range(9), k)]
        for text in scenes.captions(rng, scene, 6):
            expect(scenes.parse(text) == frozenset(scene), "generated %r for %r" % (text, scene))
            spaced = re.sub(r"\s*([,;:])\s*", r" \1 ", text)  # normalize_caption's spacing
            expect(scenes.parse(spaced) == frozenset(scene), "spaced %r" % spaced)


def write_idx(folder, prefix, count, parity):
    """count (< 127) fake 28x28 images: image i is uniformly 2 * i + 2 - parity, label i % 10."""
    pixels = b"".join(bytes([2 * i + 2 - parity]) * 784 for i in range(count))
    with gzip.open(os.path.join(folder, prefix + "-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + pixels)
    with gzip.open(os.path.join(folder, prefix + "-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + bytes(i % 10 for i in range(count)))


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4:idat])[0]
    raw = zlib.decompress(data[idat + 4:idat + 4 + length])
    rows = [raw[y * (width + 1) + 1:(y + 1) * (width + 1)] for y in range(height)]
    return width, height, depth, color, b"".join(rows)


def render_quiet(argv):
    with contextlib.redirect_stdout(io.StringIO()):
        render.main(argv)


def test_render_and_check(tmp):
    src, out = os.path.join(tmp, "src"), os.path.join(tmp, "out")
    os.makedirs(src)
    write_idx(src, "train", 96, 1)  # train pixels odd values
    write_idx(src, "t10k", 48, 0)   # t10k pixels even values
    render_quiet([src, out, "--train", "40", "--dev", "6", "--test", "30", "--seed", "3"])
    for split, count, parity in (("train", 40, 1), ("dev", 6, 1), ("test", 30, 0)):
        with open(os.path.join(out, split + ".json")) as f:
            doc = json.load(f)
        expect(len(doc["images"]) == count, "%s: %d images" % (split, len(doc["images"])))
        expect(len(doc["annotations"]) == 5 * count, "%s: 5 captions per image" % split)
        for img in doc["images"][:10]:
            w, h, depth, color, pixels = read_png(os.path.join(out, img["file_name"]))
            expect((w, h, depth, color) == (96, 96, 8, 0), "%s: 96x96 8-bit gray" % img["file_name"])
            values = set(pixels) - {0}
            expect(all(v % 2 == parity for v in values),
                   "%s: pixels from the wrong source set" % img["file_name"])
            expect(1 <= len(img["scene"]) <= 3, "%s: 1 to 3 garments" % img["file_name"])
            for g in img["scene"]:  # the garment's cell holds its pixels, centered within 2 px
                y, x = 32 * g["row"] + 16, 32 * g["col"] + 16
                expect(pixels[y * 96 + x] != 0, "%s: cell (%d, %d) empty" %
                       (img["file_name"], g["row"], g["col"]))
        with io.StringIO() as buf, contextlib.redirect_stdout(buf):
            share = check.main(["--references", os.path.join(out, split + ".json")])
        expect(share == 1.0, "%s: reference accuracy %s" % (split, share))

    def values_of(split):
        with open(os.path.join(out, split + ".json")) as f:
            doc = json.load(f)
        seen = set()
        for img in doc["images"]:
            seen |= set(read_png(os.path.join(out, img["file_name"]))[4]) - {0}
        return seen
    # train scenes use train images 0..87, dev 88..95 (the last 1/12): each image has its own
    # pixel value, so the value sets must be disjoint.
    train_values, dev_values = values_of("train"), values_of("dev")
    expect(not (train_values & dev_values), "train and dev scenes share source images")
    expect(max(train_values) < 2 * 88 and min(dev_values) > 2 * 88, "dev is the last twelfth")

    # Determinism: the same seed writes the same JSON.
    out2 = os.path.join(tmp, "out2")
    render_quiet([src, out2, "--train", "40", "--dev", "6", "--test", "30", "--seed", "3"])
    for split in ("train", "test"):
        with open(os.path.join(out, split + ".json")) as a, open(os.path.join(out2, split + ".json")) as b:
            expect(a.read() == b.read(), "%s: not deterministic" % split)

    # check.py on captions files: the first reference of each image (1.0), then perturbations.
    refs = os.path.join(out, "test.json")
    with open(refs) as f:
        doc = json.load(f)
    first = {}
    for a in doc["annotations"]:
        first.setdefault(a["image_id"], a["caption"])
    names = {img["id"]: img["file_name"] for img in doc["images"]}

    def score(captions, fmt="tsv"):
        path = os.path.join(tmp, "hyp." + fmt)
        with open(path, "w") as f:
            for i, text in captions.items():
                p = os.path.join(out, names[i])
                f.write(json.dumps({"path": p, "caption": text}) + "\n" if fmt == "jsonl"
                        else "%s\t%s\t-1.0\n" % (p, text))
        with io.StringIO() as buf, contextlib.redirect_stdout(buf):
            return check.main([path, refs])

    expect(score(first) == 1.0, "first references as captions: %s" % score(first))
    expect(score(first, "jsonl") == 1.0, "JSONL captions")

    def perturb_name(text):  # every garment name -> the next one
        for old, new in (("sneaker", "sandal"), ("bag", "coat"), ("dress", "shirt"),
                         ("t-shirt", "dress"), ("pullover", "bag"), ("coat", "sneaker"),
                         ("sandal", "pullover"), ("ankle boot", "t-shirt"),
                         ("pair of trousers", "ankle boot")):
            if old in text:
                return text.replace(old, new, 1)
        return text.replace(" shirt", " bag", 1)

    def perturb_place(text):  # mirror or shift one place word
        for old, new in ((" left", " right"), (" right", " left"), ("top", "bottom"),
                         ("bottom", "top"), ("middle", "top left"), ("center", "top left"),
                         ("centre", "top left")):
            if old in text:
                return text.replace(old, new, 1)
        return text + " upside down"

    for name, fn in (("garment swapped", perturb_name), ("place changed", perturb_place),
                     ("garment added", lambda t: t + " and a bag " + (
                         "in the top left" if "top left" not in t else "in the bottom right"))):
        expect(score({i: fn(t) for i, t in first.items()}) == 0.0, "%s: should score 0" % name)
    half = {i: t for i, t in first.items() if i % 2 == 0}  # missing captions count as wrong
    expect(abs(score(half) - len(half) / len(first)) < 1e-9, "missing captions")


def main():
    test_parser()
    with tempfile.TemporaryDirectory() as tmp:
        test_render_and_check(tmp)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
