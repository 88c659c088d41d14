"""Reading scenario files: TOML in, a validated `Scenario` out, or one `ScenarioError`.

A scenario may `extends` a built-in (by name) or another file (by path relative to itself);
the child's tables are merged into the parent's field by field, arrays replace arrays.

    >>> s = load_scenario("rongcheng", overrides={"population.size": 10_000})
    >>> s.population.size
    10000
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from scsim.errors import ScenarioError
from scsim.scenario.errors import one_line, shown, validation_problems
from scsim.scenario.merge import merge_tables
from scsim.scenario.references import check_references
from scsim.scenario.schema import Scenario
from scsim.scenario.schema.explorer import check_levers

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32
MAX_EXTENDS = 16  # files in one `extends` chain: the built-ins use one, a deeper chain is a loop


def builtin_names() -> list[str]:
    folder = resources.files("scsim.scenario") / "builtins"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("scsim.scenario") / "builtins" / f"{name}.toml"))


def builtin_copy(name: str) -> str:
    """A built-in's file as written (its comments keep the sources and [U] marks), named
    NAME-copy, so that an edited copy is its own scenario rather than a second `NAME` whose
    runs and reports would pass for the built-in's. It loads to the built-in but for the name."""
    text = builtin_path(name).read_text()
    line = re.compile(rf'^name\s*=\s*"{re.escape(name)}"[^\n]*$', re.MULTILINE)
    copy = f"{name[: NAME_LIMIT - len(COPY)]}{COPY}"
    renamed = f'name = "{copy}"  # the built-in {name}, copied: rename it'
    return line.sub(lambda _: renamed, text, count=1)


COPY = "-copy"
NAME_LIMIT = 64  # the schema's longest scenario name


def load_scenario(
    source: str | Path | Scenario,
    overrides: dict[str, Any] | None = None,
    *,
    names: dict[str, str] | None = None,
) -> Scenario:
    """Load a built-in name, a file path or a `Scenario`, apply dotted-path overrides, and
    validate the result.

    A mistake is blamed on what made it: the file (of an `extends` chain) whose value is wrong,
    or the override (`names` says what set it, e.g. {"population.size": "--population"}). A
    file must be valid as written, as `scsim validate` checks it, whatever overrides follow."""
    if isinstance(source, Scenario):
        label = f"scenario {source.name}"
        raw = source.model_dump(mode="json", exclude_none=True)
        layers = [(label, raw)]
    else:
        layers = _layers(source, base_dir=Path.cwd(), chain=())
        label, raw = layers[0][0], _merged(layers)
        if overrides:
            _validated(raw, layers, {}, {})
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value, _override_label(dotted, value, names or {}))
    return _validated(raw, layers, overrides or {}, names or {})


def resolve(source: str | Path) -> tuple[str, dict[str, Any]]:
    """The scenario's label (its file) and its raw table with every `extends` merged in."""
    layers = _layers(source, base_dir=Path.cwd(), chain=())
    return layers[0][0], _merged(layers)


def _validated(
    raw: dict[str, Any],
    layers: list[tuple[str, dict[str, Any]]],
    overrides: dict[str, Any],
    names: dict[str, str],
) -> Scenario:
    try:
        scenario = Scenario.model_validate(raw)
        check_references(scenario, layers[0][0])
        if not overrides:  # a file as written (see check_levers)
            check_levers(scenario, layers[0][0])
    except ValidationError as exc:
        other = other_kind(layers[0][0], layers[0][1], "scenario")
        if other is not None:
            raise other from None
        problems = [
            (_blamed(path, layers, overrides, names), path, expected)
            for path, expected in validation_problems(exc)
        ]
        raise ScenarioError(*one_line(problems)) from None
    except ScenarioError as exc:
        where = _blamed(exc.path, layers, overrides, names)
        raise ScenarioError(where, exc.path, exc.expected) from None
    return scenario


