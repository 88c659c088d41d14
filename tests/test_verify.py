"""`scsim verify RUN`: every file's sha256 recomputed against run.json.

Exit 0 when every file matches, 1 naming each file that is missing or changed, 2 (one line)
when RUN is not a run directory at all: a missing path, a file, an empty folder, a run.json
that is not a manifest. Arguments and run.json contents are fuzzed: never a traceback.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import Outcome, TinyRun, assert_one_line_refusal, cli, console_script
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DATA_FILES = ("ledger.parquet", "metrics.parquet", "people.parquet")
TRIED = {"run.json": 0, "argument": 0}


@pytest.fixture
def run(tiny_run: TinyRun, tmp_path: Path) -> Path:
    """A copy of the tiny run, free to damage."""
    return Path(shutil.copytree(tiny_run.path, tmp_path / "run"))


def statuses(outcome: Outcome) -> dict[str, str]:
    """File name -> status, read off verify's lines."""
    return {line.split()[1].rstrip(":"): line.split()[0] for line in outcome.stdout.splitlines()}


# ---------------------------------------------------------------- a run directory


def test_an_untouched_run_verifies_with_exit_0_and_ok_per_file(run: Path) -> None:
    outcome = cli("verify", str(run))
    assert outcome.exit_code == 0, outcome.text
    assert statuses(outcome) == dict.fromkeys(("run.json", *DATA_FILES, "report.html"), "OK")
    assert outcome.stderr == ""


def test_a_changed_byte_is_named_and_exits_1(run: Path) -> None:
    path = run / "ledger.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    outcome = cli("verify", str(run))
    assert outcome.exit_code == 1
    assert statuses(outcome) == {
        "run.json": "OK",
        "ledger.parquet": "MISMATCH",
        "metrics.parquet": "OK",
        "people.parquet": "OK",
        "report.html": "OK",
    }
    assert "sha256 differs" in outcome.stdout
    (line,) = outcome.stderr.splitlines()
    assert line.startswith("error: 1 of 5 files") and line.endswith("ledger.parquet")


def test_the_report_is_checked_and_scsim_report_writes_it_again(run: Path) -> None:
    """report.html is the page a journalist shares: an edit to it is caught; `scsim report`
    writes the same bytes again (the page is a function of the sealed files) and records them."""
    page = run / "report.html"
    original = page.read_bytes()
    page.write_bytes(original.replace(b"</body>", b"<p>edited</p></body>"))
    outcome = cli("verify", str(run))
    assert outcome.exit_code == 1 and statuses(outcome)["report.html"] == "MISMATCH"
    assert cli("report", str(run)).exit_code == 0
    assert page.read_bytes() == original
    assert cli("verify", str(run)).exit_code == 0


def test_missing_and_truncated_files_are_each_named(run: Path) -> None:
    (run / "people.parquet").unlink()
    metrics = run / "metrics.parquet"
    metrics.write_bytes(metrics.read_bytes()[:-10])
    outcome = cli("verify", str(run))
    assert outcome.exit_code == 1
    assert statuses(outcome) == {
        "run.json": "OK",
        "ledger.parquet": "OK",
        "metrics.parquet": "MISMATCH",
        "people.parquet": "MISSING",
        "report.html": "OK",
    }
    (line,) = outcome.stderr.splitlines()
    assert "2 of 5 files" in line and "metrics.parquet" in line and "people.parquet" in line


def test_a_file_replaced_by_a_folder_is_missing(run: Path) -> None:
    (run / "people.parquet").unlink()
    (run / "people.parquet").mkdir()
    outcome = cli("verify", str(run))
    assert outcome.exit_code == 1
    assert statuses(outcome)["people.parquet"] == "MISSING"


def test_console_script_exits_0_1_and_2(run: Path, tmp_path: Path) -> None:
    assert console_script("verify", str(run)).exit_code == 0
    (run / "metrics.parquet").write_bytes(b"")
    assert console_script("verify", str(run)).exit_code == 1
    assert_one_line_refusal(
        console_script("verify", str(tmp_path / "nowhere")), "no such run directory"
    )


# ---------------------------------------------------------------- not a run directory


def test_a_path_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    assert_one_line_refusal(cli("verify", str(tmp_path / "nowhere")), "no such run directory")


