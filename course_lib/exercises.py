"""Automatic checks for the notebooks' exercises.

Each ``check_*`` function takes the student's attempt (a function or a value), tries it on small probe inputs
and compares it with an independent reference. It prints what is right or, when something is wrong, *what*
is wrong and how to fix it ("your pool_h has shape (2, 4, 1, 8) but CoordinateAttention's H-pool is
(N, C, H, 1) = (2, 4, 6, 1)"), and returns ``True`` or ``False``. A check never raises on a wrong or unfinished
attempt (a placeholder that raises ``NotImplementedError`` or returns ``None`` gets guidance and ``False``), so a
notebook runs top to bottom with the exercises still open. Reference solutions are in
``course_lib.solutions`` (for instructors; the notebooks assert that each solution passes its check).

| notebook | check | the student writes |
| --- | --- | --- |
| 00 | :func:`check_to_model_range` | uint8 HxWx3 image -> float tensor 3xHxW in [-1, 1] |
| 01 | :func:`check_camera_response` | a camera pixel value: sum(R E S) / sum(E S) |
| 02 | :func:`check_luminance_weights`, :func:`check_to_gray` | BT.601 weights; RGB -> gray on [-1, 1] tensors |
| 03 | :func:`check_directional_pools`, :func:`check_coordinate_gates` | the two average pools of coordinate attention |
| 04 | :func:`check_instance_norm` | InstanceNorm by hand (per image, per channel) |
| 05 | :func:`check_scale_targets` | the ground-truth pyramid for the 3 scales (Eqs. (2)-(3)) |
| 06 | :func:`check_psnr`, :func:`check_mix_loss` | PSNR on 8-bit images; L_mix (Zhao et al., Sec. II.B) |
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "check_to_model_range",
    "check_camera_response",
    "check_luminance_weights",
    "check_to_gray",
    "check_directional_pools",
    "check_coordinate_gates",
    "check_instance_norm",
    "check_scale_targets",
    "check_psnr",
    "check_mix_loss",
    "BT601",
]

BT601 = (0.299, 0.587, 0.114)


# --------------------------------------------------------------------------------------------------------------
# Reporting helpers
# --------------------------------------------------------------------------------------------------------------
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


def _checked(check: Callable[..., bool]) -> Callable[..., bool]:
    def wrapper(*args, **kwargs) -> bool:
        try:
            return check(*args, **kwargs)
        except _Failed:
            return False

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = check.__name__, check.__doc__, check
    return wrapper


# --------------------------------------------------------------------------------------------------------------
# 00: images in the models' range
# --------------------------------------------------------------------------------------------------------------
def _probe_uint8(height: int = 6, width: int = 5, full_range: bool = True) -> np.ndarray:
    rng = np.random.default_rng(0)
    low, high = (0, 256) if full_range else (40, 200)
    image = rng.integers(low, high, size=(height, width, 3)).astype(np.uint8)
    if full_range:
        image[0, 0] = (0, 128, 255)
        image[-1, -1] = (255, 0, 0)
    return image


@_checked
def check_to_model_range(fn: Callable[[np.ndarray], torch.Tensor]) -> bool:
    """Check ``fn(image_uint8_HxWx3) -> float tensor [3, H, W] in [-1, 1]`` (value v -> v / 127.5 - 1)."""
    image = _probe_uint8()
    out = _call(fn, "your function", image.copy())
    h, w = image.shape[:2]
    if not isinstance(out, torch.Tensor):
        return _fail(f"you returned a {type(out).__module__}.{type(out).__name__}: the models take torch tensors "
                     "(torch.from_numpy(image) turns an array into one)")
    if not out.is_floating_point():
        return _fail(f"your tensor has dtype {out.dtype}: convert to float (.float()) before scaling, "
                     "integers cannot hold values like -0.37")
    if tuple(out.shape) == (h, w, 3):
        return _fail(f"your tensor has shape {tuple(out.shape)}, that is H x W x C: PyTorch models take channels "
                     f"first, (3, H, W) = (3, {h}, {w}); use .permute(2, 0, 1)")
    if tuple(out.shape) == (3, w, h):
        return _fail(f"your tensor has shape {tuple(out.shape)}: height and width are swapped, expected "
                     f"(3, H, W) = (3, {h}, {w}); use .permute(2, 0, 1), not .transpose / .T")
    if tuple(out.shape) != (3, h, w):
        return _fail(f"your tensor has shape {tuple(out.shape)}, expected (3, H, W) = (3, {h}, {w})")
    x = torch.from_numpy(image.astype(np.float64)).permute(2, 0, 1)
    got = out.detach().double()
    expected = x / 127.5 - 1.0
    if torch.allclose(got, expected, atol=1e-4):
        second = _probe_uint8(full_range=False)
        got2 = _call(fn, "your function", second.copy()).detach().double()
        expected2 = torch.from_numpy(second.astype(np.float64)).permute(2, 0, 1) / 127.5 - 1.0
        if not torch.allclose(got2, expected2, atol=1e-4):
            return _fail("right on an image that spans 0..255, wrong on one that spans 40..200: you stretched each "
                         "image's own min/max to [-1, 1]; use the fixed map v / 127.5 - 1 so every image gets the "
                         "same scale")
        return _ok("0 -> -1, 255 -> +1, channels first: this is the range every course_lib model takes")
    if torch.allclose(got, x / 255.0, atol=1e-4):
        return _fail("your values are in [0, 1] (v / 255): the models work in [-1, 1]; use v / 127.5 - 1")
    if torch.allclose(got, x, atol=1e-4):
        return _fail("your values are still 0..255: rescale them to [-1, 1] with v / 127.5 - 1")
    if torch.allclose(got, expected.flip(0), atol=1e-4):
        return _fail("your channels come out in B, G, R order: keep R, G, B (no flip of the channel axis)")
    if torch.allclose(got, x / 128.0 - 1.0, atol=1e-4):
        return _fail("close: v / 128 - 1 maps 255 to 0.992, not 1; use v / 127.5 - 1")
    lo, hi = float(got.min()), float(got.max())
    return _fail(f"your values span [{lo:.3g}, {hi:.3g}] and do not match v / 127.5 - 1 "
                 f"(e.g. 0 -> -1, 128 -> {128 / 127.5 - 1:.4f}, 255 -> 1)")


# --------------------------------------------------------------------------------------------------------------
# 01: what a camera pixel sees
# --------------------------------------------------------------------------------------------------------------
def _probe_spectra():
    wavelengths = np.arange(400.0, 1001.0, 10.0)
    # Neither the light nor the surface is flat inside the NIR band, so leaving either out changes the answer.
    illuminant = (0.4 + 0.8 * np.exp(-((wavelengths - 550.0) / 180.0) ** 2)
                  + 1.2 * np.exp(-((wavelengths - 940.0) / 40.0) ** 2))
    sensitivity = np.clip((wavelengths - 780.0) / 60.0, 0.0, 1.0) * np.exp(-((wavelengths - 850.0) / 150.0) ** 2)
    reflectance = 0.15 + 0.6 / (1.0 + np.exp(-(wavelengths - 715.0) / 12.0))  # a red edge, like a leaf
    reflectance -= 0.4 * np.clip((wavelengths - 800.0) / 200.0, 0.0, 1.0)  # falling across the NIR band
    return wavelengths, reflectance, illuminant, sensitivity


@_checked
def check_camera_response(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> bool:
    """Check ``fn(reflectance, illuminant, sensitivity) -> float``: the white-normalised pixel value
    ``sum(R * E * S) / sum(E * S)`` of a surface with reflectance R lit by E, seen by a sensor of response S
    (all sampled on the same wavelengths)."""
    _, reflectance, illuminant, sensitivity = _probe_spectra()
    got = _as_float(_call(fn, "your function", reflectance.copy(), illuminant.copy(), sensitivity.copy()),
                    "your function")
    expected = float(np.sum(reflectance * illuminant * sensitivity) / np.sum(illuminant * sensitivity))
    if _close(got, expected):
        white = _as_float(_call(fn, "your function", np.ones_like(reflectance), illuminant, sensitivity),
                          "your function")
        if not _close(white, 1.0):
            return _fail(f"a perfect white surface (reflectance 1) gives {white:.4g}; it must give 1")
        return _ok(f"this leaf-like surface reads {got:.3f} in the NIR camera (a white sheet reads 1.000)")
    e, s, r = illuminant, sensitivity, reflectance
    candidates = [
        (float(np.sum(r * e * s)), "you did not normalise: divide by the response to a perfect white surface, "
                                   "sum(E * S), so that white reads 1 whatever the light's brightness"),
        (float(np.sum(r * s) / np.sum(s)), "you left out the illuminant E: the camera sees reflected light, "
                                           "R * E, not the reflectance alone"),
        (float(np.sum(r * e) / np.sum(e)), "you left out the sensor sensitivity S: the NIR camera only responds "
                                           "where S > 0 (past ~780 nm)"),
        (float(np.mean(r)), "you averaged the reflectance: weight it by the light that reaches the sensor, E * S"),
        (float(np.sum(r * e * s) / np.sum(e)), "normalise by sum(E * S) (the white response), not sum(E)"),
        (float(np.sum(r * e * s) / np.sum(s)), "normalise by sum(E * S) (the white response), not sum(S)"),
    ]
    for value, message in candidates:
        if _close(got, value):
            return _fail(message)
    return _fail(f"your function gives {got:.4g} for the probe surface; sum(R * E * S) / sum(E * S) = {expected:.4g}")


# --------------------------------------------------------------------------------------------------------------
# 02: the gray domain (Section 5 of the design: ITU-R BT.601 luminance)
# --------------------------------------------------------------------------------------------------------------
def _fmt(values) -> str:
    return "(" + ", ".join(f"{float(v):.4g}" for v in values) + ")"


def _diagnose_weights(weights: Sequence[float], who: str = "your luminance weights") -> str | None:
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if np.allclose(w, BT601, atol=2e-3):
        return None
    if np.allclose(w, BT601[::-1], atol=2e-3):
        return f"{who} are in B, G, R order {_fmt(w)}: the image's channels are R, G, B, so R gets 0.299"
    if not math.isclose(total, 1.0, abs_tol=5e-3):
        return (f"{who} sum to {total:.3g}: BT.601 weights sum to 1, so that white stays white and black stays "
                "black")
    if np.allclose(w, w.mean(), atol=2e-3):
        return (f"{who} are equal ({w[0]:.3g} each): a plain average; BT.601 weights green most (0.587) and "
                "blue least (0.114), as our eyes do")
    if np.allclose(sorted(w), sorted(BT601), atol=2e-3):
        return f"{who} {_fmt(w)} are BT.601's numbers in the wrong channels: R 0.299, G 0.587, B 0.114"
    if np.allclose(w, (0.2126, 0.7152, 0.0722), atol=2e-3):
        return (f"{who} are BT.709's (0.2126, 0.7152, 0.0722): close, but the course (and PIL's 'L' mode) uses "
                "BT.601 (0.299, 0.587, 0.114)")
    return f"{who} {_fmt(w)} differ from BT.601's (0.299, 0.587, 0.114)"


@_checked
def check_luminance_weights(weights: Sequence[float]) -> bool:
    """Check a triple of luminance weights (R, G, B) against ITU-R BT.601 (0.299, 0.587, 0.114)."""
    if weights is None or weights is Ellipsis:
        return _fail("fill in the three weights (R, G, B), e.g. weights = (0.3, 0.6, 0.1), then run the cell again")
    try:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return _fail(f"weights: expected three numbers (R, G, B), got {weights!r}")
    if w.size != 3:
        return _fail(f"weights: expected three numbers (R, G, B), got {w.size}")
    problem = _diagnose_weights(w)
    if problem:
        return _fail(problem)
    return _ok("BT.601: gray = 0.299 R + 0.587 G + 0.114 B (the weights sum to 1)")


@_checked
def check_to_gray(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(rgb) -> gray``: RGB tensors [..., 3, H, W] in [-1, 1] -> [..., 1, H, W] in [-1, 1] with the
    BT.601 weights (the linear map, so the same weights hold in [-1, 1] as in [0, 1])."""
    generator = torch.Generator().manual_seed(0)
    batch = torch.rand(2, 3, 5, 6, generator=generator) * 2 - 1
    out = _call(fn, "your to_gray", batch.clone())
    if not isinstance(out, torch.Tensor):
        return _fail(f"your to_gray returned a {type(out).__name__}: expected a tensor")
    if tuple(out.shape) == (2, 5, 6):
        return _fail("your gray has shape (2, 5, 6): you dropped the channel dimension; keep it "
                     "(sum(..., keepdim=True) or [:, None]) so the result is (N, 1, H, W) = (2, 1, 5, 6)")
    if tuple(out.shape) == (2, 3, 5, 6):
        return _fail("your gray still has 3 channels, shape (2, 3, 5, 6): combine them into one, (2, 1, 5, 6)")
    if tuple(out.shape) != (2, 1, 5, 6):
        return _fail(f"your gray has shape {tuple(out.shape)} for an input of shape (2, 3, 5, 6); "
                     "expected (2, 1, 5, 6)")
    # The map is affine: probe it at mid-gray (0) and at one unit along each channel to read its weights.
    probes = torch.zeros(4, 3, 1, 1)
    for c in range(3):
        probes[c + 1, c] = 1.0
    values = _call(fn, "your to_gray", probes).detach().double().reshape(4)
    offset = float(values[0])
    weights = (values[1:] - values[0]).numpy()
    if np.allclose(weights, np.asarray(BT601) / 2, atol=2e-3) and abs(offset - 0.5) < 2e-3:
        return _fail("your gray is in [0, 1] (mid-gray 0 comes out as 0.5): you mapped the input to [0, 1] and did "
                     "not map the result back. The map is linear and the weights sum to 1, so apply them to the "
                     "[-1, 1] values directly")
    problem = _diagnose_weights(weights, "the weights your function applies")
    if problem:
        return _fail(problem)
    if abs(offset) > 1e-4:
        return _fail(f"mid-gray (0 in every channel) comes out as {offset:.3g}, not 0: in [-1, 1] the map is just "
                     "0.299 R + 0.587 G + 0.114 B, with no offset")
    expected = (batch * torch.tensor(BT601, dtype=batch.dtype).view(1, 3, 1, 1)).sum(1, keepdim=True)
    if not torch.allclose(out.detach().double(), expected.double(), atol=1e-4):
        return _fail(f"right weights, but values differ from 0.299 R + 0.587 G + 0.114 B by up to "
                     f"{float((out.detach().double() - expected.double()).abs().max()):.3g} (clamping or rounding?)")
    single = _call(fn, "your to_gray", batch[0].clone())
    if not isinstance(single, torch.Tensor) or tuple(single.shape) != (1, 5, 6):
        return _fail(f"works on a batch (N, 3, H, W) but a single image (3, 5, 6) gives shape {_shape(single)}: "
                     "count the channel axis from the end (dim=-3), so both (3, H, W) and (N, 3, H, W) work")
    return _ok("gray = 0.299 R + 0.587 G + 0.114 B, channel kept, on single images and batches")


