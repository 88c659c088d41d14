"""The allocator tuning is applied once and never breaks a run where glibc is absent."""

from __future__ import annotations

import ctypes

import pytest

from scsim.simulation import allocator


def test_tuning_reports_success_on_glibc_and_is_applied_once() -> None:
    try:
        ctypes.CDLL("libc.so.6").mallopt  # noqa: B018
    except (OSError, AttributeError):
        pytest.skip("no glibc here")
    assert allocator.keep_freed_memory() is True
    assert allocator.keep_freed_memory.cache_info().currsize == 1


def test_without_a_c_library_nothing_is_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library(*_: object) -> None:
        raise OSError("no libc")

    monkeypatch.setattr(allocator.ctypes, "CDLL", no_library)
    allocator.keep_freed_memory.cache_clear()
    try:
        assert allocator.keep_freed_memory() is False
    finally:
        allocator.keep_freed_memory.cache_clear()
