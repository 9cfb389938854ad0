#!/usr/bin/env python3
"""Tests extract.py's rules on a hand-written sample of Ding-format lines.

Runs extract.py's main as the recipe does (INPUT OUTDIR) on the sample and compares train.tsv,
dev.tsv and test.tsv with the expected pairs, then checks FNV-1a 64 against published test
vectors and the buckets of the sample's sentences. Prints 'N passed, M failed'; exits 1 on
any failure. Takes well under a second.

    recipes/de-en/test_extract.py
"""

import contextlib
import io
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import extract  # noqa: E402
from extract import bucket, clean, fnv1a64  # noqa: E402

# One sample line per case; the comment says where its pairs go.
SAMPLE = "".join([
    "# Version :: devel 2023-01-30\n",                            # comment, though it has ' :: '
    "#Haus :: house\n",                                           # comment
    "Wörterbuch ohne Trenner\n",                                  # no ' :: '
    "Haus::house\n",                                              # no ' :: ' (no spaces)
    "Katze {f} | Katzen {pl} :: cat\n",                           # 2 parts vs 1: skipped
    "Haus {n} | Häuser {pl} :: house | houses\n",                 # two aligned parts
    "Hund {m}; Köter {m} [pej.] :: dog; cur; hound\n",            # first alternatives
    "Europäische Union /EU/ [pol.] :: European Union /EU/ [pol.]\n",
    "Aktiengesellschaft {f} /AG/ :: public limited company /plc/\n",  # lower-case /plc/ stays
    "Telefon {n} /Tel./ :: telephone /Tel./\n",
    "Forschung und Entwicklung /F&E/ :: research and development /R&D/\n",
    "Kfz-Steuer {f} /Kfz-St./ :: motor vehicle tax\n",
    "/ÖBB/ Österreichische Bundesbahnen :: Austrian Federal Railways /ÖBB/\n",  # Unicode capital
    "er/sie kommt /geb./ :: he/she comes\n",                      # lower-case: not /ABBR/
    "Angst/Furcht/Sorge :: fear/worry/concern\n",                 # /Furcht/ matches, as the rule says
    "Abk. (Abkürzung (kurz) [ling.]) {f} :: abbr. (abbreviation [ling.] <short>)\n",  # nested
    "Rose {f} <Rosa> {f} (Gattung) [bot.] :: rose <Rosa> (genus) [bot.]\n",  # several kinds
    "Aal {m} (auf der Speisekarte; im Restaurant) :: eel (on a menu)\n",  # '; ' inside ( )
    "{m} [ugs.] | Baum {m} :: (coll.) | tree\n",                  # German part 1 empty
    "Leer {adj} :: {n} [ugs.]\n",                                 # English side empty
    "Baum {m} :: tree\n",                                         # duplicate of Baum/tree
    "Baum [bot.] :: tree [bot.]\n",                               # duplicate after cleaning too
    "Baum :: wood\n",                                             # same German, other English
    "Tab\tstopp :: tab stop\n",                                   # tab: dropped
    "  viel   Platz  :: lots   of  space \n",                     # squeezed and stripped
    "Zeichen :: sign :: mark\n",                                  # split at the first ' :: '
    "Eins zwei drei\r\n",                                         # CRLF, no ' :: '
    "Sehr gut :: very good\r\n",                                  # CRLF stripped
    "Komm her! :: Come here!\n",                                  # 2 words (hash%100 = 1): train
    "Bernd liest ein Buch. :: Bernd reads a book.\n",             # sentence, hash%100 = 5: train
    "Paula kauft Brot. :: Paula buys bread.\n",                   # hash%100 = 0: test
    "Dieter schläft im Zug. :: Dieter sleeps on the train.\n",    # 1: test
    "Wo wohnt Sabine jetzt? :: Where does Sabine live now?\n",    # 1: test ('?')
    "Hör auf, Anna! :: Stop it, Anna!\n",                         # 1: test ('!')
    "Kommt Frieda heute? :: Is Frieda coming today?\n",           # 2: dev
    "Hör auf, Günther! :: Stop it, Günther!\n",                   # 2: dev
    "Bernd fährt über die Brücke. :: Bernd crosses the bridge.\n",  # 3: reserved, nowhere
    "Paula trinkt gern Tee. :: Paula likes drinking tea.\n",      # 4: reserved, nowhere
    "Paula kauft Brot. {v} [ugs.] :: Paula is buying bread\n",    # held-out German: test, not train
    "Paula kauft Brot. :: Paula buys bread.\n",                   # duplicate held-out pair
    "Ist Bernd schon müde? | müde {adj} :: Is Bernd tired yet? | tired\n",  # 1: test; müde: train
])

