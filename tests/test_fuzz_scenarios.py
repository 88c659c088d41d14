"""Bad input never crashes scsim: any scenario file is accepted, or refused in one line (exit 2).

Hypothesis writes scenario files and runs the real CLI on them (typer's CliRunner, in process):
`scsim validate` on every file, `scsim run FILE --population 500 --days 3` on a subset. The
files are the tiny scenario resolved and then mutated (a field deleted, retyped, renamed, made
huge, negative, NaN, nested deep, given unicode), the same as a child that `extends` a built-in,
TOML text with characters flipped, cut or inserted, binary junk and empty files. Each input
must end in exit 0, or in exit 2 with exactly one line on stderr and no traceback; either way
nothing is left behind but a finished run directory.

SCSIM_FUZZ_SCALE=20 python -m pytest tests/test_fuzz_scenarios.py   # a longer hunt
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from conftest import TINY_TOML, Outcome, cli
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scsim.engine.plan import compile_plan
from scsim.engine.population import Population
from scsim.errors import UserError
from scsim.scenario import builtin_names, load_scenario
from scsim.scenario.schema import Rulebook
from scsim.simulation.resources import estimate

SCALE = float(os.environ.get("SCSIM_FUZZ_SCALE", "1"))
TRIED = {"validate": 0, "run": 0, "accepted": 0, "refused": 0, "argument": 0}
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # what a run finds is reported, not replayed into later, unrelated runs
)


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    """The tiny scenario, every `extends` merged and every default filled: all fields present,
    with a scheduled rulebook change where this scsim has them."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.toml"
        path.write_text(TINY_TOML)
        raw = load_scenario(path).model_dump(mode="json", exclude_none=True)
    if "changes" in Rulebook.model_fields:
        change = {"day": 2, "rules": {"traffic_violation": {"points": -50}}}
        raw["rulebook"]["changes"] = [change]
    return raw


@pytest.fixture(scope="module")
def builtins() -> dict[str, dict[str, Any]]:
    """Every built-in scenario, resolved: other sections, other shapes to mutate."""
    return {
        name: load_scenario(name).model_dump(mode="json", exclude_none=True)
        for name in builtin_names()
    }


# ---------------------------------------------------------------- values and mutations

EXTREMES = [
    0,
    -1,
    1,
    2**15,
    2**31,
    2**63 - 1,
    -(2**63),
    10**30,
    -(10**30),
    0.5,
    -0.0,
    1e-320,
    1e308,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    "",
    "NaN",
    "1e9",
    "ü" * 70,
    [],
    {},
]


def junk() -> st.SearchStrategy:
    """Any TOML value: scalars of every type (unicode, huge, NaN), arrays, tables, dates."""
    scalars = (
        st.sampled_from(EXTREMES)
        | st.booleans()
        | st.integers(min_value=-(2**64), max_value=2**64)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=30)
        | st.datetimes()
        | st.dates()
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
        max_leaves=8,
    )


def nested(value: Any, depth: int, as_table: bool) -> Any:
    for _ in range(depth):
        value = {"x": value} if as_table else [value]
    return value


@st.composite
def mutated(draw: st.DrawFn, raw: dict[str, Any], steps: int = 3) -> dict[str, Any]:
    """`raw` with 1..steps random changes, each at a random place in its tree."""
    raw = copy.deepcopy(raw)
    for _ in range(draw(st.integers(1, steps))):
        if not raw:  # everything deleted already
            break
        parent, key = _place(draw, raw)
        _mutate(draw, raw, parent, key)
    return raw


def _place(draw: st.DrawFn, raw: dict[str, Any]) -> tuple[Any, Any]:
    """A (container, key) somewhere in the tree, descending at random."""
    node, parent, key = raw, None, None
    while isinstance(node, dict | list) and len(node) and (parent is None or draw(st.booleans())):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, draw(st.sampled_from(keys))
        node = node[key]
    if parent is None:
        return raw, draw(st.sampled_from(list(raw)))
    return parent, key


