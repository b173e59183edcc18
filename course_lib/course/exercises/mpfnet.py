"""Checks of the exercises on MPFNet's parts: InstanceNorm in the FEB (notebook 04, Fig. 2(c)) and the
ground-truth pyramid of the three scales (05, Eqs. (2)-(3))."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from ._report import _call, _checked, _fail, _ok

__all__ = ["check_instance_norm", "check_scale_targets"]


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
