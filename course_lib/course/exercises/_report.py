"""What every check shares: the ✅ / ❌ lines, calling the student's attempt safely, and the
:func:`_checked` decorator that turns a failed attempt into ``False`` instead of an exception.

A check calls the attempt through :func:`_call` (a crash, ``NotImplementedError`` or a missing ``return`` is
printed as a diagnosis and raises the internal :class:`_Failed`), reads numbers with :func:`_as_float`,
:func:`_scalar` and :func:`_v`, compares them with :func:`_close`, and ends with ``return _ok(...)`` or
``return _fail(...)``.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch


def _ok(message: str) -> bool:
    print(f"✅ {message}")
    return True


def _fail(message: str) -> bool:
    print(f"❌ {message}")
    return False


class _Failed(Exception):
    """Internal: the attempt failed; its message has been printed."""


def _call(fn: Callable, name: str, *args, **kwargs):
    """Call the student's function; turn a crash or a missing return into a printed diagnosis."""
    if not callable(fn):
        _fail(f"{name}: expected a function, got {type(fn).__name__}")
        raise _Failed
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError:
        _fail(f"{name} is not written yet: replace `raise NotImplementedError` with your code, "
              "then run this cell again")
        raise _Failed
    except Exception as error:  # noqa: BLE001 - any crash of the attempt is reported, not raised
        _fail(f"calling {name} raised {type(error).__name__}: {error}")
        raise _Failed
    if result is None:
        _fail(f"{name} returned None: did you forget the `return` statement?")
        raise _Failed
    return result


def _shape(x: Any) -> tuple:
    return tuple(getattr(x, "shape", ()))


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            _fail(f"{name} returned a tensor of shape {tuple(value.shape)}: expected one number")
            raise _Failed
        return float(value.item())
    array = np.asarray(value)
    if array.size != 1:
        _fail(f"{name} returned an array of shape {array.shape}: expected one number")
        raise _Failed
    return float(array.reshape(()))


def _close(a: float, b: float, rtol: float = 1e-3, atol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def _scalar(value: Any, name: str) -> torch.Tensor:
    """The attempt's result as a 0-d tensor (keeping its graph), or a diagnosis."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            _fail(f"{name} returned a tensor of shape {tuple(value.shape)}: expected one number (a scalar loss); "
                  "average over the batch and the patch map with .mean()")
            raise _Failed
        return value.reshape(())
    if isinstance(value, (int, float)):
        _fail(f"{name} returned a Python {type(value).__name__} ({value}): return the torch tensor, so the loss "
              "can be back-propagated (don't call .item())")
        raise _Failed
    _fail(f"{name} returned a {type(value).__name__}: expected a scalar torch tensor")
    raise _Failed


def _v(x: Any) -> float:
    """A number from a tensor (detached) or a float."""
    return float(x.detach()) if isinstance(x, torch.Tensor) else float(x)


def _checked(check: Callable[..., bool]) -> Callable[..., bool]:
    def wrapper(*args, **kwargs) -> bool:
        try:
            return check(*args, **kwargs)
        except _Failed:
            return False

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = check.__name__, check.__doc__, check
    return wrapper
