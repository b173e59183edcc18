"""Checks of the coordinate-attention exercises (notebook 03, Fig. 2(b)): the two directional pools, and gates
computed by hand against ``course_lib.models.CoordinateAttention``'s own."""

from __future__ import annotations

from typing import Any, Callable

import torch

from ._report import _call, _checked, _fail, _ok

__all__ = ["check_directional_pools", "check_coordinate_gates"]


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