EXPECTED = {
    "train": [
        ("Haus", "house"),
        ("Häuser", "houses"),
        ("Hund", "dog"),
        ("Europäische Union", "European Union"),
        ("Aktiengesellschaft", "public limited company /plc/"),
        ("Telefon", "telephone"),
        ("Forschung und Entwicklung", "research and development"),
        ("Kfz-Steuer", "motor vehicle tax"),
        ("Österreichische Bundesbahnen", "Austrian Federal Railways"),
        ("er/sie kommt /geb./", "he/she comes"),
        ("AngstSorge", "fear/worry/concern"),
        ("Abk.", "abbr."),
        ("Rose", "rose"),
        ("Aal (auf der Speisekarte", "eel"),
        ("Baum", "tree"),
        ("Baum", "wood"),
        ("viel Platz", "lots of space"),
        ("Zeichen", "sign :: mark"),
        ("Sehr gut", "very good"),
        ("Komm her!", "Come here!"),
        ("Bernd liest ein Buch.", "Bernd reads a book."),
        ("müde", "tired"),
    ],
    "dev": [
        ("Kommt Frieda heute?", "Is Frieda coming today?"),
        ("Hör auf, Günther!", "Stop it, Günther!"),
    ],
    "test": [
        ("Paula kauft Brot.", "Paula buys bread."),
        ("Dieter schläft im Zug.", "Dieter sleeps on the train."),
        ("Wo wohnt Sabine jetzt?", "Where does Sabine live now?"),
        ("Hör auf, Anna!", "Stop it, Anna!"),
        ("Paula kauft Brot.", "Paula is buying bread"),
        ("Ist Bernd schon müde?", "Is Bernd tired yet?"),
    ],
}

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def run_extract(source, outdir):
    """extract.py's main, in this process (a second interpreter would double the time)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = extract.main(["extract.py", source, outdir])
    return rc, stdout.getvalue(), stderr.getvalue()


def read_tsv(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    return [tuple(line.split("\t")) for line in text.split("\n")[:-1]], text


def main():
    # FNV-1a 64 test vectors (Fowler/Noll/Vo reference test suite).
    for data, want in [(b"", 0xCBF29CE484222325), (b"a", 0xAF63DC4C8601EC8C),
                       (b"foobar", 0x85944171F73967E8)]:
        check(f"fnv1a64({data!r})", fnv1a64(data) == want, hex(fnv1a64(data)))

    # The sample's sentences land where the comments say (guards the sample, not the code).
    for german, want in [("Paula kauft Brot.", "test"), ("Dieter schläft im Zug.", "test"),
                         ("Wo wohnt Sabine jetzt?", "test"), ("Hör auf, Anna!", "test"),
                         ("Ist Bernd schon müde?", "test"), ("Kommt Frieda heute?", "dev"),
                         ("Hör auf, Günther!", "dev"), ("Bernd fährt über die Brücke.", "reserved"),
                         ("Paula trinkt gern Tee.", "reserved"), ("Bernd liest ein Buch.", None)]:
        check(f"bucket({german!r})", bucket(german) == want, f"{bucket(german)} != {want}")
    check("'Komm her!' hashes into test", fnv1a64("Komm her!".encode()) % 100 == 1)

    # clean() on its own.
    for part, want in [("(a (b [c] d) e) f", "f"), ("x [a (b] c)", "x c)"),
                       ("Wort /Abc-1.&x/ hier", "Wort hier"), ("a /b/ c", "a /b/ c"),
                       ("er/sie/EU/ x", "er/sie x"), ("a /Ωm/ b", "a b"),
                       (" a\u00a0 b ", "a b"), ("a\tb", "a\tb"), ("{m}; Hund", "")]:
        check(f"clean({part!r})", clean(part) == want, f"{clean(part)!r} != {want!r}")

    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "de-en")
        with open(source, "w", encoding="utf-8", newline="") as f:
            f.write(SAMPLE)
        out = os.path.join(tmp, "out")
        rc, stdout, stderr = run_extract(source, out)
        check("extract.py exits 0", rc == 0, stderr.strip())
        check("extract.py prints the counts", "train 22, dev 2, test 6, reserved 2" in stdout,
              stdout.strip())
        for split, want in EXPECTED.items():
            path = os.path.join(out, split + ".tsv")
            if not os.path.exists(path):
                check(f"{split}.tsv written", False)
                continue
            got, text = read_tsv(path)
            check(f"{split}.tsv pairs", got == want,
                  "\n  got:  " + repr(got) + "\n  want: " + repr(want))
            check(f"{split}.tsv one tab per line, no CR",
                  all(line.count("\t") == 1 for line in text.split("\n")[:-1]) and "\r" not in text)
        check("no temporary files left", sorted(os.listdir(out)) == ["dev.tsv", "test.tsv", "train.tsv"],
              str(os.listdir(out)))
        check("train and held-out German sides are disjoint",
              not {de for de, _ in EXPECTED["train"]} & {de for s in ("dev", "test") for de, _ in EXPECTED[s]})

        bad = os.path.join(tmp, "bad")
        with open(bad, "wb") as f:
            f.write(b"Haus :: house\nK\xe4se :: cheese\n")
        rc, _, stderr = run_extract(bad, out)
        check("invalid UTF-8 is an error naming the line",
              rc == 1 and f"{bad}:2: invalid UTF-8" in stderr, stderr.strip())

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
