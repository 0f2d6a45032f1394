#!/usr/bin/env python3
"""Rewrites the "- Tests:" list under each rule of docs/rules.md from the test names.

A test is named after the rules it checks (`r9_r17_…` checks R9 and R17), so the lists follow
from the code: `scripts/rule-tests.py` after adding or renaming a test, and the diff shows what
changed. Files under src/ and host/src/ hold unit tests; host/src/ledger/ is one folder.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIRS = ["tests", "host/tests", "src", "host/src"]
TEST_FN = re.compile(r"^\s*(?:async\s+)?fn\s+(r\d+(?:_r\d+)*_\w+)\s*\(", re.M)
# The browser tests (node:test in Chromium) are named by a sentence that starts with its rules.
TEST_JS = re.compile(r'^test\("((?:r\d+ )+[^"]*)"', re.M)


def label(path: str) -> str:
    if path.startswith("host/src/ledger/"):
        return "`host/src/ledger/` (unit tests)"
    if path.startswith(("src/", "host/src/")):
        return f"`{path}` (unit tests)"
    return f"`{path}`"


def tests_by_rule() -> dict[int, dict[str, list[str]]]:
    found: dict[int, dict[str, list[str]]] = {}
    for d in DIRS:
        for f in sorted((ROOT / d).rglob("*.rs")):
            rel = f.relative_to(ROOT).as_posix()
            for name in TEST_FN.findall(f.read_text(encoding="utf-8")):
                rules = re.match(r"((?:r\d+_)+)", name).group(1)
                for n in re.findall(r"r(\d+)_", rules):
                    by_file = found.setdefault(int(n), {})
                    names = by_file.setdefault(label(rel), [])
                    if name not in names:
                        names.append(name)
    for f in sorted((ROOT / "tests/e2e").glob("*.test.mjs")):
        rel = f.relative_to(ROOT).as_posix()
        for name in TEST_JS.findall(f.read_text(encoding="utf-8")):
            for n in re.findall(r"r(\d+) ", re.match(r"((?:r\d+ )+)", name).group(1)):
                names = found.setdefault(int(n), {}).setdefault(f"`{rel}` (Chromium)", [])
                if name not in names:
                    names.append(name)
    return found


def main() -> None:
    doc = ROOT / "docs/rules.md"
    lines = doc.read_text(encoding="utf-8").split("\n")
    found = tests_by_rule()
    out: list[str] = []
    rule = None
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^### R(\d+) ", line)
        if heading:
            rule = int(heading.group(1))
        elif line.startswith("## "):
            rule = None
        if line == "- Tests:" and rule is not None:
            out.append(line)
            i += 1
            while i < len(lines) and lines[i].startswith(("  - ", "    ")):
                i += 1
            for where, names in found.get(rule, {}).items():
                out.append(f"  - {where}: " + ", ".join(f"`{n}`" for n in names))
            continue
        out.append(line)
        i += 1
    doc.write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    main()
