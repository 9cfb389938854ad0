"""The language of the fashion-scenes recipe, in one place: the garment names, the phrases for
the nine cells of the 3x3 grid, the caption generator (render.py) and the parser that reads a
caption back into a scene (check.py). A scene is a set of (garment, row, col) with row and col in
0..2 (row 0 at the top, col 0 on the left), at most one garment per cell.

Generated captions name every garment and its cell, either absolutely ("a sneaker in the top
left", "in the middle there is a dress", "at the bottom right: a bag") or relative to the garment
named just before ("... and a bag below it", "... with a coat to its right"); relative phrases
are used only for a garment in the next cell in that direction. Side words mean one cell: "on the
left" is the middle-left cell, "at the top" the top-middle one, "in the middle" the center.
"""

import re

# Fashion-MNIST labels 0..9 -> the garment's name in captions, with its article.
GARMENTS = ["t-shirt", "pair of trousers", "pullover", "dress", "coat", "sandal", "shirt",
            "sneaker", "bag", "ankle boot"]
ARTICLES = ["a", "a", "a", "a", "a", "a", "a", "a", "a", "an"]

# Absolute place phrases per cell (row, col); every variant must parse back to its cell.
PLACES = {
    (0, 0): ["in the top left", "in the top left corner", "at the top left", "in the upper left"],
    (0, 1): ["at the top", "in the top middle", "at the top center", "in the middle of the top"],
    (0, 2): ["in the top right", "in the top right corner", "at the top right", "in the upper right"],
    (1, 0): ["on the left", "in the middle left", "on the left side", "in the middle on the left"],
    (1, 1): ["in the middle", "in the center", "in the centre", "right in the middle"],
    (1, 2): ["on the right", "in the middle right", "on the right side", "in the middle on the right"],
    (2, 0): ["in the bottom left", "in the bottom left corner", "at the bottom left",
             "in the lower left"],
    (2, 1): ["at the bottom", "in the bottom middle", "at the bottom center",
             "in the middle of the bottom"],
    (2, 2): ["in the bottom right", "in the bottom right corner", "at the bottom right",
             "in the lower right"],
}

# Relative phrases: (d_row, d_col) -> variants, each relative to the previously named garment.
RELATIVE = {
    (1, 0): ["below it", "under it", "beneath it", "just below it"],
    (-1, 0): ["above it", "over it", "just above it"],
    (0, 1): ["to its right", "to the right of it", "next to it on the right"],
    (0, -1): ["to its left", "to the left of it", "next to it on the left"],
}

NUMBERS = ["no", "one", "two", "three"]


def noun(label):
    return ARTICLES[label] + " " + GARMENTS[label]


def _place(rng, cell, prev):
    """An absolute phrase for cell, or (half the time, when possible) one relative to prev."""
    if prev is not None:
        delta = (cell[0] - prev[0], cell[1] - prev[1])
        if delta in RELATIVE and rng.random() < 0.5:
            return rng.choice(RELATIVE[delta]), True
    return rng.choice(PLACES[cell]), False


def _join(parts):
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def caption(rng, scene, style):
    """One caption of scene (a list of (label, row, col)) in style 0..5."""
    items = list(scene)
    if style in (0, 2, 4):  # reading order
        items.sort(key=lambda g: (g[1], g[2]))
    else:
        rng.shuffle(items)
    prev = None
    parts = []
    for label, row, col in items:
        place, relative = _place(rng, (row, col), prev)
        if style == 2 and not relative:  # place first
            parts.append(place + " there is " + noun(label))
        elif style == 3 and not relative:
            parts.append(place + ": " + noun(label))
        else:
            parts.append(noun(label) + " " + place)
        prev = (row, col)
    if style == 4:
        count = len(items)
        head = ("a single garment: " if count == 1 else
                NUMBERS[count] + " garments: ")
        return head + _join(parts)
    if style == 5:
        return "a picture of " + _join(parts)
    if style == 3:
        return "; ".join(parts)
    return _join(parts)


