"""A stdlib-only PNG decoder for the shell tests (caption_test.sh, web_page_test.sh): checks the
signature and every chunk's CRC, inflates the pixels and undoes the row filters. 8-bit RGB and
RGBA, not interlaced; anything else ends the test with a message naming the file.

    decode(path) -> (width, height, channels, rows)   rows: bytearrays of width * channels
"""
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG signature")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            sys.exit(f"{path}: bad CRC in {kind}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace != 0:
        sys.exit(f"{path}: expected 8-bit RGB or RGBA, got depth {depth}, color type {color}")
    raw, stride = zlib.decompress(idat), channels * width
    if len(raw) != height * (stride + 1):
        sys.exit(f"{path}: {len(raw)} bytes of pixels for {width}x{height}")
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = prev[x], prev[x - channels] if x >= channels else 0
            if kind == 1: line[x] = (line[x] + a) & 255
            elif kind == 2: line[x] = (line[x] + b) & 255
            elif kind == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif kind != 0: sys.exit(f"{path}: filter {kind} in row {y}")
        rows.append(line)
        prev = line
    return width, height, channels, rows


if __name__ == "__main__":
    # png_decode.py colours FILE: how many colours a sample of the picture holds (every 4th
    # pixel of every 4th row): 1 for a blank page.
    width, height, channels, rows = decode(sys.argv[2])
    print(len({bytes(row[x:x + 3]) for row in rows[::4] for x in range(0, len(row), channels * 4)}))
