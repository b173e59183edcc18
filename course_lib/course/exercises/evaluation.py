"""Checks of the evaluation exercises: PSNR on 8-bit images (notebook 06, Table I) and reading a Table-I row
against the full model, where higher is better for some metrics and lower for others (10)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ._report import _as_float, _call, _checked, _close, _fail, _Failed, _ok

__all__ = ["check_psnr", "check_improvement", "HIGHER_IS_BETTER"]

#: Direction of each metric of Table I: True when a larger value is better.
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "ae": False, "lpips": False}


# --------------------------------------------------------------------------------------------------------------
# 06: PSNR (Table I)
# --------------------------------------------------------------------------------------------------------------
def _probe_pair():
    rng = np.random.default_rng(1)
    target = rng.integers(30, 226, size=(16, 12, 3)).astype(np.uint8)
    noise = rng.integers(-25, 26, size=target.shape)
    prediction = np.clip(target.astype(np.int64) + noise, 0, 255).astype(np.uint8)
    return prediction, target


@_checked
def check_psnr(fn: Callable[[np.ndarray, np.ndarray], float]) -> bool:
    """Check ``fn(prediction, target) -> float`` on uint8 HxWx3 images: PSNR in dB with a data range of 255,
    ``10 log10(255^2 / MSE)`` (Table I), computed in floating point."""
    prediction, target = _probe_pair()
    got = _as_float(_call(fn, "your psnr", prediction.copy(), target.copy()), "your psnr")
    mse = float(np.mean((prediction.astype(np.float64) - target.astype(np.float64)) ** 2))
    expected = 10 * math.log10(255.0 ** 2 / mse)
    if _close(got, expected, rtol=1e-4):
        same = _call(fn, "your psnr", target.copy(), target.copy())
        try:
            same_value = _as_float(same, "your psnr")
        except _Failed:
            return False
        if not (math.isinf(same_value) or same_value > 100):
            return _fail(f"identical images give {same_value:.4g}: with MSE = 0 the PSNR is infinite (return "
                         "float('inf'))")
        return _ok(f"PSNR = {got:.2f} dB on the probe pair (a perfect copy: inf)")
    wrapped = np.mean(((prediction - target) ** 2).astype(np.float64))  # uint8 arithmetic wraps around
    wrapped_abs = np.mean((prediction - target).astype(np.float64) ** 2)
    candidates = [
        (10 * math.log10(255.0 ** 2 / wrapped) if wrapped > 0 else None,
         "you subtracted the uint8 arrays: 3 - 5 wraps around to 254 in uint8. Convert to float first "
         "(prediction.astype(np.float64))"),
        (10 * math.log10(255.0 ** 2 / wrapped_abs) if wrapped_abs > 0 else None,
         "you subtracted the uint8 arrays: 3 - 5 wraps around to 254 in uint8. Convert to float first "
         "(prediction.astype(np.float64))"),
        (10 * math.log10(1.0 / mse), "you used a peak value of 1: for 8-bit images the data range is 255"),
        (10 * math.log(255.0 ** 2 / mse), "you used the natural log: PSNR uses log10"),
        (20 * math.log10(255.0 ** 2 / mse), "you used 20 log10 with MSE: it is 10 log10(255^2 / MSE), or "
                                            "equivalently 20 log10(255 / RMSE)"),
        (20 * math.log10(255.0 / mse),
         "20 log10 goes with the RMSE (square root of the MSE): 20 log10(255 / sqrt(MSE))"),
        (10 * math.log10(255.0 / mse), "square the peak: 10 log10(255^2 / MSE)"),
        (mse, "you returned the MSE: convert it to decibels, 10 log10(255^2 / MSE)"),
        (math.sqrt(mse), "you returned the RMSE: convert it to decibels, 20 log10(255 / RMSE)"),
        (-10 * math.log10(255.0 ** 2 / mse), "your sign is flipped: PSNR grows as the error shrinks"),
    ]
    for value, message in candidates:
        if value is not None and _close(got, value, rtol=1e-4):
            return _fail(message)
    return _fail(f"your psnr gives {got:.4g} dB on the probe pair; 10 log10(255^2 / MSE) = {expected:.4g} dB")


# --------------------------------------------------------------------------------------------------------------
# 10: reading a Table-I row against the full model
# --------------------------------------------------------------------------------------------------------------
@_checked
def check_improvement(fn: Callable[[str, float, float], float]) -> bool:
    """Check ``fn(metric, value, reference) -> float``: how much better ``value`` is than ``reference`` for a
    metric of Table I ("psnr", "ssim", "ae", "lpips"), positive = better. PSNR and SSIM: higher is better
    (``value - reference``); AE and LPIPS are errors, lower is better (``reference - value``)."""
    name = "your improvement"
    cases = [("psnr", 22.14, 19.59), ("ssim", 0.63, 0.59), ("ae", 3.68, 4.33), ("lpips", 0.253, 0.295),
             ("psnr", 17.39, 17.50), ("ae", 5.61, 4.69)]
    for metric, value, reference in cases:
        got = _call(fn, name, metric, value, reference)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _fail(f"{name}({metric!r}, {value}, {reference}) returned {got!r}: expected a number")
        sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
        want = sign * (value - reference)
        if _close(got, want, rtol=1e-6, atol=1e-9):
            continue
        if want < 0 and _close(got, abs(want), rtol=1e-6, atol=1e-9):
            return _fail(f"{name}({metric!r}, {value}, {reference}) = {got:+.4g}, expected {want:+.4g}: an absolute "
                         "value loses the direction; positive must mean better")
        if _close(got, -want, rtol=1e-6, atol=1e-9):
            direction = "higher" if HIGHER_IS_BETTER[metric] else "lower"
            return _fail(f"{name}({metric!r}, {value}, {reference}) = {got:+.4g}, expected {want:+.4g}: the sign is "
                         f"wrong for {metric.upper()}, where {direction} is better (Table I's arrows: PSNR ↑, SSIM ↑, "
                         "AE ↓, LPIPS ↓)")
        return _fail(f"{name}({metric!r}, {value}, {reference}) = {got:+.4g}, expected {want:+.4g} (a difference, "
                     "not a ratio)")
    for bad in ("PSNR ", "accuracy"):
        try:
            fn(bad, 1.0, 0.0)
        except (ValueError, KeyError):
            continue
        except Exception as error:  # noqa: BLE001
            return _fail(f"{name}({bad!r}, ...) raised {type(error).__name__}; expected ValueError or KeyError for an "
                         "unknown metric name")
        return _fail(f"{name}({bad!r}, 1.0, 0.0) returned a value: an unknown metric name should raise ValueError "
                     "(a typo would otherwise silently count as 'higher is better')")
    return _ok("improvement correct for PSNR/SSIM (higher is better) and AE/LPIPS (lower is better)")
