#!/usr/bin/env python3
"""The fashion-scenes checker: reads each caption back into a scene (the set of (garment, cell))
and reports the share of images whose caption names exactly the right garments in the right
cells, no more, no fewer.

    check.py CAPTIONS REFS.json [--show N]   # CAPTIONS: s2s caption output, TSV or JSONL
    check.py --references REFS.json          # every reference caption against its own scene

CAPTIONS lines are `path<TAB>caption[<TAB>...]` or JSON objects with "path" and "caption" (the
first caption per image counts: n-best lists are best first). A path matches the image of
REFS.json whose file_name ("test/000123.png") it ends with. Images without a caption count as
wrong. Prints one line, "scene accuracy: 0.9120 (912 of 1000 images, ...)", plus up to N wrong
examples with --show. The phrasing it understands is scenes.py's (every phrase render.py uses).
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenes  # noqa: E402


def truth(image):
    return frozenset((g["label"], g["row"], g["col"]) for g in image["scene"])


def load_refs(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    images = {img["file_name"]: img for img in doc["images"]}
    for img in doc["images"]:
        if "scene" not in img:
            sys.exit("check: %s: image %s has no 'scene' (not made by render.py?)" %
                     (path, img.get("file_name")))
    return doc, images


def read_captions(path):
    """[(line number, path, caption)] from TSV or JSONL."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                record = json.loads(line)
                out.append((n, record["path"], record.get("caption") or ""))
            else:
                fields = line.split("\t")
                if len(fields) < 2:
                    sys.exit("check: %s:%d: expected path<TAB>caption" % (path, n))
                out.append((n, fields[0], fields[1]))
    return out


def match(path, images):
    parts = os.path.normpath(path).replace(os.sep, "/").split("/")
    for k in range(len(parts)):
        key = "/".join(parts[k:])
        if key in images:
            return key
    return None


def score(captions, images):
    """(correct, unparsable, missing, wrong examples) over every image of images."""
    chosen = {}
    for n, path, text in captions:
        key = match(path, images)
        if key is None:
            sys.exit("check: line %d: '%s' is not an image of the references" % (n, path))
        chosen.setdefault(key, text)
    correct = unparsable = 0
    wrong = []
    for key, image in images.items():
        if key not in chosen:
            continue
        parsed = scenes.parse(chosen[key])
        if parsed is None:
            unparsable += 1
        if parsed == truth(image):
            correct += 1
        else:
            wrong.append((key, chosen[key], sorted(truth(image))))
    return correct, unparsable, len(images) - len(chosen), wrong


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="CAPTIONS REFS.json, or REFS.json with --references")
    ap.add_argument("--references", action="store_true",
                    help="check every reference caption of REFS.json against its scene")
    ap.add_argument("--show", type=int, default=0, help="print up to N wrong captions")
    args = ap.parse_args(argv)
    if args.references:
        if len(args.files) != 1:
            ap.error("--references takes REFS.json only")
        doc, images = load_refs(args.files[0])
        by_id = {img["id"]: img for img in doc["images"]}
        total = correct = 0
        wrong = []
        for a in doc["annotations"]:
            total += 1
            if scenes.parse(a["caption"]) == truth(by_id[a["image_id"]]):
                correct += 1
            else:
                wrong.append((by_id[a["image_id"]]["file_name"], a["caption"],
                              sorted(truth(by_id[a["image_id"]]))))
        share = correct / total if total else 0.0
        print("reference accuracy: %.4f (%d of %d captions)" % (share, correct, total))
    else:
        if len(args.files) != 2:
            ap.error("expected CAPTIONS REFS.json")
        _, images = load_refs(args.files[1])
        correct, unparsable, missing, wrong = score(read_captions(args.files[0]), images)
        share = correct / len(images) if images else 0.0
        print("scene accuracy: %.4f (%d of %d images; %d captions unreadable, %d images without "
              "a caption)" % (share, correct, len(images), unparsable, missing))
    for key, text, want in wrong[:args.show]:
        print("  %s: %r, truth %s" % (key, text, ", ".join(
            "%s at (%d, %d)" % (scenes.GARMENTS[l], r, c) for l, r, c in want)))
    return share


if __name__ == "__main__":
    main()