def _mutate(draw: st.DrawFn, raw: dict[str, Any], parent: Any, key: Any) -> None:
    how = draw(
        st.sampled_from(
            ["delete", "replace", "extreme", "nest", "add", "rename", "duplicate", "scale"]
        )
    )
    value = parent[key]
    if how == "delete" and isinstance(parent, dict):
        del parent[key]
    elif how == "replace":
        parent[key] = draw(junk())
    elif how == "extreme":
        parent[key] = draw(st.sampled_from(EXTREMES))
    elif how == "nest":
        parent[key] = nested(value, draw(st.integers(1, 80)), draw(st.booleans()))
    elif how == "add" and isinstance(value, dict):
        value[draw(st.text(max_size=12))] = draw(junk())
    elif how == "rename" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=70))] = parent.pop(key)
    elif how == "duplicate" and isinstance(parent, dict):
        parent[f"{key}_{draw(st.integers(0, 9))}"] = copy.deepcopy(value)
    elif how == "scale" and isinstance(value, int | float) and not isinstance(value, bool):
        factor = draw(st.sampled_from([-1, 0, 2, 10, 1000, 1e6, 1e-6, 1e300]))
        parent[key] = value * factor


BOUNDARY_FLOATS = [0.0, 1e-12, 0.001, 0.5, 0.999999, 1.0, 2.0, 8.0, 365.0, 3650.0]
BOUNDARY_INTS = [-1, 0, 1, 2, 3, 16, 255, 365, 1000, 10_000, 36_500]


@st.composite
def tweaked(draw: st.DrawFn, raw: dict[str, Any], steps: int = 4) -> dict[str, Any]:
    """`raw` with 1..steps numbers or switches set to boundary values (zero, one, tiny, large,
    just past a limit), or an optional entry deleted: mostly still valid, so a run meets them."""
    raw = copy.deepcopy(raw)
    leaves = list(_leaves(raw))
    for _ in range(draw(st.integers(1, steps))):
        parent, key = draw(st.sampled_from(leaves))
        if key not in parent:
            continue
        value = parent[key]
        if isinstance(value, bool):
            parent[key] = not value
        elif isinstance(value, float):
            parent[key] = draw(st.sampled_from(BOUNDARY_FLOATS) | st.just(value * 10))
        elif isinstance(value, int):
            parent[key] = draw(st.sampled_from(BOUNDARY_INTS) | st.just(value * 2))
        elif isinstance(parent, dict):
            del parent[key]
    return raw


