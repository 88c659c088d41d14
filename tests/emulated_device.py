"""A stand-in for CuPy where there is no GPU, so that CI runs the GPU backend's own code paths.

It is NumPy underneath, so it says nothing of CuPy's speed, its kernels or its exact API, but
the engine cannot tell it from CuPy: its arrays come from a module named cupy, have `.get()`,
and refuse, as CuPy's do, to be mixed with host (NumPy) arrays in arithmetic or written into
with them. (np.asarray of one passes unnoticed, being an ndarray subclass, where CuPy would
refuse.) The branches the engine takes for a device (`xp is not np`: searches instead of
repeats, one slice instead of host chunks, CuPy's stable argsort, the copies to and from the
device) therefore run here, and a run on it must write the NumPy backend's bytes: a wrong
counter in the device branch of `sampling._blocks_and_counters` changed every file.

    >>> with emulated_cupy():
    ...     scsim.run("rongcheng", out, backend="gpu")
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


class HostDeviceMix(TypeError):
    """A host array met a device array where CuPy would refuse it."""


class DeviceArray(np.ndarray):
    """An array 'on the device'."""

    def get(self) -> np.ndarray:
        return np.array(self.view(np.ndarray))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise HostDeviceMix("implicit conversion of a device array to NumPy (use .get())")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        _refuse_host(inputs)
        args = [_bare(x) for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_bare(x) for x in kwargs["out"])
        return _device(getattr(ufunc, method)(*args, **kwargs))

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        return _call(func, args, kwargs)

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(value) is np.ndarray and value.ndim:
            raise HostDeviceMix("a host array written into a device array")
        self.view(np.ndarray)[_bare(key)] = _bare(value)

    def __getitem__(self, key: Any) -> Any:
        return _device(self.view(np.ndarray)[_bare(key)])


DeviceArray.__module__ = "cupy._emulated"  # what `scsim.backend.array_module` looks at


def _bare(value: Any) -> Any:
    if isinstance(value, DeviceArray):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(_bare(v) for v in value)
    if isinstance(value, list):
        return [_bare(v) for v in value]
    return value


def _device(value: Any) -> Any:
    if type(value) is np.ndarray:
        return value.view(DeviceArray)
    if isinstance(value, tuple):
        return tuple(_device(v) for v in value)
    return value


def _refuse_host(values: Any) -> None:
    for value in values:
        if type(value) is np.ndarray and value.ndim:
            raise HostDeviceMix("a host array in a device operation")
        if isinstance(value, list | tuple):
            _refuse_host(value)


def _call(func: Any, args: Any, kwargs: Any) -> Any:
    _refuse_host(args)
    _refuse_host(kwargs.values())
    return _device(func(*_bare(args), **{k: _bare(v) for k, v in kwargs.items()}))


def _module() -> types.ModuleType:
    cupy = types.ModuleType("cupy")
    cupy.ndarray = DeviceArray  # type: ignore[attr-defined]
    cupy.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1)
    )

    def asarray(value: Any, dtype: Any = None) -> DeviceArray:  # host -> device, as CuPy
        return np.array(_bare(value), dtype=dtype).view(DeviceArray)

    def argsort(values: Any) -> DeviceArray:  # CuPy's argsort is stable
        return _device(np.argsort(_bare(values), kind="stable"))

    cupy.asarray = asarray  # type: ignore[attr-defined]
    cupy.array = asarray  # type: ignore[attr-defined]
    cupy.argsort = argsort  # type: ignore[attr-defined]

    def __getattr__(name: str) -> Any:
        value = getattr(np, name)
        if callable(value) and not isinstance(value, type):
            return lambda *args, **kwargs: _call(value, args, kwargs)
        return value

    cupy.__getattr__ = __getattr__  # type: ignore[attr-defined]
    return cupy


@contextmanager
def emulated_cupy() -> Iterator[types.ModuleType]:
    """`import cupy` gives the emulation while inside."""
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = module = _module()
    try:
        yield module
    finally:
        if saved is None:
            del sys.modules["cupy"]
        else:
            sys.modules["cupy"] = saved
