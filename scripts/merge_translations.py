"""Fill untranslated entries of the Japanese catalogue from PO fragments.

    python scripts/merge_translations.py locale/ja/LC_MESSAGES/django.po fragment.po [...]

A fragment is a plain list of PO entries (msgctxt, msgid, msgstr; no header
needed), written by whoever added the strings. Only entries that are empty or
fuzzy in the catalogue are filled; an existing translation always wins.
Run `make messages` first so the catalogue knows every msgid.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

# In the order a PO entry writes them.
KEYWORDS = ("msgctxt", "msgid", "msgid_plural", "msgstr", "msgstr[0]", "msgstr[1]")


def parse(text: str) -> list[dict]:
    """Entries as dicts of keyword → string, plus "flags" and the raw "lines"."""
    entries: list[dict] = []
    current: dict = {"lines": [], "flags": ""}
    key = None
    for line in text.splitlines():
        if not line.strip():
            if any(k in current for k in KEYWORDS):
                entries.append(current)
            current, key = {"lines": [], "flags": ""}, None
            continue
        current["lines"].append(line)
        if line.startswith("#,"):
            current["flags"] = line
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr\[\d\]|msgstr)\s+(\".*\")$", line)
        if match and match.group(1) in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in current):
            # A hand-written fragment may run entries together without a blank line.
            current["lines"].pop()
            entries.append(current)
            current = {"lines": [line], "flags": ""}
        if match:
            key = match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    if any(k in current for k in KEYWORDS):
        entries.append(current)
    return entries


def quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def render(entry: dict) -> str:
    # Previous-msgid lines (#|) only explain a fuzzy guess: a filled entry drops them.
    lines = [line for line in entry["lines"] if line.startswith("#") and not line.startswith(("#,", "#|"))]
    flags = entry["flags"].replace("fuzzy", "").replace(", ,", ",").strip()
    if flags not in ("#,", "#", ""):
        lines.append(flags.rstrip(","))
    for key in KEYWORDS:
        if key in entry:
            lines.append(f"{key} {quote(entry[key])}")
    return "\n".join(lines)


def translated(entry: dict) -> bool:
    if "fuzzy" in entry["flags"]:
        return False
    if "msgid_plural" in entry:
        return bool(entry.get("msgstr[0]"))
    return bool(entry.get("msgstr"))


def main(catalogue: Path, fragments: list[Path]) -> int:
    known: dict[tuple[str, str], dict] = {}
    for fragment in fragments:
        for entry in parse(fragment.read_text()):
            if entry.get("msgid") and translated(entry):
                known.setdefault((entry.get("msgctxt", ""), entry["msgid"]), entry)
    entries = parse(catalogue.read_text())
    filled = 0
    for entry in entries:
        if not entry.get("msgid") or translated(entry):
            continue
        source = known.get((entry.get("msgctxt", ""), entry["msgid"]))
        if source is None:
            continue
        for key in ("msgstr", "msgstr[0]", "msgstr[1]"):
            if key in source:
                entry[key] = source[key]
        if "msgid_plural" in entry and "msgstr[0]" not in source and "msgstr" in source:
            entry["msgstr[0]"] = source["msgstr"]
        entry["flags"] = entry["flags"].replace("fuzzy", "")
        filled += 1
    catalogue.write_text("\n\n".join(render(entry) for entry in entries) + "\n")
    missing = [e["msgid"] for e in entries if e.get("msgid") and not translated(e)]
    print(f"filled {filled}; still untranslated: {len(missing)}")
    for msgid in missing:
        print("  ", msgid[:100], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), [Path(arg) for arg in sys.argv[2:]]))