# --------------------------------------------------------------------------------------------------------------
# 03: coordinate attention (Fig. 2(b))
# --------------------------------------------------------------------------------------------------------------
@_checked
def check_directional_pools(fn: Callable[[torch.Tensor], tuple]) -> bool:
    """Check ``fn(x) -> (pool_h, pool_w)`` for x [N, C, H, W]: coordinate attention's two average pools,
    ``pool_h`` [N, C, H, 1] (average over W: one value per row) and ``pool_w`` [N, C, 1, W] (average over H)."""
    n, c, h, w = 2, 4, 6, 8
    x = torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(0))
    out = _call(fn, "your pooling function", x.clone())
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return _fail("return two tensors, (pool_h, pool_w)")
    pool_h, pool_w = out
    want_h, want_w = x.mean(3, keepdim=True), x.mean(2, keepdim=True)
    for label, got, want, keep, other in (("pool_h", pool_h, want_h, "H", "W"), ("pool_w", pool_w, want_w, "W", "H")):
        if not isinstance(got, torch.Tensor):
            return _fail(f"your {label} is a {type(got).__name__}: expected a tensor")
        gshape, wshape = tuple(got.shape), tuple(want.shape)
        if gshape == wshape:
            continue
        form = "(N, C, H, 1)" if keep == "H" else "(N, C, 1, W)"
        if gshape == (tuple(want_w.shape) if keep == "H" else tuple(want_h.shape)):
            return _fail(f"your {label} has shape {gshape}, which is the other direction: {label} keeps {keep} "
                         f"and averages over {other}, so CoordinateAttention's {keep}-pool is {form} = {wshape}")
        if len(gshape) == 3:
            return _fail(f"your {label} has shape {gshape}: keep the pooled axis (keepdim=True); "
                         f"CoordinateAttention's {keep}-pool is {form} = {wshape}")
        return _fail(f"your {label} has shape {gshape} but CoordinateAttention's {keep}-pool is {form} = {wshape}")
    for label, got, dim in (("pool_h", pool_h, 3), ("pool_w", pool_w, 2)):
        got = got.detach()
        want = x.mean(dim, keepdim=True)
        if torch.allclose(got, want, atol=1e-5):
            continue
        if torch.allclose(got, x.amax(dim, keepdim=True), atol=1e-5):
            return _fail(f"your {label} takes the maximum: coordinate attention averages "
                         f"(x.mean(dim={dim}, keepdim=True))")
        if torch.allclose(got, x.sum(dim, keepdim=True), atol=1e-4):
            return _fail(f"your {label} sums: divide by the number of pixels averaged, "
                         f"i.e. use .mean(dim={dim}, keepdim=True)")
        return _fail(f"your {label} has the right shape but its values differ from the mean over dim {dim} by up to "
                     f"{float((got - want).abs().max()):.3g}")
    return _ok(f"pool_h {tuple(pool_h.shape)} averages each row, pool_w {tuple(pool_w.shape)} each column")


