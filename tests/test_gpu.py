"""The GPU backend gives byte-identical files to the NumPy backend for the same seed.

Skipped where there is no NVIDIA GPU with CuPy (CI never has one); run on a machine that has.
Everywhere, the GPU backend's own code paths run on an emulated device (tests/emulated_device:
NumPy that the engine takes for CuPy) and must write the NumPy backend's bytes.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import numpy as np
import pytest
from cupy_api import NAMES
from emulated_device import HostDeviceMix, NotInCuPy, emulated_cupy

import scsim
from scsim.engine.backend import BackendError, gpu_available, load

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


EMULATED = [  # the built-ins, small, each switching on different mechanisms
    ("rongcheng", 20_000, 30),
    ("national-score", 100_000, 30),
    ("corporate", 20_000, 30),
    ("youth-app", 20_000, 30),
    ("court-blacklist", 20_000, 30),
    ("sesame", 20_000, 30),
    ("court-list-history", 200_000, 200),
    ("pilots", 100_000, 200),  # places: rule arrays by book, a place's start, its rewards
]


@pytest.mark.parametrize("device", ["emulated", pytest.param("gpu", marks=needs_gpu)])
@pytest.mark.parametrize(("name", "people", "days"), EMULATED)
def test_the_gpu_code_paths_write_numpy_bytes(
    tmp_path: Path, name: str, people: int, days: int, device: str
) -> None:
    """Every built-in, on the emulated device everywhere and on a real GPU where there is one."""
    options = {"population": people, "days": days, "overrides": {"run.report": False}}
    cpu = scsim.run(name, tmp_path / "cpu", **options)
    with emulated_cupy() if device == "emulated" else contextlib.nullcontext():
        gpu = scsim.run(name, tmp_path / "gpu", backend="gpu", **options)
    assert scsim.Result(gpu.path).manifest["backend"] == "gpu"
    for file in FILES:
        assert (cpu.path / file).read_bytes() == (gpu.path / file).read_bytes(), file


def test_the_emulated_device_refuses_host_arrays_as_cupy_does() -> None:
    with emulated_cupy() as cupy:
        device = cupy.arange(4)
        for mixed in (lambda: device + np.arange(4), lambda: np.arange(4) * device):
            with pytest.raises(HostDeviceMix):
                mixed()
        with pytest.raises(HostDeviceMix):
            device[:2] = np.arange(2)
        with pytest.raises(HostDeviceMix):
            np.asarray(device)  # the files are written from host copies (`to_host`) only
        assert type(device.get()) is np.ndarray and load("gpu") is cupy
        assert device[np.array([3, 1])].get().tolist() == [3, 1]  # host indices are copied


def test_the_emulated_device_has_only_what_cupy_13_and_14_have() -> None:
    """Functions, array methods and ufunc methods that CuPy lacks fail here as on a GPU (the
    names both CuPy 13.3 and 14.2 have, tests/cupy_api.py), so the engine cannot come to rely
    on them."""
    with emulated_cupy() as cupy:
        device = cupy.arange(6)
        assert cupy.lexsort((device,)).get().tolist() == list(range(6))  # CuPy has these
        assert np.add.reduceat(device, cupy.asarray([0, 3])).get().tolist() == [3, 12]
        np.maximum.at(device, cupy.asarray([0]), 9)
        assert device.tobytes() == np.array([9, 1, 2, 3, 4, 5]).tobytes()
        with pytest.raises(NotInCuPy, match="module 'cupy' has no attribute 'errstate'"):
            _ = cupy.errstate
        with pytest.raises(NotInCuPy, match="no attribute 'byteswap'"):
            device.byteswap()
        with pytest.raises(NotInCuPy, match=r"maximum\.reduce"):
            np.maximum.reduce(device)
        with pytest.raises(NotInCuPy, match=r"multiply\.at"):
            np.multiply.at(device, cupy.asarray([0]), 2)
        with pytest.raises(NotInCuPy, match="CuPy has no unique_values"):
            np.unique_values(device)


def test_every_array_function_the_engine_names_is_in_cupy() -> None:
    """`xp.<name>` anywhere in the engine, run or not by the built-ins above, is CuPy's too."""
    source = Path(scsim.__file__).parent
    named = {
        name
        for path in source.rglob("*.py")
        for name in re.findall(r"\bxp\.([A-Za-z_]\w*)", path.read_text())
    }
    assert named, "the engine names no xp functions: the pattern is stale"
    assert sorted(named - NAMES) == []
