"""The comments of a scenario file, by field: where each value comes from, or [U].

A scenario's values are sourced in comments beside them (a citation, or [U] for an assumption
of ours), which TOML parsers drop. `scsim explain` shows them beside the values, so they are
read here from the files' text: a key's comment is the one on its line, else the block of
comment lines right above it; a table header's likewise. A child file's comment replaces its
parent's for the fields it sets.

    >>> notes = field_notes("national-score")
    >>> notes["population.employment_rate"]
    '[U]'
    >>> note_for(notes, "population.regions.Beijing.share")   # the nearest table's comment
    'CN-BJ, 21,893,095 residents'
"""

from __future__ import annotations

import re
from pathlib import Path

from scsim.scenario.loader import chain_files

HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$")
ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=\s*(.*)$")


def field_notes(source: str | Path) -> dict[str, str]:
    """Dotted field path -> its comment, over the file and every file it extends."""
    chain = chain_files(source)
    notes: dict[str, str] = {}
    for path in reversed(chain):  # the parent's first: a child's comment replaces it
        notes |= comments(path.read_text(encoding="utf-8"))
    return notes


def note_for(notes: dict[str, str], dotted: str) -> str:
    """The comment of a field, else of the nearest table that holds it ("" where none)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        found = notes.get(".".join(parts[:end]))
        if found:
            return found
    return ""


def comments(text: str) -> dict[str, str]:
    """Dotted path -> comment, for one file's text (tables, keys, dotted keys)."""
    notes: dict[str, str] = {}
    table: list[str] = []
    above: list[str] = []
    depth = 0  # open brackets of a value that spans lines: its lines are not keys
    for line in text.splitlines():
        code, comment = _split_comment(line)
        if comment.startswith("---"):  # a ruler between sections, not a note
            comment = ""
            if not code.strip():
                above = []
                continue
        if depth > 0:
            depth += _nesting(code)
            continue
        if not code.strip():
            above = [*above, comment] if comment else []
            continue
        header = HEADER.match(code)
        assignment = None if header else ASSIGNMENT.match(code)
        if header:
            table = _keys(header.group(1))
            path = table
        elif assignment:
            path = table + _keys(assignment.group(1))
            depth = _nesting(assignment.group(2))
        else:
            above = []
            continue
        note = comment or " ".join(above)
        if note:
            notes[".".join(path)] = note
        above = []
    return notes


def _split_comment(line: str) -> tuple[str, str]:
    """The line's code and its comment (a `#` outside quotes), the comment without `#`."""
    quote = ""
    for at, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:at], line[at + 1 :].strip()
    return line, ""


def _nesting(code: str) -> int:
    """Brackets opened minus closed in a value (outside quotes)."""
    count, quote = 0, ""
    for char in code:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            count += 1
        elif char in "]}":
            count -= 1
    return count


def _keys(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in dotted.split(".")]
