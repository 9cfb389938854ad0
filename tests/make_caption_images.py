#!/usr/bin/env python3
"""Writes the caption end-to-end test's images with the standard library only (PNG by zlib):
a bright square in one of the four quadrants of a 16x16 gray image, with its caption, and the
bad files a folder of photos may hold. Usage: make_caption_images.py DIR"""
import os
import random
import struct
import sys
import zlib


def png(path, width, height, rows):
    """rows: a callable giving row y's bytes (gray, 8 bits); written streaming."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    compress = zlib.compressobj(9)
    body = bytearray()
    for y in range(height):
        body += compress.compress(b"\x00" + rows(y))
    body += compress.flush()
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        out.write(chunk(b"IDAT", bytes(body)))
        out.write(chunk(b"IEND", b""))


PLACES = ["top left", "top right", "bottom left", "bottom right"]


def scene(path, place, rng):
    x0 = 8 if "right" in place else 0
    y0 = 8 if "bottom" in place else 0
    noise = [[rng.randrange(0, 40) for _ in range(16)] for _ in range(16)]

    def row(y):
        return bytes(220 if (y0 + 1 <= y < y0 + 7 and x0 + 1 <= x < x0 + 7) else noise[y][x]
                     for x in range(16))
    png(path, 16, 16, row)


def main():
    root = sys.argv[1]
    rng = random.Random(7)
    for split, count in (("train", 64), ("test", 8)):
        os.makedirs(os.path.join(root, split), exist_ok=True)
        with open(os.path.join(root, split + ".tsv"), "w") as tsv:
            for i in range(count):
                place = PLACES[i % 4]
                name = "%s/%03d.png" % (split, i)
                scene(os.path.join(root, name), place, rng)
                tsv.write("%s\ta square in the %s\n" % (name, place))
                tsv.write("%s\tthe %s has a square\n" % (name, place))
    bad = os.path.join(root, "bad")
    os.makedirs(bad, exist_ok=True)
    scene(os.path.join(bad, "good.png"), "top left", rng)
    open(os.path.join(bad, "empty.png"), "wb").close()
    with open(os.path.join(bad, "text.jpg"), "w") as f:
        f.write("this is not a JPEG\n")
    with open(os.path.join(bad, "good.png"), "rb") as f:
        whole = f.read()
    with open(os.path.join(bad, "truncated.png"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    png(os.path.join(bad, "tiny.png"), 1, 1, lambda y: b"\x80")
    # 10000 x 10000: about 100 KB compressed, 100 MB as pixels.
    png(os.path.join(bad, "huge.png"), 10000, 10000, lambda y: bytes(10000))
    with open(os.path.join(bad, "notes.txt"), "w") as f:
        f.write("not an image at all\n")


if __name__ == "__main__":
    main()