def _blamed(
    path: str,
    layers: list[tuple[str, dict[str, Any]]],
    overrides: dict[str, Any],
    names: dict[str, str],
) -> str:
    """Who set the value at `path`: the last override on it; else, with overrides, the one
    nearest it (the files were valid as written, so an override made the value clash with
    another: a scale's new bound with the file's grades); else the nearest file of the
    `extends` chain that writes it (the child's label for a value nobody wrote)."""
    parts = [part for part in path.replace("[", ".").replace("]", "").split(".") if part]
    for dotted, value in reversed(overrides.items()):
        if _within(parts, dotted.split(".")):
            return _override_label(dotted, value, names)
    if overrides:  # the last of those sharing the most of the path's tables
        dotted = max(reversed(overrides), key=lambda d: _shared(parts, d.split(".")))
        return _override_label(dotted, overrides[dotted], names)
    for depth in range(len(parts), 0, -1):  # a missing field: the file that wrote its table
        for label, own in layers:
            if _writes(own, parts[:depth]):
                return label
    return layers[0][0]


def _within(parts: list[str], prefix: list[str]) -> bool:
    """Whether one path lies under the other (an override of a table covers its fields; an
    error on a table covers the override of one of its fields)."""
    return parts[: len(prefix)] == prefix or prefix[: len(parts)] == parts


def _shared(parts: list[str], other: list[str]) -> int:
    """How many leading tables two paths share."""
    return next(
        (i for i, (a, b) in enumerate(zip(parts, other, strict=False)) if a != b),
        min(len(parts), len(other)),
    )


def _writes(raw: Any, parts: list[str]) -> bool:
    node = raw
    for part in parts:
        if not isinstance(node, dict):
            return True  # a value or an array (arrays replace arrays): this file wrote it whole
        if part not in node:
            return False
        node = node[part]
    return True


READER = {"scenario": "scsim run", "sweep": "scsim sweep", "sensitivity": "scsim sensitivity"}
"""The command that reads each kind of scsim file."""


def file_kind(raw: dict[str, Any]) -> str | None:
    """Which kind of scsim file a table is, by the tables only that kind has; None if none."""
    if "sensitivity" in raw:
        return "sensitivity"
    if raw.keys() & {"grid", "variants"}:
        return "sweep"
    if raw.keys() & {"extends", "run", "population", "behaviour", "rulebook", "surveillance"}:
        return "scenario"
    return None


def other_kind(label: str, raw: dict[str, Any], expected: str) -> ScenarioError | None:
    """A file of another kind than `expected`, named as such with the command that reads it:
    a sweep file given to `scsim run` lacks every field of a scenario, and listing them all
    would hide the one thing to say."""
    kind = file_kind(raw)
    if kind is None or kind == expected:
        return None
    return ScenarioError(
        label, "", f"a {kind} file, not a {expected} file: `{READER[kind]} {label}` reads it"
    )


OVERRIDE = "an override"
"""The label of a mistake an override made, where nothing names what set it."""


def _override_label(dotted: str, value: Any, names: dict[str, str]) -> str:
    return f"{names[dotted]} {shown(value)}" if dotted in names else OVERRIDE