def captions(rng, scene, count):
    """count distinct captions of scene (as far as a few tries find them), in distinct styles
    while count <= 6."""
    out = []
    styles = rng.sample(range(6), min(count, 6))
    for i in range(count):
        style = styles[i] if i < len(styles) else rng.randrange(6)
        text = caption(rng, scene, style)
        for _ in range(10):
            if text not in out:
                break
            text = caption(rng, scene, rng.randrange(6))
        out.append(text)
    return out


# ---- the parser ----------------------------------------------------------------------------

# Garment names as token sequences, longest first ("ankle boot" before "boot"; "t-shirt" is one
# token, so "shirt" never matches inside it). Plurals and a few synonyms are accepted too.
_NAMES = []
for _label, _name in enumerate(GARMENTS):
    _NAMES.append((_name.split(), _label))
_NAMES += [(["trousers"], 1), (["pants"], 1), (["tshirt"], 0), (["t", "shirt"], 0),
           (["boot"], 9), (["sweater"], 2), (["handbag"], 8), (["purse"], 8)]
_NAMES.sort(key=lambda n: -len(n[0]))

_SPLIT = re.compile(r"\s*(?:[,;]|\band\b|\bwith\b|\bwhile\b|\bplus\b|\.)\s*")


def _tokens(text):
    return re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower())


def _garments(tokens):
    """The garment labels named in tokens, in order."""
    found = []
    i = 0
    while i < len(tokens):
        for words, label in _NAMES:
            if tokens[i:i + len(words)] == words:
                found.append(label)
                i += len(words)
                break
        else:
            i += 1
    return found


def _cell(tokens, prev):
    """The cell a clause's place words name, relative to prev for 'it'; None if none or unclear."""
    words = set(tokens)
    relative = "it" in words or "its" in words
    if relative:
        if prev is None:
            return None
        if words & {"below", "under", "beneath", "underneath"}:
            delta = (1, 0)
        elif words & {"above", "over"}:
            delta = (-1, 0)
        elif "right" in words:
            delta = (0, 1)
        elif "left" in words:
            delta = (0, -1)
        else:
            return None
        row, col = prev[0] + delta[0], prev[1] + delta[1]
        return (row, col) if 0 <= row <= 2 and 0 <= col <= 2 else None
    # "right in the middle": 'right' followed by 'in' is an adverb, not the side.
    tokens = [w for i, w in enumerate(tokens)
              if not (w == "right" and tokens[i + 1:i + 2] == ["in"])]
    vertical = {"top": 0, "upper": 0, "bottom": 2, "lower": 2}
    horizontal = {"left": 0, "right": 2}
    rows = {vertical[w] for w in tokens if w in vertical}
    cols = {horizontal[w] for w in tokens if w in horizontal}
    if len(rows) > 1 or len(cols) > 1:
        return None
    centre = bool(set(tokens) & {"middle", "center", "centre", "central"})
    if not rows and not cols:
        return (1, 1) if centre else None
    return (rows.pop() if rows else 1, cols.pop() if cols else 1)


def parse(text):
    """The scene a caption describes, as a frozenset of (label, row, col), or None when some part
    cannot be read (a garment without a place, a place without a garment, two garments in one
    cell, a relative place with nothing before it)."""
    text = text.lower()
    # Drop a leading count ("two garments:", "a single garment:") and "a picture of".
    text = re.sub(r"^\s*(?:a single|one|two|three|four)\s+(?:garments?|items?|things?)\s*:\s*", "",
                  text)
    text = re.sub(r"^\s*(?:a picture|an image|a photo) of\s+", "", text)
    scene = set()
    cells = set()
    prev = None
    for clause in _SPLIT.split(text):
        tokens = _tokens(clause)
        if not tokens:
            continue
        labels = _garments(tokens)
        if not labels:
            if tokens in (["there", "is"], ["there"]):
                continue
            return None  # a place with no garment (or an unknown word sequence)
        if len(labels) != 1:
            return None
        cell = _cell(tokens, prev)
        if cell is None or cell in cells:
            return None
        scene.add((labels[0],) + cell)
        cells.add(cell)
        prev = cell
    return frozenset(scene) if scene else None
