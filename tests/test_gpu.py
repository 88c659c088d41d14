"""The GPU backend gives byte-identical files to the NumPy backend for the same seed.

Skipped where there is no NVIDIA GPU with CuPy (CI never has one); run on a machine that has.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import scsim
from scsim.backend import BackendError, gpu_available, load

needs_gpu = pytest.mark.skipif(not gpu_available(), reason="no NVIDIA GPU with CuPy here")
FILES = ("ledger.parquet", "metrics.parquet", "people.parquet")


@needs_gpu
@pytest.mark.parametrize("seed", [1, 2])
def test_gpu_and_numpy_write_identical_files(tmp_path: Path, seed: int) -> None:
    overrides = {
        "surveillance.sensors.cameras.misattribution": 0.2,
        "behaviour.events.judgment_defied.per_year": 0.05,
    }
    cpu = scsim.run(
        "rongcheng", tmp_path / "cpu", population=60_000, days=120, seed=seed, overrides=overrides
    )
    gpu = scsim.run(
        "rongcheng",
        tmp_path / "gpu",
        population=60_000,
        days=120,
        seed=seed,
        overrides=overrides,
        backend="gpu",
    )
    assert cpu.summary["records"] > 0 and sum(cpu.summary["blocked"].values()) > 0
    for name in FILES:
        assert (cpu.path / name).read_bytes() == (gpu.path / name).read_bytes(), name


@pytest.mark.skipif(gpu_available(), reason="this machine has a GPU")
def test_gpu_backend_without_a_gpu_is_refused_with_a_reason() -> None:
    with pytest.raises(BackendError, match="gpu"):
        load("gpu")
