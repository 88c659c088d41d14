"""Errors a user can cause, each with one job; the CLI turns them into one line and exit code 2."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with every control character (an ESC that recolours a terminal, a BEL, a
    carriage return that hides what came before) written as its escape, \\x1b: a scenario's
    keys and a file's name are untrusted text, shown, never obeyed."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


class UserError(Exception):
    """A mistake in what the user asked for, as opposed to a bug in scsim."""


def at_least(option: str, value: int, least: int = 1) -> None:
    """Refuse a count below `least` (seeds, trials, rounds) before any work, in one wording."""
    if value < least:
        raise UserError(f"{option} takes {least} or more, not {value}")


class ScenarioError(UserError):
    """A scenario file that cannot be used: names the file, the field path and what was expected."""

    def __init__(self, file: str, path: str, expected: str) -> None:
        self.file, self.path, self.expected = file, path, expected
        where = f"{file}: {path}" if path else file
        super().__init__(printable(f"{where}: {expected}"))


class ResourceError(UserError):
    """A run that would not fit in this machine's memory or disk, refused before it starts."""


class OutputError(UserError):
    """An --out that cannot be written: its folder is a file or read-only, or it names a folder
    scsim did not write, which --force will not delete."""


class OutputExistsError(OutputError):
    """The output directory exists and the user did not say --force."""


class CheckpointError(UserError):
    """A checkpoint that cannot be resumed: missing, damaged, or of another scenario or seed."""


class RunDirectoryError(UserError):
    """A path given as a run directory that is not one (no run.json, or a run.json unreadable)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run that kept something to resume from; the message says what."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's or `kill`'s stop), raised where Ctrl-C would be, so a run cleans
    up the same way: no half-written output, a resumable run's checkpoint kept."""
