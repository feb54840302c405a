"""Fail when a .po catalogue has untranslated or fuzzy entries (used by CI)."""

from __future__ import annotations

import sys
from pathlib import Path


def problems(path: Path) -> list[str]:
    found: list[str] = []
    entries = path.read_text(encoding="utf-8").split("\n\n")
    for entry in entries[1:]:  # the first entry is the header
        lines = [line for line in entry.strip().splitlines() if line]
        if not lines or all(line.startswith("#~") for line in lines):
            continue
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            found.append(f"fuzzy: {entry.strip()[:200]}")
            continue
        msgstrs: list[list[str]] = []
        current: list[str] | None = None
        for line in lines:
            if line.startswith("msgstr"):
                current = [line.split(" ", 1)[1]]
                msgstrs.append(current)
            elif line.startswith('"') and current is not None:
                current.append(line)
            elif not line.startswith('"'):
                current = None
        texts = ["".join(part.strip('"') for part in parts) for parts in msgstrs]
        if not texts or any(not text for text in texts):
            found.append(f"untranslated: {entry.strip()[:200]}")
    return found


def main(argv: list[str]) -> int:
    failures = [problem for name in argv for problem in problems(Path(name))]
    for failure in failures:
        print(failure)
    print(f"{len(failures)} untranslated or fuzzy entries")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
