#!/usr/bin/env python3
"""Extract German->English training, dev and test pairs from the Ding dictionary.

Usage: extract.py INPUT OUTDIR

INPUT is the Ding dictionary text (Debian package trans-de-en: usr/share/trans/de-en).
Writes OUTDIR/train.tsv, OUTDIR/dev.tsv and OUTDIR/test.tsv: one `German<TAB>English` pair a
line, UTF-8, in input order. Each file is written under a temporary name and renamed when
complete, so a file that exists is whole. Prints the counts.

The rules, exactly as specified:

  1. lines starting with '#' or without ' :: ' are skipped; a line is
     'DE | DE | ... :: EN | EN | ...'; its ' | '-separated parts are aligned by position when
     both sides have the same number of parts, else the line is skipped;
  2. of each part keep the first '; '-separated alternative, then delete the annotations
     {...}, [...], <...>, (...) and /ABBR/ (a slash, a capital letter,
     letters/digits/./&/-, a slash), and squeeze whitespace; drop pairs with an empty side or
     a tab; drop exact duplicates;
  3. a pair is a sentence when its German side ends in '.', '?' or '!' and has at least 3
     words; a sentence is held out by the FNV-1a 64-bit hash of its cleaned German UTF-8
     bytes: hash % 100 in {0, 1} -> test, == 2 -> dev, in {3, 4} -> reserved (never used by
     anything);
  4. train = every other pair (phrases and sentences), minus any pair whose German side equals
     the German side of a held-out pair.

Details the rules leave open, decided here:

  * Lines: the file is read as UTF-8 (an invalid byte is an error naming the line); the line
    ending ('\\n' or '\\r\\n') is removed first. "Starting with '#'" means the very first
    character.
  * ' :: ' is split at its FIRST occurrence (German = before it, English = everything after;
    the Ding file has no line with two). Sides are split on every ' | '. Parts are not
    stripped separately: the final whitespace squeeze strips them.
  * Alternatives: the part is cut at its first '; ' BEFORE any annotation is removed (the
    order rule 2 gives), even when that '; ' lies inside brackets; a bracket left unclosed by
    the cut is not an annotation and stays as text.
  * Annotations are deleted innermost first, repeatedly until nothing changes: each pass
    deletes every '{...}' with no '{' or '}' inside, every '[...]' with no '[' or ']' inside,
    every '<...>' with no '<' or '>' inside, every '(...)' with no '(' or ')' inside, and every
    /ABBR/. So nested and multiple annotations ('(a (b) c)', '(see [x])', '{m} [ugs.] (...)')
    all go, brackets of one kind inside another kind go with their container, and an
    unmatched bracket stays. An annotation is replaced by nothing (the squeeze then removes
    the double space it leaves).
  * /ABBR/: a '/', one upper-case letter (Unicode upper case below U+3000, e.g. /ÖBB/), then
    zero or more letters, digits, '.', '&' or '-' (Unicode letters and digits), then '/'. It is matched wherever it occurs, as the rule says, also inside
    a word ('Angst/Furcht/Sorge' loses '/Furcht/'); lower-case '/er/', '/he/' stay.
  * Squeezing: every run of whitespace characters other than the tab becomes one space, and
    leading and trailing whitespace goes (a tab is kept so that the tab rule can see it; Ding
    has none today). "Words" are the tokens of the squeezed text split on spaces.
  * A pair is dropped when either side is empty after cleaning or either side has a tab.
  * Duplicates: two pairs are duplicates when their cleaned (German, English) are identical;
    the first occurrence is kept, in whatever split it lands (held-out pairs are therefore
    deduplicated too). Pairs with the same German and different English are not duplicates.
  * The sentence test and the hash use the cleaned German side. Since both depend only on
    the German side, every pair with the German side of a held-out sentence is itself held out
    in the same split (test, dev or reserved), so the removal in rule 4 cannot remove anything
    from train; it is implemented anyway (held-out = test, dev and reserved).
  * Output order is input order (line order, then part order within a line).
"""

import os
import re
import sys

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a64(data: bytes) -> int:
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


# Innermost annotations: a bracket pair with no bracket of its own kind inside.
_BRACKETS = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]|<[^<>]*>|\([^()]*\)")
# /ABBR/: '/', an upper-case letter, letters/digits/./&/-, '/'. Python's re has no \p{Lu}, so
# the upper-case letters below U+3000 (Latin, Greek, Cyrillic, ...) are listed; [^\W_] is a
# letter or digit.
_UPPER = "".join(re.escape(chr(c)) for c in range(0x3000) if chr(c).isupper())
_ABBR = re.compile(r"/[" + _UPPER + r"](?:[^\W_]|[.&-])*/")
# Whitespace other than the tab.
_SPACES = re.compile(r"[^\S\t]+")