@_checked
def check_coordinate_gates(gate_h: Any, gate_w: Any, module: torch.nn.Module) -> bool:
    """Compare gates computed by hand with a CoordinateAttention module's own ``last_gates`` (run the module on
    the same input first): gate_h must be [N, C, H, 1], gate_w [N, C, 1, W], both in (0, 1), equal to the
    module's."""
    reference = getattr(module, "last_gates", None)
    if reference is None:
        return _fail("the module has no last_gates yet: call it on your input once (module(x)) before checking")
    ref_h, ref_w = reference
    if gate_h is None or gate_w is None or gate_h is Ellipsis or gate_w is Ellipsis:
        return _fail("compute both gates (gate_h, gate_w) first")
    for label, got, ref, form, other_ref in (("H-gate", gate_h, ref_h, "(N, C, H, 1)", ref_w),
                                            ("W-gate", gate_w, ref_w, "(N, C, 1, W)", ref_h)):
        if not isinstance(got, torch.Tensor):
            return _fail(f"your {label} is a {type(got).__name__}: expected a tensor")
        if tuple(got.shape) != tuple(ref.shape):
            hint = " (you swapped the two gates?)" if tuple(got.shape) == tuple(other_ref.shape) else ""
            return _fail(f"your gate has shape {tuple(got.shape)} but CoordinateAttention's {label} is {form} = "
                         f"{tuple(ref.shape)}{hint}")
        got = got.detach().to(ref.dtype)
        if float(got.min()) < 0.0 or float(got.max()) > 1.0:
            return _fail(f"your {label} has values in [{float(got.min()):.3g}, {float(got.max()):.3g}]: a gate goes "
                         "through a sigmoid, so it lies in (0, 1)")
        diff = float((got - ref).abs().max())
        if diff > 1e-4:
            return _fail(f"your {label} differs from the module's by up to {diff:.3g}: check the order pool -> "
                         "concatenate (H + W positions) -> shared 1x1 conv -> its non-linearity (ca.act) -> split -> "
                         "1x1 conv per direction -> sigmoid, and transpose the W part back to (N, C, 1, W)")
    return _ok("your hand-built gates equal CoordinateAttention's")


