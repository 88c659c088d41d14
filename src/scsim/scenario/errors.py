"""pydantic errors turned into the one line a user reads: the field path and what was expected."""

from __future__ import annotations

import datetime as dt
import math
import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from scsim.scenario.schema import Scenario

MAX_SHOWN = 8


def validation_problems(
    exc: ValidationError, model: type[BaseModel] = Scenario
) -> list[tuple[str, str]]:
    """Every problem pydantic found in a file of `model`, as (dotted path, what was expected):
    a user fixes a file in one pass, not one per try."""
    problems: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        path, expected = _problem(error, model)
        if path in problems:  # a union's alternatives, one problem: "'all' or 'none' or ..."
            got = f", got {shown(error.get('input'))}"
            first = problems[path].removesuffix(got)
            problems[path] = f"{first} or {expected.removeprefix('Input should be ')}"
        else:
            problems[path] = expected
    return list(problems.items())


def one_line(problems: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """The (file, path, expected) of the first problem, with every other one after it (up to
    MAX_SHOWN), each named by its own file where that is another (a parent's mistake found
    through its child is the parent's)."""
    (file, path, expected), *rest = problems
    expected += "".join(
        f"; {p}: {e}" if f == file else f"; {f}: {p}: {e}" for f, p, e in rest[: MAX_SHOWN - 1]
    )
    hidden = len(rest) - (MAX_SHOWN - 1)
    if hidden > 0:
        expected += f" (and {hidden} more problem{'s' if hidden > 1 else ''})"
    return file, path, expected


def _problem(error: Any, model: type[BaseModel]) -> tuple[str, str]:
    loc = _without_union_member(tuple(str(part) for part in error["loc"]), model)
    path = ".".join(loc)
    if error["type"] == "extra_forbidden":
        valid = _fields_at(loc[:-1], model)
        expected = "unknown field" + (f"; expected one of: {', '.join(valid)}" if valid else "")
    elif error["type"] == "missing":
        expected = "required field is missing"
    elif error["type"] in ("model_type", "dict_type"):  # pydantic names its class: "Run"
        expected = f"expected a table ([{path}] or {{...}}), got {shown(error.get('input'))}"
    else:
        expected = f"{error['msg']}, got {shown(error.get('input'))}"
        if error["msg"].startswith("Value error, "):
            expected = error["msg"].removeprefix("Value error, ")
            path, expected = _located(path, expected)
    return path or "(top level)", expected


def _located(path: str, message: str) -> tuple[str, str]:
    """A validator that checks a whole section names the field at fault at the start of its
    message ("rulebook.changes[2].date: ..."); that field is the error's path."""
    match = _LOCATED.match(message)
    if match and match[1].startswith(path):
        return match[1], match[2]
    return path, message


_LOCATED = re.compile(r"^([A-Za-z_][\w+\-]*(?:\.[\w+\-]+|\[\d+\])*): (.*)$", re.S)


def shown(value: Any) -> str:
    """A value as the file wrote it: TOML's dates and times as TOML writes them, not as
    Python's datetime.datetime(2017, 1, 1, 10, 0)."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int) and value.bit_length() > 64:  # repr refuses over 4300 digits
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    try:
        text = repr(value)
    except ValueError:  # such an integer inside an array or table
        return "a value holding an integer of over 4300 digits"
    return text if len(text) <= 40 else text[:37] + "..."


def _without_union_member(loc: tuple[str, ...], model: type[BaseModel]) -> tuple[str, ...]:
    """`loc` less the name pydantic gives a union's member (run.people.constrained-int is
    run.people): a user wrote one field, not one per type it may hold."""
    node: Any = model
    for i, part in enumerate(loc):
        if part.isdigit():  # an array's entry: the entry's type is the array's
            continue
        child = _child(node, part)
        if child is None:
            return loc if _is_model(node) else loc[:i]  # a model's unknown field stays
        node = child
    return loc


def _fields_at(loc: tuple[str, ...], model: type[BaseModel]) -> list[str]:
    """The valid keys of the model that `loc` points into, walking dict[str, Model] tables."""
    node: Any = model
    for part in loc:
        node = _child(node, part)
        if node is None:
            return []
    return list(node.model_fields) if _is_model(node) else []


def _child(node: Any, part: str) -> Any:
    if _is_model(node):
        field = node.model_fields.get(part)
        return None if field is None else _unwrap(field.annotation)
    if typing.get_origin(node) is dict:
        return _unwrap(typing.get_args(node)[1])
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional and Annotated wrappers down to a model class or dict type."""
    for arg in (annotation, *typing.get_args(annotation)):
        if _is_model(arg) or typing.get_origin(arg) is dict:
            return arg
    return annotation


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)