def clean(part: str) -> str:
    """Rule 2 on one part: first alternative, annotations deleted, whitespace squeezed."""
    text = part.split("; ", 1)[0]
    while True:
        new = _ABBR.sub("", _BRACKETS.sub("", text))
        if new == text:
            break
        text = new
    return _SPACES.sub(" ", text).strip(" ")


def is_sentence(german: str) -> bool:
    """Rule 3: ends in '.', '?' or '!' and has at least 3 words (cleaned German side)."""
    return german.endswith((".", "?", "!")) and len(german.split(" ")) >= 3


def bucket(german: str):
    """Rule 3: 'test', 'dev', 'reserved', or None (train) for a cleaned German sentence."""
    r = fnv1a64(german.encode("utf-8")) % 100
    if r in (0, 1):
        return "test"
    if r == 2:
        return "dev"
    if r in (3, 4):
        return "reserved"
    return None


def extract(lines):
    """Applies the rules to an iterable of lines; returns (splits, stats)."""
    stats = dict.fromkeys(
        ["lines", "comment", "no_separator", "unequal_parts", "parts", "empty_side", "tab",
         "duplicate", "pairs", "sentences", "removed_from_train"], 0)
    seen = set()
    pairs = []  # (german, english, bucket) in input order, deduplicated
    for line in lines:
        stats["lines"] += 1
        if line.endswith("\n"):
            line = line[:-1]
        if line.endswith("\r"):
            line = line[:-1]
        if line.startswith("#"):
            stats["comment"] += 1
            continue
        if " :: " not in line:
            stats["no_separator"] += 1
            continue
        de_side, en_side = line.split(" :: ", 1)
        de_parts, en_parts = de_side.split(" | "), en_side.split(" | ")
        if len(de_parts) != len(en_parts):
            stats["unequal_parts"] += 1
            continue
        for de_part, en_part in zip(de_parts, en_parts):
            stats["parts"] += 1
            de, en = clean(de_part), clean(en_part)
            if not de or not en:
                stats["empty_side"] += 1
                continue
            if "\t" in de or "\t" in en:
                stats["tab"] += 1
                continue
            if (de, en) in seen:
                stats["duplicate"] += 1
                continue
            seen.add((de, en))
            b = None
            if is_sentence(de):
                stats["sentences"] += 1
                b = bucket(de)
            pairs.append((de, en, b))
    stats["pairs"] = len(pairs)
    held_out = {de for de, _, b in pairs if b is not None}
    splits = {"train": [], "dev": [], "test": [], "reserved": []}
    for de, en, b in pairs:
        if b is not None:
            splits[b].append((de, en))
        elif de in held_out:
            stats["removed_from_train"] += 1
        else:
            splits["train"].append((de, en))
    return splits, stats


def decode_lines(binary_lines, name):
    for number, raw in enumerate(binary_lines, 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{name}:{number}: invalid UTF-8 ({e.reason} at byte {e.start})")


def write_tsv(path, pairs):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for de, en in pairs:
            f.write(f"{de}\t{en}\n")
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 3:
        print("usage: extract.py INPUT OUTDIR", file=sys.stderr)
        return 2
    source, outdir = argv[1], argv[2]
    try:
        with open(source, "rb") as f:
            splits, stats = extract(decode_lines(f, source))
    except (OSError, ValueError) as e:
        print(f"extract.py: {e}", file=sys.stderr)
        return 1
    os.makedirs(outdir, exist_ok=True)
    for name in ("train", "dev", "test"):  # test last: its presence means all three are done
        write_tsv(os.path.join(outdir, name + ".tsv"), splits[name])
    print(f"{stats['lines']} lines: {stats['comment']} comments, {stats['no_separator']} without"
          f" ' :: ', {stats['unequal_parts']} with unequal part counts")
    print(f"{stats['parts']} aligned parts: {stats['empty_side']} with an empty side, "
          f"{stats['tab']} with a tab, {stats['duplicate']} duplicates; {stats['pairs']} pairs, "
          f"{stats['sentences']} of them sentences")
    print(f"train {len(splits['train'])}, dev {len(splits['dev'])}, test {len(splits['test'])}"
          f", reserved {len(splits['reserved'])} (unused), removed from train "
          f"{stats['removed_from_train']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
