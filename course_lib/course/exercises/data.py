"""Checks of the exercises on images and data: the models' value range (notebook 00), what a camera pixel sees
(01), the gray domain (02: BT.601 weights, RGB -> gray) and square crops of large photos (11)."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch

from ._report import _as_float, _call, _checked, _close, _fail, _ok, _shape

__all__ = ["check_to_model_range", "check_camera_response", "check_luminance_weights", "check_to_gray",
           "check_resize_shorter_and_crop", "BT601"]

#: ITU-R BT.601 luma weights (R, G, B): the course's gray domain (``course_lib.data.to_gray``, PIL's "L" mode).
BT601 = (0.299, 0.587, 0.114)


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
# 11: square crops of EPFL's large images
# --------------------------------------------------------------------------------------------------------------
def _ramp(height: int, width: int) -> torch.Tensor:
    """3 x H x W probe: channel 0 rises left to right, channel 1 top to bottom, channel 2 constant 0.5."""
    xs = torch.linspace(-1, 1, width).view(1, width).expand(height, width)
    ys = torch.linspace(-1, 1, height).view(height, 1).expand(height, width)
    return torch.stack([xs, ys, torch.full((height, width), 0.5)])


@_checked
def check_resize_shorter_and_crop(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> bool:
    """Check ``fn(image [C, H, W], size) -> [C, size, size]``: scale so the *shorter* side is ``size`` (keeping
    the aspect ratio), then cut the central ``size`` x ``size`` square (as ``course_lib.data.Resize`` does)."""
    name = "your resize_shorter_and_crop"
    size = 16
    for height, width in ((32, 64), (48, 24)):
        image = _ramp(height, width)
        out = _call(fn, name, image.clone(), size)
        if not isinstance(out, torch.Tensor):
            return _fail(f"{name} returned a {type(out).__name__}: expected a torch tensor")
        if tuple(out.shape) != (3, size, size):
            return _fail(f"for a 3x{height}x{width} image and size {size} your output has shape {tuple(out.shape)}, "
                         f"expected (3, {size}, {size})")
        out = out.detach().float()
        # where the probe's ramps end up tells what happened to the geometry
        x_span = float(out[0, :, -1].mean() - out[0, :, 0].mean())
        y_span = float(out[1, -1, :].mean() - out[1, 0, :].mean())
        x_mid, y_mid = float(out[0].mean()), float(out[1].mean())
        side = min(height, width)
        want_x, want_y = 2 * side / width, 2 * side / height   # the central square's share of each ramp
        tol = 0.25
        if abs(x_span - 2) < tol and abs(y_span - 2) < tol and (height != width):
            return _fail(f"for a {height}x{width} image your output still spans the whole image in both directions: "
                         "you squashed it to a square, which distorts the scene; scale the shorter side to "
                         f"{size} and crop the longer one")
        if abs(x_span - want_x) > tol or abs(y_span - want_y) > tol:
            crop_only_x, crop_only_y = 2 * size / width, 2 * size / height
            if abs(x_span - crop_only_x) < tol and abs(y_span - crop_only_y) < tol:
                return _fail(f"for a {height}x{width} image you cropped {size}x{size} pixels without scaling first: "
                             "that keeps only a small piece of the scene; scale so the shorter side is "
                             f"{size} (F.interpolate), then crop")
            return _fail(f"for a {height}x{width} image your output covers {x_span / 2:.0%} of the width and "
                         f"{y_span / 2:.0%} of the height, expected {want_x / 2:.0%} and {want_y / 2:.0%}: scale "
                         "so the shorter side is exactly `size`, keeping the aspect ratio")
        if abs(x_mid) > 0.1 or abs(y_mid) > 0.1:
            return _fail(f"for a {height}x{width} image your crop is off-centre (centre at x = {x_mid:+.2f}, "
                         f"y = {y_mid:+.2f} in [-1, 1] image coordinates): take the *central* square, starting at "
                         "(longer - size) // 2")
    if not torch.allclose(out[2], torch.full_like(out[2], 0.5), atol=0.02):
        return _fail("a constant channel came out changed: resample each channel the same way (values must stay "
                     "in [-1, 1], no normalisation)")
    return _ok("resize_shorter_and_crop correct: shorter side scaled to size, aspect kept, central square")
