"""A stand-in for CuPy where there is no GPU, so that CI runs the GPU backend's own code paths.

It is NumPy underneath, so it says nothing of CuPy's speed, its kernels or its exact API, but
the engine cannot tell it from CuPy: its arrays come from a module named cupy, are not NumPy
arrays, have `.get()`, and refuse, as CuPy's do, to be turned into NumPy arrays implicitly
(np.asarray, pyarrow), to be mixed with host arrays in arithmetic or to take host arrays as
values written in (host arrays as indices pass: CuPy copies them over). The branches the
engine takes for a device (`xp is not np`: searches instead of repeats, one slice instead of
host chunks, CuPy's stable argsort, the copies to and from the device) therefore run here, and
a run on it must write the NumPy backend's bytes: a wrong counter in the device branch of
`sampling._blocks_and_counters` changed every file.

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
from cupy_api import ARRAY_ATTRIBUTES, NAMES, REDUCING, REDUCING_AT, SCATTERING


class HostDeviceMix(TypeError):
    """A host array met a device array where CuPy would refuse it."""


class NotInCuPy(AttributeError):
    """The engine asked for something CuPy 13.3 or 14.2 does not have (`cupy_api`)."""


_UFUNC_METHODS = {"reduce": REDUCING, "accumulate": REDUCING, "reduceat": REDUCING_AT}
_UFUNC_METHODS["at"] = SCATTERING


class DeviceArray:
    """An array 'on the device': a NumPy array inside, reached only through NumPy's dispatch
    (ufuncs, array functions), indexing, its own methods and `.get()`, as a CuPy array is."""

    __slots__ = ("_a",)
    __array_priority__ = 1000

    def __init__(self, array: np.ndarray) -> None:
        self._a = array

    def get(self) -> np.ndarray:
        return self._a.copy()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise HostDeviceMix("implicit conversion of a device array to NumPy (use .get())")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc.__name__ not in NAMES:
            raise NotInCuPy(f"CuPy has no ufunc {ufunc.__name__}")
        if method != "__call__" and ufunc.__name__ not in _UFUNC_METHODS.get(method, ()):
            raise NotInCuPy(f"CuPy does not implement {ufunc.__name__}.{method}")
        _refuse_host(inputs)
        if "out" in kwargs:
            _refuse_host(kwargs["out"])
            kwargs["out"] = tuple(_bare(x) for x in kwargs["out"])
        return _device(getattr(ufunc, method)(*_bare(inputs), **kwargs))

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        if func.__module__ != "numpy" or func.__name__ not in NAMES:  # CuPy finds no cupy.<name>
            raise NotInCuPy(f"np.{func.__name__} of a device array: CuPy has no {func.__name__}")
        return _call(func, args, kwargs)

    def __getitem__(self, key: Any) -> Any:  # host indices pass: CuPy copies them over
        return _device(self._a[_bare(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        _refuse_host((value,))
        self._a[_bare(key)] = _bare(value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # no __array_interface__ or __array_struct__ for NumPy
            raise AttributeError(name)
        if name not in ARRAY_ATTRIBUTES:
            raise NotInCuPy(f"a CuPy array has no attribute {name!r}")
        value = getattr(self._a, name)
        if callable(value):
            return lambda *args, **kwargs: _call(value, args, kwargs)
        return _device(value)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Iterator[Any]:
        return (_device(x) for x in self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __repr__(self) -> str:
        return f"device({self._a!r})"


def _operator(name: str) -> Any:
    def method(self: DeviceArray, *other: Any) -> Any:
        _refuse_host(other)
        return _device(getattr(self._a, name)(*_bare(other)))

    return method


_ARITHMETIC = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow")
_BITWISE = ("and", "or", "xor", "lshift", "rshift")
_COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")
for _name in (
    *_ARITHMETIC,
    *_BITWISE,
    *_COMPARISONS,
    *(f"r{n}" for n in _ARITHMETIC + _BITWISE),
    *("neg", "pos", "invert", "abs"),
):
    setattr(DeviceArray, f"__{_name}__", _operator(f"__{_name}__"))
for _name in (f"i{n}" for n in _ARITHMETIC + _BITWISE):

    def _inplace(self: DeviceArray, other: Any, _name: str = _name) -> DeviceArray:
        _refuse_host((other,))
        getattr(self._a, f"__{_name}__")(_bare(other))
        return self

    setattr(DeviceArray, f"__{_name}__", _inplace)
DeviceArray.__module__ = "cupy._emulated"  # what `scsim.engine.backend.array_module` looks at


def _bare(value: Any) -> Any:
    if isinstance(value, DeviceArray):
        return value._a
    if isinstance(value, tuple):
        return tuple(_bare(v) for v in value)
    if isinstance(value, list):
        return [_bare(v) for v in value]
    return value


def _device(value: Any) -> Any:
    if type(value) is np.ndarray:
        return DeviceArray(value)
    if isinstance(value, tuple):
        return tuple(_device(v) for v in value)
    return value


def _refuse_host(values: Any) -> None:
    """CuPy refuses NumPy arrays beside its own in arithmetic and as values written in."""
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
        return DeviceArray(np.array(_bare(value), dtype=dtype))

    def argsort(values: Any) -> DeviceArray:  # CuPy's argsort is stable
        return _device(np.argsort(_bare(values), kind="stable"))

    cupy.asarray = asarray  # type: ignore[attr-defined]
    cupy.array = asarray  # type: ignore[attr-defined]
    cupy.argsort = argsort  # type: ignore[attr-defined]

    def __getattr__(name: str) -> Any:
        if name not in NAMES:
            raise NotInCuPy(f"module 'cupy' has no attribute {name!r}")
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