def test_a_file_is_refused(run: Path) -> None:
    assert_one_line_refusal(
        cli("verify", str(run / "ledger.parquet")), "is a file, not a run directory"
    )


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    assert_one_line_refusal(cli("verify", str(tmp_path)), "not a run directory", "run.json")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b"[]", "no table of files"),
        (b'{"files": {}}', "no table of files"),
        (b'{"files": {"../../etc/passwd": {"sha256": "' + b"0" * 64 + b'"}}}', "not the name"),
        (b'{"files": {"run.json": {"sha256": "' + b"0" * 64 + b'"}}}', "not the name"),
        (b'{"files": {"a\\nb": {"sha256": "' + b"0" * 64 + b'"}}}', "not the name"),
        (b'{"files": {"ledger.parquet": {"sha256": "xyz"}}}', "no sha256"),
        (b'{"files": {"ledger.parquet": {"sha256": "' + b"0" * 64 + b'", "bytes": -1}}}', "size"),
    ],
    ids=[
        "empty",
        "binary",
        "deep",
        "list",
        "no_files",
        "traversal",
        "itself",
        "newline",
        "bad_sha",
        "bad_size",
    ],
)
def test_a_run_json_that_is_not_a_manifest_is_refused(
    tmp_path: Path, content: bytes, words: str
) -> None:
    (tmp_path / "run.json").write_bytes(content)
    line = assert_one_line_refusal(cli("verify", str(tmp_path)), words)
    assert str(tmp_path / "run.json") in line


# ---------------------------------------------------------------- fuzzed


def json_values() -> st.SearchStrategy:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )


def manifests() -> st.SearchStrategy:
    """run.json contents: junk bytes, any JSON, and manifests that are nearly right."""
    sha = st.text("0123456789abcdef", min_size=63, max_size=65) | st.sampled_from(
        ["", "0" * 64, "A" * 64]
    )
    names = st.sampled_from([*DATA_FILES, "run.json", "", ".", "..", "x/y", "ü.parquet"]) | st.text(
        max_size=12
    )
    entry = st.fixed_dictionaries(
        {"sha256": sha},
        optional={"bytes": st.integers(-3, 10**12) | st.booleans() | st.floats() | st.text()},
    )
    nearly = st.dictionaries(names, entry | json_values(), max_size=4).map(
        lambda files: json.dumps({"files": files}).encode()
    )
    anything = json_values().map(lambda value: json.dumps(value).encode())
    return st.binary(max_size=200) | anything | nearly


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=manifests(), files=st.lists(st.sampled_from(DATA_FILES), unique=True))
def test_any_run_json_gives_exit_0_1_or_2_and_never_a_traceback(
    content: bytes, files: list[str]
) -> None:
    TRIED["run.json"] += 1
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder)
        (run / "run.json").write_bytes(content)
        for name in files:
            (run / name).write_bytes(b"data")
        outcome = cli("verify", str(run))
        assert "Traceback" not in outcome.text
        assert outcome.exit_code in (0, 1, 2), outcome.text
        if outcome.exit_code == 2:
            assert_one_line_refusal(outcome)
        assert sorted(p.name for p in run.iterdir()) == sorted({"run.json", *files})


@settings(max_examples=60, deadline=None)
@given(
    argument=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=300
    )
    | st.sampled_from(["", ".", "/", "/dev/null", "/proc/self", "~", "-", "a" * 5000])
)
def test_any_argument_gives_exit_1_or_2_and_never_a_traceback(argument: str) -> None:
    TRIED["argument"] += 1
    outcome = cli("verify", "--", argument)
    assert "Traceback" not in outcome.text
    assert outcome.exit_code in (1, 2), outcome.text
    if outcome.exit_code == 2:
        assert_one_line_refusal(outcome)


def test_fuzzing_tried_enough_inputs(request: pytest.FixtureRequest) -> None:
    tried = sum(TRIED.values())
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and tried:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"verify fuzz: {TRIED['run.json']} run.json contents, "
                f"{TRIED['argument']} arguments tried"
            )
    # each count is zero when its test was not selected, and hypothesis's count otherwise
    assert all(count == 0 or count >= 50 for count in TRIED.values()), TRIED


def test_a_run_without_a_table_of_files_still_gets_its_report(run: Path) -> None:
    """A run.json written before it had `files` (or with files: null): the report is written,
    and nothing is recorded where there is no table to record it in."""
    manifest = json.loads((run / "run.json").read_text())
    manifest.pop("sealed_sha256")  # older than the table of files, older than the seal too
    for files in (None, "absent"):
        if files is None:
            manifest["files"] = None
        else:
            manifest.pop("files", None)
        (run / "run.json").write_text(json.dumps(manifest))
        assert cli("report", str(run)).exit_code == 0
        assert "files" not in json.loads((run / "run.json").read_text()) or files is None
