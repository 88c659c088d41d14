"""A manifest that seals itself: run.json, compare.json and sweep.json carry the sha256 of
their own content, so `scsim verify` sees an edited summary or scenario as it sees an edited
data file.

What the seal promises: an accidental or careless change (an editor, a script that rewrites
the figures, a file cut short) is found. What it does not: anyone can recompute a sha256, so a
forger who edits a file and recomputes the checksums passes; a seal is not a signature.

    >>> document = sealed({"summary": {"sanctions": 12}})
    >>> seal_status(document)
    'ok'
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SEAL = "sealed_sha256"
"""The key of a manifest that holds the sha256 of the rest of it."""


def digest(document: dict[str, Any]) -> str:
    """The sha256 of a manifest's content, its seal left out: keys sorted, no spaces, so that
    reading and writing the JSON again does not change it."""
    content = {key: value for key, value in document.items() if key != SEAL}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def sealed(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with its seal, as it reads back from its JSON (the digest of what a reader
    will see: tuples read back as lists)."""
    plain = json.loads(json.dumps({k: v for k, v in document.items() if k != SEAL}))
    return {**plain, SEAL: digest(plain)}


def seal_status(document: dict[str, Any]) -> str:
    """ "ok", "mismatch" (changed since it was sealed) or "unsealed" (written before seals)."""
    if SEAL not in document:
        return "unsealed"
    try:
        same = document[SEAL] == digest(document)
    except (TypeError, ValueError):  # a value JSON cannot hold: not as scsim wrote it
        return "mismatch"
    return "ok" if same else "mismatch"