def _leaves(node: Any) -> Any:
    """(container, key) of every value under `node`, tables and arrays included."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield node, key
        if isinstance(value, dict | list):
            yield from _leaves(value)


def as_toml(raw: dict[str, Any]) -> str:
    try:
        return tomli_w.dumps(raw)
    except (TypeError, ValueError):  # a value TOML cannot hold (tomli_w refuses it)
        assume(False)
        raise


@st.composite
def corrupted(draw: st.DrawFn, text: str) -> bytes:
    """TOML text with a few characters flipped, cut or inserted, or cut short."""
    data = bytearray(text.encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if how == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif how == "insert":
            data[at:at] = draw(
                st.binary(min_size=1, max_size=8)
                | st.text(max_size=8).map(str.encode)
                | st.integers(1, 6000).map(lambda n: b"9" * n)  # a number past int()'s limit
            )
        else:
            del data[at:]
    return bytes(data)


SPECIAL = [
    b"",
    b"\x00" * 100,
    b"\xef\xbb\xbf" + TINY_TOML.encode(),  # a byte-order mark
    TINY_TOML.encode("utf-16"),
    b"a = " + b"[" * 5000 + b"]" * 5000,
    b"a = " + b"{b = " * 2000 + b"1" + b"}" * 2000,
    b"[" + b".".join([b"a"] * 3000) + b"]",
    b"x = 1\n" * 200_000,  # over the size limit
    b'extends = "rongcheng"\n' + b"[run]\n" + b"days = 1e400\n",
    b'extends = ""\n',
    b"extends = 5\n",
    b'extends = "/"\n',
    b'extends = "/dev/zero"\n',
    b'extends = "/etc/passwd"\n',
    b'extends = "scenario.toml"\n',  # itself
    b'extends = "' + b"a" * 5000 + b'"\n',
    b'extends = "\\u0000"\n',
    b'name = "x"\n[population]\nsize = 1\n',
    b'extends = "rongcheng"\n[run]\ndays = ' + b"7" * 5000 + b"\n",  # past int() digit limit
    b'extends = "rongcheng"\n[run]\nseed = -' + b"9" * 4000 + b"\n",
    b'extends = "rongcheng"\n[population]\nsize = 1.' + b"5" * 5000 + b"e3\n",
    b'extends = "rongcheng"\n[population]\nsize = 0x' + b"f" * 5000 + b"\n",
    b'extends = "rongcheng"\nsources = [0b' + b"1" * 20000 + b"]\n",
    b'extends = "rongcheng"\n[run]\ndays = 1979-05-27T07:32:00Z\n',
    b'extends = "rongcheng"\n"\\u0000" = 1\n',
]


def raw_files() -> st.SearchStrategy:
    return (
        st.sampled_from(SPECIAL) | st.binary(max_size=300) | st.text(max_size=300).map(str.encode)
    )


# ---------------------------------------------------------------- running the CLI on a file


def try_file(content: bytes, *command: str) -> Outcome:
    """Write `content` as scenario.toml in a fresh folder and run `scsim COMMAND scenario.toml`;
    check the outcome and that nothing but a finished run directory is left behind."""
    TRIED[command[0]] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.toml"
        path.write_bytes(content)
        out = Path(folder) / "out"
        args = [command[0], str(path), *command[1:]]
        outcome = cli(*([*args, "--out", str(out)] if command[0] == "run" else args))
        assert "Traceback" not in outcome.text, outcome.text
        assert outcome.exit_code in (0, 2), outcome.text
        left = sorted(p.name for p in Path(folder).iterdir())
        if outcome.exit_code == 2:
            TRIED["refused"] += 1
            lines = outcome.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), lines
            assert left == ["scenario.toml"]
        else:
            TRIED["accepted"] += 1
            assert left == (["out", "scenario.toml"] if command[0] == "run" else ["scenario.toml"])
            if command[0] == "validate":  # what validates, `show` prints as TOML that validates
                shown = cli("show", str(path))
                assert shown.exit_code == 0, shown.text
                path.write_text(shown.stdout)
                assert cli("validate", str(path)).exit_code == 0
            if command[0] == "run":
                assert cli("verify", str(out)).exit_code == 0
                shutil.rmtree(out)
        return outcome


RUN = ("run", "--population", "500", "--days", "3")


@settings(FUZZ, max_examples=examples(250))
@given(data=st.data())
def test_validate_refuses_any_mutated_scenario_in_one_line_or_accepts_it(
    base: dict[str, Any], data: st.DataObject
) -> None:
    raw = data.draw(mutated(base))
    try_file(as_toml(raw).encode(), "validate")


@settings(FUZZ, max_examples=examples(100))
@given(data=st.data())
def test_validate_refuses_any_mutated_child_of_a_builtin_in_one_line_or_accepts_it(
    builtins: dict[str, dict[str, Any]], data: st.DataObject
) -> None:
    """A child that `extends` one built-in and repeats (mutated) sections of another."""
    parent = data.draw(st.sampled_from(sorted(builtins)))
    donor = builtins[data.draw(st.sampled_from(sorted(builtins)))]
    keys = sorted(data.draw(st.sets(st.sampled_from(sorted(donor)), max_size=3)))
    raw = data.draw(mutated({"extends": parent, **{key: donor[key] for key in keys}}, steps=2))
    try_file(as_toml(raw).encode(), "validate")


@settings(FUZZ, max_examples=examples(150))
@given(data=st.data())
def test_validate_refuses_corrupted_text_binary_junk_and_empty_files(
    base: dict[str, Any], data: st.DataObject
) -> None:
    content = data.draw(raw_files() | corrupted(tomli_w.dumps(base)) | corrupted(TINY_TOML))
    try_file(content, "validate")


@settings(FUZZ, max_examples=examples(40))
@given(data=st.data())
def test_run_of_a_mutated_scenario_finishes_or_is_refused_in_one_line(
    base: dict[str, Any], data: st.DataObject
) -> None:
    """Mutations of the values a run uses, most of them still valid, so the engine meets them."""
    raw = data.draw(tweaked(base) | mutated(base, steps=1))
    content = as_toml(raw).encode()
    assume(not heavy(content))
    try_file(content, *RUN)


def heavy(content: bytes) -> bool:
    """Whether a valid scenario would draw over a million events a day for 500 people: such a
    run is valid (a scenario may say 10^6 offences a year each) but slow, not a robustness case."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.toml"
        path.write_bytes(content)
        try:
            scenario = load_scenario(path, overrides={"population.size": 500, "run.days": 3})
        except UserError:
            return False
    pop = Population.generate(scenario.population, seed=scenario.run.seed)
    plan = compile_plan(scenario, pop)
    needed = estimate(plan, pop)
    return needed.events_per_day + needed.ledger_rows / 6 > 1e6


