"""Merging scenario tables: a child's tables merged into its parent's field by field, arrays
and values replaced whole. Used by `extends` and by scheduled rulebook changes alike."""

from __future__ import annotations

from typing import Any


def merge_tables(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged
