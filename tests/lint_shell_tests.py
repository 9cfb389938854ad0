#!/usr/bin/env python3
"""Lint of the end-to-end shell tests (tests/*.sh): assertions that cannot fail.

`check DESCRIPTION COMMAND...` (tests/check_lib.sh) runs COMMAND and returns its status, so two
patterns assert nothing, or the wrong thing:
  - reading `$?` in the statement after a `check` (it reads check's status, not the command's
    that the description talks about: capture the exit code right after the command instead);
  - chaining `check ... && more` or `check ... || more` (the part after the operator runs
    outside check: its failure is never counted; make it a check of its own).
Usage: lint_shell_tests.py [FILE...]  (default: every tests/*.sh; exit 1 and one line per
finding when any is found, or when its own self-test on known snippets fails)
"""
import re
import sys


def drop_heredocs(text):
    """Blank the bodies of here-documents (YAML, JSON...), keeping line numbers."""
    lines, out, end = text.split("\n"), [], None
    for line in lines:
        if end is not None:
            out.append("")
            if line.strip() == end:
                end = None
            continue
        out.append(line)
        m = re.search(r"<<-?\s*(['\"]?)(\w+)\1", line)
        if m:
            end = m.group(2)
    return "\n".join(out)


def statements(text):
    """(line number, statement text) per statement: split on newlines and `;` outside quotes,
    joining backslash-continued lines; comments dropped; quoted text blanked to '' / ""
    (except `$?`, which double quotes still expand)."""
    text = drop_heredocs(text)
    out, cur, line, start = [], [], 1, 1
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"' and i + 1 < len(text):
                i += 2
                continue
            if c == quote:
                quote = None
                cur.append(c)
            elif c == "\n":
                line += 1
            elif quote == '"' and text.startswith("$?", i):
                cur.append("$?")  # `$?` inside double quotes is still a read of the status
                i += 1
            i += 1
            continue
        if c in "'\"":
            quote = c
            cur.append(c)
        elif c == "\\" and text.startswith("\\\n", i):
            line += 1
            cur.append(" ")
            i += 1
        elif c == "#" and (not cur or cur[-1] in " \t;("):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif c == "\n" or (c == ";" and not text.startswith(";;", i)):
            stmt = "".join(cur).strip()
            if stmt:
                out.append((start, stmt))
            cur = []
            if c == "\n":
                line += 1
            start = line
        else:
            cur.append(c)
        i += 1
    stmt = "".join(cur).strip()
    if stmt:
        out.append((start, stmt))
    return out


# A call of check, possibly behind `then`, `do`, `else` or `{`.
CHECK = re.compile(r"^(?:(?:then|do|else|\{)\s+)*check\s")


def lint(path):
    findings = []
    with open(path, encoding="utf-8", errors="replace") as f:
        stmts = statements(f.read())
    previous = None
    for number, stmt in stmts:
        is_check = bool(CHECK.match(stmt))
        if "$?" in stmt and previous is not None and CHECK.match(previous):
            findings.append(f"{path}:{number}: reads $? after a check (it is check's status): "
                            "capture the exit code right after the command")
        if is_check and re.search(r"&&|\|\|", stmt):
            findings.append(f"{path}:{number}: check ... && / || : the rest runs outside check "
                            "and its failure is not counted; make it a check of its own")
        previous = stmt
    return findings


SELF_TEST = {  # snippet -> number of findings
    'cmd\ncheck "exit 0" [ $? -eq 0 ]\n': 0,
    'cmd\ncheck "a" grep -q x f\ncheck "exit 1" [ $? -eq 1 ]\n': 1,
    'cmd; check "a" true; check "b" [ "$?" = 0 ]\n': 1,
    'cmd\ncheck "exit 1" [ $? -eq 1 ] && grep -q x err\n': 1,
    'check "a" \\\n  true || echo no\n': 1,
    'check "a" grep -q "x && y" f\n': 0,
    "check 'a' awk '$1 || $2' f\n": 0,
    'cat > f <<EOF\ndon\'t\nEOF\ncheck "a" true\nx=$?\n': 1,
}


def self_test():
    import os
    import tempfile
    bad = 0
    for snippet, want in SELF_TEST.items():
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
            f.write(snippet)
        got = len(lint(f.name))
        os.unlink(f.name)
        if got != want:
            print(f"self-test: {snippet!r}: {got} findings, expected {want}")
            bad += 1
    return bad == 0


def main(paths):
    if not self_test():
        return 1
    if not paths:  # every end-to-end test beside this script
        import glob
        import os
        paths = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "*.sh")))
    findings = [finding for path in paths for finding in lint(path)]
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
