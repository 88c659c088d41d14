"""MkDocs hook: the scenario reference page, generated from the schema at every build.

The page is never written by hand, so it cannot drift from what `scsim validate` accepts:
every section a scenario file may have, each field with its type, default, bounds and the
description the schema gives it. It reads pydantic's JSON schema of `Scenario`, which carries
all of that, and walks it from the top of a file down, naming each section by its TOML path.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

PAGE = "reference/scenario.md"
INTRO = """# Scenario reference

Every section and field a scenario file may contain, generated from the schema
(`scsim.scenario.schema`) when this site is built. A field without a default is required.
Keys not listed here are errors: `scsim validate FILE` names the file, the field and what was
expected. Names of regions, classes, sensors, events, tiers, rules, lists and services are
yours to choose (a letter, then letters, digits, `_`, `+` or `-`; at most 64 characters).
What each mechanism does, and where its values come from, is on the
[model](../model.md) and [sources](../sources.md) pages.
"""


def _schema() -> dict[str, Any]:
    from scsim.scenario.schema import Scenario

    return Scenario.model_json_schema()


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _children(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(path suffix, definition name) for every section reachable from one field's schema."""
    name = _ref_name(node)
    if name:
        return [("", name)]
    found: list[tuple[str, str]] = []
    for option in node.get("anyOf", []):
        found += _children(option)
    if isinstance(node.get("items"), dict):
        found += [(f"[]{suffix}", ref) for suffix, ref in _children(node["items"])]
    values = _table_values(node)
    if values is not None:
        found += [(f".<name>{suffix}", ref) for suffix, ref in _children(values)]
    return found


def _table_values(node: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of a keyed table's values (`dict[Name, X]`), or None if it is not one."""
    if isinstance(node.get("additionalProperties"), dict):
        return node["additionalProperties"]
    patterns = list(node.get("patternProperties", {}).values())
    return patterns[0] if patterns else None


def section_paths(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Each definition's TOML paths, the shortest first (breadth-first from the file's top)."""
    paths: dict[str, list[str]] = {"": [""]}
    queue: deque[tuple[str, dict[str, Any]]] = deque([("", schema)])
    while queue:
        path, node = queue.popleft()
        for field, spec in node.get("properties", {}).items():
            for suffix, name in _children(spec):
                where = f"{path}.{field}{suffix}".lstrip(".")
                seen = name in paths
                paths.setdefault(name, []).append(where)
                if not seen:
                    queue.append((where, schema["$defs"][name]))
    return paths


def anchor(name: str) -> str:
    return name.lower() if name else "top-level"


def type_text(node: dict[str, Any]) -> str:
    """A field's type in words, with links to the sections it holds."""
    name = _ref_name(node)
    if name:
        return f"[{name}](#{anchor(name)})"
    if "anyOf" in node:
        return " or ".join(type_text(option) for option in node["anyOf"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in node["enum"])
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {type_text(node.get('items', {}))}"
    if kind == "object":
        values = _table_values(node)
        return f"table of {type_text(values)} by name" if values is not None else "table"
    if kind == "string" and node.get("format") == "date":
        return "date"
    return {"null": "none", "number": "number", "integer": "integer"}.get(kind, kind)


BOUND_WORDS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minItems", "at least {} entries"),
    ("maxItems", "at most {} entries"),
    ("minProperties", "at least {} entries"),
    ("maxProperties", "at most {} entries"),
)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def bounds_text(node: dict[str, Any]) -> str:
    """The limits a value must keep, including those of a list's entries or an optional's value."""
    words = [template.format(_number(node[key])) for key, template in BOUND_WORDS if key in node]
    if "maxLength" in node:
        words.append(f"{node.get('minLength', 0)} to {node['maxLength']} characters")
    inner = [node["items"]] if isinstance(node.get("items"), dict) else []
    inner += [option for option in node.get("anyOf", []) if option.get("type") != "null"]
    for option in inner:
        text = bounds_text(option)
        if text and text not in words:
            words.append(("each " if option is node.get("items") else "") + text)
    return "; ".join(words)


def default_text(name: str, spec: dict[str, Any], required: set[str]) -> str:
    if name in required:
        return "required"
    if "default" not in spec:  # a default_factory: an empty table or list, or a section's defaults
        return "its defaults" if _children(spec) and "type" not in spec else "empty"
    value = spec["default"]
    if value is None:
        return "none (off)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _toml_header(path: str) -> str:
    """A section's header as a file writes it: `[a.b]`, or `[[a.b]]` for an entry of a list."""
    if path.endswith("[]") and "[]" not in path[:-2]:
        return f"`[[{path[:-2]}]]`"
    return f"`[{path}]`"


def section_markdown(name: str, node: dict[str, Any], paths: list[str]) -> str:
    """One section: its TOML path, what it is, and a row per field."""
    title = _toml_header(paths[0]) if paths[0] else "The top of the file"
    lines = [f"## {title} {{#{anchor(name)}}}", ""]
    if len(paths) > 1:
        lines += ["Also at " + ", ".join(_toml_header(path) for path in paths[1:]) + ".", ""]
    if node.get("description"):
        lines += [" ".join(node["description"].split()), ""]
    lines += ["| field | type | default | bounds | meaning |", "| --- | --- | --- | --- | --- |"]
    required = set(node.get("required", []))
    for field, spec in node.get("properties", {}).items():
        cells = (
            f"`{field}`",
            type_text(spec),
            default_text(field, spec, required),
            bounds_text(spec),
            spec.get("description", ""),
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """The whole page: the top of a file first, then every section in the order it is reached."""
    schema = _schema()
    paths = section_paths(schema)
    parts = [INTRO]
    for name, where in paths.items():
        node = schema if name == "" else schema["$defs"][name]
        parts.append(section_markdown(name, node, where))
    return "\n".join(parts)


def on_files(files: Any, config: Any) -> Any:
    """Add the generated page to the site's files (nothing is written into docs/)."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=reference_markdown()))
    return files