# --------------------------------------------------------------------------------------------------------------
# 04: InstanceNorm (Fig. 2(c), Ulyanov et al.)
# --------------------------------------------------------------------------------------------------------------
def _normalise(x: torch.Tensor, dims: tuple, unbiased: bool = False, center: bool = True, scale: bool = True,
               eps: float = 1e-5) -> torch.Tensor:
    out = x
    if center:
        out = out - x.mean(dims, keepdim=True)
    if scale:
        out = out / torch.sqrt(x.var(dims, unbiased=unbiased, keepdim=True) + eps)
    return out


@_checked
def check_instance_norm(fn: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    """Check ``fn(x) -> y`` for x [N, C, H, W]: InstanceNorm without affine parameters, every (image, channel)
    normalised by its own spatial mean and (biased) standard deviation, eps = 1e-5 (``nn.InstanceNorm2d``)."""
    g = torch.Generator().manual_seed(0)
    n, c, h, w = 3, 4, 4, 5
    scales = torch.rand(n, c, 1, 1, generator=g) * 3 + 0.5
    offsets = torch.randn(n, c, 1, 1, generator=g) * 2
    x = (torch.randn(n, c, h, w, generator=g) * scales + offsets).double()
    out = _call(fn, "your instance_norm", x.clone())
    if not isinstance(out, torch.Tensor):
        return _fail(f"your instance_norm returned a {type(out).__name__}: expected a tensor")
    if tuple(out.shape) != tuple(x.shape):
        return _fail(f"your output has shape {tuple(out.shape)}; normalising keeps the shape {tuple(x.shape)}")
    got = out.detach().double()
    expected = F.instance_norm(x, eps=1e-5)
    if torch.allclose(got, expected, atol=1e-4):
        return _ok("every (image, channel) now has mean 0 and std 1, as nn.InstanceNorm2d computes")
    candidates = [
        (_normalise(x, (0, 2, 3)), "you took the statistics over the batch too (dims 0, 2, 3): that is BatchNorm. "
                                   "InstanceNorm normalises each image and channel on its own: dims (2, 3)"),
        (_normalise(x, (1, 2, 3)), "you took the statistics over the channels too (dims 1, 2, 3): that is "
                                   "LayerNorm. InstanceNorm keeps channels apart: dims (2, 3)"),
        (_normalise(x, (2, 3), unbiased=True), "you used the unbiased variance (divides by H*W - 1): InstanceNorm "
                                               "uses the biased one, var(unbiased=False)"),
        (_normalise(x, (2, 3), scale=False), "you subtracted the mean but did not divide by the standard deviation"),
        (_normalise(x, (2, 3), center=False), "you divided by the standard deviation but did not subtract the mean"),
        (_normalise(x, (2,)), "you normalised over H only (dim 2): use both spatial dims, (2, 3)"),
        (_normalise(x, (3,)), "you normalised over W only (dim 3): use both spatial dims, (2, 3)"),
    ]
    for candidate, message in candidates:
        if torch.allclose(got, candidate, atol=1e-4):
            return _fail(message)
    means, stds = got.mean((2, 3)), got.std((2, 3), unbiased=False)
    return _fail(f"per (image, channel) your output has means in [{float(means.min()):.3g}, {float(means.max()):.3g}] "
                 f"and stds in [{float(stds.min()):.3g}, {float(stds.max()):.3g}]; InstanceNorm gives mean 0 and std 1 "
                 "for each")


# --------------------------------------------------------------------------------------------------------------
# 05: targets for the three scales (Eqs. (2)-(3))
# --------------------------------------------------------------------------------------------------------------
def _smooth_target(n: int = 2, h: int = 32, w: int = 24) -> torch.Tensor:
    ys = torch.linspace(0, 1, h).view(1, 1, h, 1)
    xs = torch.linspace(0, 1, w).view(1, 1, 1, w)
    phases = torch.tensor([0.0, 1.0, 2.0]).view(1, 3, 1, 1)
    base = 0.8 * torch.sin(2.0 * ys + 3.0 * xs + phases)
    return torch.cat([base, base.flip(-1)], 0)[:n]


@_checked
def check_scale_targets(fn: Callable[[torch.Tensor, int], Sequence[torch.Tensor]]) -> bool:
    """Check ``fn(target, scales) -> list`` of ground truths, one per scale, coarsest first, sizes H / 2**(S-1-s)
    (for S = 3: H/4, H/2, H), the last being the target itself: what each of MPFNet's predictions is compared
    with in Eqs. (2)-(3)."""
    target = _smooth_target()
    h, w = target.shape[-2:]
    for scales in (3, 2, 1):
        out = _call(fn, "your function", target.clone(), scales)
        if isinstance(out, torch.Tensor) or not isinstance(out, (list, tuple)):
            return _fail(f"return a list of tensors (one per scale), got a {type(out).__name__}")
        if len(out) != scales:
            return _fail(f"for scales={scales} expected {scales} targets (one per prediction), got {len(out)}")
        sizes = [tuple(t.shape[-2:]) for t in out]
        want = [(h // 2 ** (scales - 1 - s), w // 2 ** (scales - 1 - s)) for s in range(scales)]
        if sizes == want[::-1] and scales > 1:
            return _fail(f"your list starts with the full-size {h}x{w} target: MPFNet returns its predictions "
                         f"coarsest first ({', '.join(f'{a}x{b}' for a, b in want)}), "
                         "so order the targets the same way")
        if sizes != want:
            return _fail(f"for scales={scales} your targets are {sizes}; expected {want} (H / 2**k, coarsest first)")
        for t in out:
            if tuple(t.shape[:2]) != tuple(target.shape[:2]):
                return _fail(f"a target has shape {tuple(t.shape)}: keep batch and channels, {tuple(target.shape[:2])}")
        if not torch.allclose(out[-1].detach(), target, atol=1e-6):
            return _fail("the finest target must be the full-size target itself, unchanged")
        for k, t in enumerate(out[:-1]):
            size = want[k]
            crop = target[..., : size[0], : size[1]]
            reference = F.interpolate(target, size=size, mode="area")
            t = t.detach().float()
            if torch.allclose(t, crop, atol=1e-5):
                return _fail(f"your {size[0]}x{size[1]} target is the top-left corner of the image: resize the whole "
                             "image (F.interpolate), do not crop it")
            if tuple(t.shape) == tuple(reference.shape) and torch.allclose(
                    t, F.interpolate(target, size=size, mode="nearest"), atol=1e-5):
                return _fail(f"your {size[0]}x{size[1]} target uses nearest-neighbour resizing: it keeps one pixel "
                             "in every 2x2 (or 4x4) block and aliases; average the block instead, as MPFNet's own "
                             "scale inputs do: F.interpolate(target, size=..., mode='area')")
            error = float((t - reference).abs().max())
            if error > 0.08:
                return _fail(f"your {size[0]}x{size[1]} target differs from the resized image by up to {error:.3g}: "
                             "downsample the whole image, e.g. F.interpolate(target, size=..., mode='area')")
    return _ok("one target per scale, coarsest first, each the whole image resized")


# --------------------------------------------------------------------------------------------------------------
# 06: metrics and losses (Table I, Section II.B)
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


@_checked
def check_mix_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], ssim_fn: Callable | None = None,
                   alpha: float = 0.84) -> bool:
    """Check ``fn(prediction, target) -> scalar`` on [-1, 1] tensors: L_mix (Zhao et al. [26]) =
    ``alpha * (1 - SSIM) + (1 - alpha) * L1``, alpha = 0.84, with both terms computed on images mapped to [0, 1].

    ``ssim_fn`` is the SSIM the student was told to use (``course_lib.losses.ssim`` by default, taking [-1, 1]
    tensors); the reference is built from it, so the check tests the combination, not the SSIM.
    """
    if ssim_fn is None:
        from course_lib.losses import ssim as ssim_fn  # imported here: only this check needs the losses module
    g = torch.Generator().manual_seed(2)
    target = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    prediction = (target + 0.3 * torch.randn(2, 3, 32, 32, generator=g)).clamp(-1, 1)
    got_raw = _call(fn, "your mix_loss", prediction.clone(), target.clone())
    if not isinstance(got_raw, torch.Tensor):
        return _fail(f"your mix_loss returned a {type(got_raw).__name__}: return a tensor so it can be backpropagated")
    if got_raw.numel() != 1:
        return _fail(f"your mix_loss returned shape {tuple(got_raw.shape)}: a loss is one number (take the mean)")
    got = float(got_raw)
    s = float(ssim_fn(prediction, target))
    l1 = float((prediction - target).abs().mean())  # in [-1, 1]; on [0, 1] images it is half of this
    expected = alpha * (1 - s) + (1 - alpha) * l1 / 2
    if _close(got, expected, rtol=1e-3):
        probe = prediction.clone().requires_grad_(True)
        value = _call(fn, "your mix_loss", probe, target)
        if not isinstance(value, torch.Tensor) or not value.requires_grad:
            return _fail("right value, but no gradient flows back to the prediction: do not convert to numpy or "
                         "float inside the loss, and do not wrap it in torch.no_grad()")
        return _ok(f"L_mix = {alpha} (1 - SSIM) + {1 - alpha:.2f} L1 = {got:.4f} on the probe pair")
    candidates = [
        ((1 - alpha) * (1 - s) + alpha * l1 / 2,
         f"alpha weights the SSIM term: {alpha} (1 - SSIM) + {1 - alpha:.2f} L1, not the other way round"),
        (alpha * (1 - s) + (1 - alpha) * l1, "your L1 is measured on [-1, 1] images: map to [0, 1] first "
                                             "((x + 1) / 2), which halves it"),
        (alpha * s + (1 - alpha) * l1 / 2, "use 1 - SSIM: SSIM is a similarity (1 = identical), the loss must shrink "
                                           "as images get alike"),
        (alpha * (1 + s) + (1 - alpha) * l1 / 2, "use 1 - SSIM, not 1 + SSIM"),
        (1 - s, "you returned only the SSIM term: add (1 - alpha) * L1"),
        (l1 / 2, "you returned only the L1 term: add alpha * (1 - SSIM)"),
        (alpha * (1 - s) + (1 - alpha) * float((((prediction - target) / 2) ** 2).mean()),
         "that is the squared error (L2): L_mix uses L1, the mean absolute difference"),
    ]
    for value, message in candidates:
        if value is not None and _close(got, value, rtol=1e-3):
            return _fail(message)
    return _fail(f"your mix_loss gives {got:.4g}; {alpha} (1 - SSIM) + {1 - alpha:.2f} L1 (on [0, 1] images) = "
                 f"{expected:.4g}")
