#!/usr/bin/env python3
"""Renders the fashion-scenes data set from Fashion-MNIST (standard library only).

    render.py FASHION_MNIST_DIR OUT_DIR [--train N] [--dev N] [--test N] [--refs N] [--seed S]

FASHION_MNIST_DIR holds the four idx files (train-images-idx3-ubyte.gz, ...; gzipped or not).
Each scene is a 96x96 grayscale PNG: 1 to 3 garments (28x28 each, at a random offset of 0 to 4
pixels inside their 32x32 cell) in distinct cells of a 3x3 grid, on black. Scenes of train.json use
train images 0..54999, dev.json train images 55000..59999, test.json only the t10k images.
Writes OUT_DIR/{train,dev,test}/NNNNNN.png and OUT_DIR/{train,dev,test}.json in COCO captions
format (paths relative to OUT_DIR); each image also carries its "scene" (the truth check.py
compares against): [{"label": 7, "garment": "sneaker", "row": 0, "col": 0}, ...].
Deterministic for a seed. Each split is written to a temporary folder and renamed when complete.
"""

import argparse
import gzip
import json
import os
import random
import shutil
import struct
import sys
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenes  # noqa: E402

SIZE, CELL, GLYPH = 96, 32, 28


def read_idx(path):
    """(count, rows, cols, bytes) of an idx3 image file or (count, bytes) of an idx1 label file."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        if len(data) != 16 + count * rows * cols:
            sys.exit("render: %s: truncated (%d images of %dx%d expected)" % (path, count, rows, cols))
        return count, rows, cols, data[16:]
    if magic == 0x801:
        if len(data) != 8 + count:
            sys.exit("render: %s: truncated" % path)
        return count, data[8:]
    sys.exit("render: %s: not an idx image or label file (magic %#x)" % (path, magic))


def find(folder, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    sys.exit("render: %s has no %s(.gz)" % (folder, stem))


def load(folder, prefix):
    n, rows, cols, pixels = read_idx(find(folder, prefix + "-images-idx3-ubyte"))
    m, labels = read_idx(find(folder, prefix + "-labels-idx1-ubyte"))
    if (rows, cols) != (GLYPH, GLYPH) or n != m:
        sys.exit("render: %s: expected %d matching 28x28 images and labels" % (folder, n))
    return pixels, labels


def png(gray, width, height):
    """An 8-bit grayscale PNG of the row-major bytes gray."""
    raw = b"".join(b"\x00" + gray[y * width:(y + 1) * width] for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def render_split(name, count, pixels, labels, first, last, refs, rng, out):
    tmp = os.path.join(out, name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    images, annotations = [], []
    for i in range(count):
        k = rng.choice((1, 2, 3))
        cells = rng.sample(range(9), k)
        canvas = bytearray(SIZE * SIZE)
        scene = []
        for cell in cells:
            idx = rng.randrange(first, last)
            label = labels[idx]
            row, col = divmod(cell, 3)
            y0 = row * CELL + rng.randint(0, CELL - GLYPH)
            x0 = col * CELL + rng.randint(0, CELL - GLYPH)
            glyph = pixels[idx * GLYPH * GLYPH:(idx + 1) * GLYPH * GLYPH]
            for r in range(GLYPH):
                at = (y0 + r) * SIZE + x0
                canvas[at:at + GLYPH] = glyph[r * GLYPH:(r + 1) * GLYPH]
            scene.append((label, row, col))
        file_name = "%s/%06d.png" % (name, i)
        with open(os.path.join(tmp, "%06d.png" % i), "wb") as f:
            f.write(png(bytes(canvas), SIZE, SIZE))
        images.append({"id": i, "file_name": file_name, "width": SIZE, "height": SIZE,
                       "scene": [{"label": l, "garment": scenes.GARMENTS[l], "row": r, "col": c}
                                 for l, r, c in sorted(scene, key=lambda g: (g[1], g[2]))]})
        for text in scenes.captions(rng, scene, refs):
            annotations.append({"id": len(annotations), "image_id": i, "caption": text})
    final = os.path.join(out, name)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    doc = {"info": {"description": "fashion-scenes %s: Fashion-MNIST garments on a 3x3 grid" % name},
           "images": images, "annotations": annotations,
           "categories": [{"id": i, "name": g} for i, g in enumerate(scenes.GARMENTS)]}
    with open(os.path.join(out, name + ".json.tmp"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    os.replace(os.path.join(out, name + ".json.tmp"), os.path.join(out, name + ".json"))
    print("render: %-5s %6d scenes, %6d captions -> %s" % (name, count, len(annotations), final))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=100000)
    ap.add_argument("--dev", type=int, default=500)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--refs", type=int, default=5, help="reference captions per image")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    train_pixels, train_labels = load(args.source, "train")
    test_pixels, test_labels = load(args.source, "t10k")
    n = len(train_labels)
    dev_first = n - n // 12  # 55000 of 60000
    os.makedirs(args.out, exist_ok=True)
    # One stream per split, so changing one split's count leaves the others as they were.
    for name, count, pixels, labels, first, last in (
            ("train", args.train, train_pixels, train_labels, 0, dev_first),
            ("dev", args.dev, train_pixels, train_labels, dev_first, n),
            ("test", args.test, test_pixels, test_labels, 0, len(test_labels))):
        rng = random.Random("%d/%s" % (args.seed, name))
        render_split(name, count, pixels, labels, first, last, args.refs, rng, args.out)


if __name__ == "__main__":
    main()