@settings(FUZZ, max_examples=examples(60))
@given(
    argument=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=300
    )
    | st.sampled_from(["", ".", "/", "/dev/null", "/proc/self", "-", "a" * 5000, "a/" * 3000])
)
def test_validate_of_any_argument_gives_exit_0_or_2_and_never_a_traceback(argument: str) -> None:
    TRIED["argument"] += 1
    outcome = cli("validate", "--", argument)
    assert "Traceback" not in outcome.text
    assert outcome.exit_code in (0, 2), outcome.text
    if outcome.exit_code == 2:
        (line,) = outcome.stderr.splitlines()
        assert line.startswith("error: ")
        assert line.isprintable(), line  # control characters of the name are shown escaped


WIDE = [2**31, -(2**31) - 1, 2**32, -3_000_000_000, 2**62, -(2**63)]
"""Numbers past the int32 the ledger keeps a delta in (the example of issue 29: a partner
penalty of -3e9 wrapped into a bonus), and past anything the engine holds."""
OTHER_TYPES = [True, False, "1", "0.5", [1], {"x": 1}]


@pytest.fixture(scope="module")
def corporate() -> dict[str, Any]:
    """The corporate built-in, resolved: companies, partners and measures, where the
    numbers that only a company has live (`partner_points`, `employee_points`)."""
    return load_scenario("corporate").model_dump(mode="json", exclude_none=True)


@settings(FUZZ, max_examples=examples(40))
@given(data=st.data())
def test_any_number_past_its_dtype_is_refused_or_runs_and_another_type_is_refused(
    corporate: dict[str, Any], data: st.DataObject
) -> None:
    raw = copy.deepcopy(corporate)
    numbers = [
        (parent, key)
        for parent, key in _leaves(raw)
        if isinstance(parent[key], int | float) and not isinstance(parent[key], bool)
    ]
    parent, key = data.draw(st.sampled_from(numbers))
    parent[key] = data.draw(st.sampled_from([*WIDE, *OTHER_TYPES]))
    content = as_toml(raw).encode()
    if parent[key] in WIDE and not isinstance(parent[key], bool):
        try_file(content, *RUN)  # wide: accepted where the field allows it, and then it runs
    else:
        assert try_file(content, "validate").exit_code == 2  # a number is never converted


def test_fuzzing_tried_enough_inputs(request: pytest.FixtureRequest) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and TRIED["validate"] + TRIED["run"]:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"scenario fuzz: {TRIED['validate']} files validated, {TRIED['run']} run; "
                f"{TRIED['accepted']} accepted, {TRIED['refused']} refused in one line; "
                f"{TRIED['argument']} file arguments"
            )
    # zero when a test was not selected, hypothesis's count of examples otherwise
    assert TRIED["validate"] == 0 or TRIED["validate"] >= examples(250)