def _merged(layers: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The tables of an `extends` chain (child first) merged, the child's fields winning."""
    raw: dict[str, Any] = {}
    for _, own in reversed(layers):
        raw = merge_tables(raw, own)
    return raw


def to_toml(scenario: Scenario) -> str:
    return tomli_w.dumps(scenario.model_dump(mode="json", exclude_none=True))


def chain_files(source: str | Path) -> list[Path]:
    """The file of `source` and every file it extends, the child first, as loading finds them
    (and refuses them: a cycle, a chain too long, a file that is not a scenario)."""
    return [Path(label) for label, _ in _layers(source, base_dir=Path.cwd(), chain=())]


def _layers(
    source: str | Path, base_dir: Path, chain: tuple[str, ...]
) -> list[tuple[str, dict[str, Any]]]:
    """Each file of the `extends` chain, child first: its label and its own table."""
    path = _locate(source, base_dir, chain)
    label = str(path)
    if label in chain:
        cycle = " -> ".join([*chain[chain.index(label) :], label])
        raise ScenarioError(chain[-1], "extends", f"an extends cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            chain[-1], "extends", f"an extends chain longer than {MAX_EXTENDS} files"
        )
    raw = _read_toml(path)
    if chain and file_kind(raw) != "scenario":
        raise ScenarioError(
            chain[-1],
            "extends",
            f"{_short(str(source))} is not a scenario file (its contents are not shown)",
        )
    parent = raw.pop("extends", None)
    if parent is None:
        return [(label, raw)]
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(label, "extends", "expected the name of a built-in or a file path")
    return [(label, raw), *_layers(parent, path.parent, (*chain, label))]


def _locate(source: str | Path, base_dir: Path, chain: tuple[str, ...]) -> Path:
    text = str(source)
    if text in builtin_names():
        return builtin_path(text)
    path = Path(text) if Path(text).is_absolute() else base_dir / text
    if _is(path, Path.is_file):
        return path.resolve()
    if _is(path, Path.is_dir):
        if chain:
            raise ScenarioError(chain[-1], "extends", f"{text} is a folder, not a scenario file")
        raise ScenarioError(text, "", "a folder, not a scenario file")
    shown = _short(text)
    where = chain[-1] if chain else shown
    field = "extends" if chain else ""
    known = ", ".join(builtin_names())
    raise ScenarioError(
        where, field, f"no built-in scenario or file named {shown!r} (built-ins: {known})"
    )


def _short(text: str) -> str:
    """A name as a message shows it: at most 80 characters."""
    return text if len(text) <= 80 else text[:77] + "..."


def _is(path: Path, test: Callable[[Path], bool]) -> bool:
    """`test(path)`, where a name the system cannot look up (too long, with a NUL byte) names
    nothing rather than raising."""
    try:
        return test(path)
    except (OSError, ValueError):
        return False


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:  # never more than the limit, however large the file
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(str(path), "", f"expected a scenario file under {MAX_FILE_BYTES} bytes")
    try:
        raw = tomllib.loads(data.decode("utf-8-sig"))  # -sig: Windows editors start with a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        found = (
            "found binary data"
            if b"\0" in data
            else f"line {line} has byte 0x{data[exc.start]:02X}, not UTF-8 (save the file as UTF-8)"
        )
        raise ScenarioError(str(path), "", f"expected a UTF-8 TOML file, {found}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "(syntax)", f"invalid TOML: {exc}") from None
    except ValueError:  # Python refuses to read an integer of more than 4300 digits
        raise ScenarioError(
            str(path), "(syntax)", "invalid TOML: a number with thousands of digits"
        ) from None
    except RecursionError:
        raise ScenarioError(str(path), "", f"nested deeper than {MAX_DEPTH} levels") from None
    _check_depth(raw, str(path))
    return raw


def _check_depth(value: Any, label: str, depth: int = 0, path: str = "") -> None:
    if depth > MAX_DEPTH:
        raise ScenarioError(label, path, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_depth(item, label, depth + 1, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_depth(item, label, depth + 1, f"{path}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(label, path, f"expected a finite number, got {value}")


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any, label: str) -> None:
    """Set a dotted path; a number after an array's name picks its entry, from 0
    (`rulebook.changes.2.services.flight.retry`: a calibration may move a dated change)."""
    *parents, leaf = dotted.split(".")
    node: Any = raw
    for i, part in enumerate(parents):
        at = ".".join(parents[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(label, dotted, f"{at}: expected an index below {len(node)}")
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
        if not isinstance(node, dict | list):
            raise ScenarioError(label, dotted, f"cannot be set: {at} is a value, not a table")
    if isinstance(node, list):
        raise ScenarioError(label, dotted, "cannot be set: an array's entry is a table")
    node[leaf] = value
