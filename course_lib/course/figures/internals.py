"""Inside the models: coordinate-attention gates (Fig. 2(b)), the shapes a forward pass goes through (forward
hooks; the "U" of the FEB), per-channel statistics (what InstanceNorm does), and MPFNet's predictions at each
scale."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .images import DPI, _grid, to_display

__all__ = ["show_attention_gates", "record_shapes", "plot_shape_profile", "plot_channel_stats",
           "show_scale_predictions"]


def show_attention_gates(
    image: Any, gate_h: torch.Tensor, gate_w: torch.Tensor, channels: Sequence[int] = (0, 1, 2, 3),
    size: float = 2.0, dpi: int = DPI,
) -> Figure:
    """Draw coordinate-attention gates: the image, then for each chosen channel the map
    ``gate_h[c] (H x 1) * gate_w[c] (1 x W)`` by which CoordinateAttention multiplies that channel.

    ``gate_h``: [N, C, H, 1], ``gate_w``: [N, C, 1, W] (the module's ``last_gates``); the first sample is drawn.
    Each panel is contrast-stretched (its value range is in the title): bright rows/columns are where the block
    lets that channel through. The profiles along the left (cyan, gate_h) and bottom (green, gate_w) edges are
    the two gates, each stretched to its own range.
    """
    if gate_h.ndim != 4 or gate_h.shape[-1] != 1:
        raise ValueError(f"gate_h: expected shape [N, C, H, 1], got {tuple(gate_h.shape)}")
    if gate_w.ndim != 4 or gate_w.shape[-2] != 1:
        raise ValueError(f"gate_w: expected shape [N, C, 1, W], got {tuple(gate_w.shape)}")
    channels = [c for c in channels if c < gate_h.shape[1]]
    fig, axes = _grid(1 + len(channels), 1 + len(channels), size, dpi)
    array = to_display(image)
    axes[0].imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0.0, vmax=1.0)
    axes[0].set_title("input", fontsize=9)
    axes[0].set_axis_off()
    gh, gw = gate_h[0, :, :, 0].detach().float().cpu(), gate_w[0, :, 0, :].detach().float().cpu()
    def unit(v: torch.Tensor) -> np.ndarray:  # min-max to [0, 1] for drawing a profile
        v = v.numpy()
        return (v - v.min()) / (v.max() - v.min() + 1e-12)

    for ax, c in zip(axes[1:], channels):
        gate = torch.outer(gh[c], gw[c]).numpy()
        ax.imshow(gate, cmap="magma")  # auto contrast: the gates' *pattern* matters, their range is in the title
        height, width = gate.shape
        ax.plot(unit(gh[c]) * width * 0.3, np.arange(height), color="cyan", lw=1.2)  # H-gate along the left edge
        ax.plot(np.arange(width), (1 - unit(gw[c]) * 0.3) * height - 0.5, color="lime", lw=1.2)  # W-gate, bottom
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        ax.set_title(f"channel {c}: {gate.min():.2f}..{gate.max():.2f}", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def _shape_of(value: Any):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        shapes = [_shape_of(v) for v in value]
        shapes = [s for s in shapes if s is not None]
        return shapes[0] if len(shapes) == 1 else shapes or None
    return None


@torch.no_grad()
def record_shapes(model: torch.nn.Module, x: torch.Tensor, types: tuple = (), leaves: bool = False,
                  names: Sequence[str] | None = None) -> list[dict]:
    """Run ``model(x)`` once with forward hooks and return one row per hooked module, in call order:
    ``{"name", "type", "input", "output", "params"}`` (shapes as tuples).

    Hooks go on the modules named in ``names`` (as in ``model.named_modules()``, e.g. ``"encoder.0"``); else on
    instances of ``types``; else, with ``leaves=True``, on every leaf module; else on the model's direct children.
    The hooks are removed afterwards, and the model is run in eval mode under ``torch.no_grad()``.
    """
    rows: list[dict] = []
    handles = []

    def hook(name):
        def record(module, inputs, output):
            rows.append({
                "name": name,
                "type": type(module).__name__,
                "input": _shape_of(inputs),
                "output": _shape_of(output),
                "params": sum(p.numel() for p in module.parameters()),
            })
        return record

    if names is not None:
        modules = dict(model.named_modules())
        missing = [n for n in names if n not in modules]
        if missing:
            raise ValueError(f"names: {missing} are not modules of the model; some valid names: {list(modules)[1:12]}")
        selected = [(n, modules[n]) for n in names]
    elif types:
        selected = [(n, m) for n, m in model.named_modules() if n and isinstance(m, types)]
    elif leaves:
        selected = [(n, m) for n, m in model.named_modules() if n and not list(m.children())]
    else:
        selected = list(model.named_children())
    for name, module in selected:
        handles.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    try:
        model.eval()
        model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return rows


def plot_shape_profile(rows: Sequence[Mapping[str, Any]], title: str | None = None, dpi: int = DPI) -> Figure:
    """Draw the "U" of a UNet from :func:`record_shapes` rows: the spatial size (log scale) of each recorded
    output in call order, each point labelled with its channel count."""
    points = [(r["name"], r["output"]) for r in rows if isinstance(r.get("output"), tuple) and len(r["output"]) == 4]
    if not points:
        raise ValueError("rows: expected rows whose 'output' is a 4-D shape (N, C, H, W)")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(points)), 3.0), dpi=dpi)
    sizes = [shape[2] for _, shape in points]
    ax.plot(range(len(points)), sizes, "o-", color="#1f77b4")
    for i, (_, shape) in enumerate(points):
        ax.annotate(f"{shape[1]}ch", (i, shape[2]), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    ax.set_yscale("log", base=2)
    ax.set_xticks(range(len(points)))
    ax.set_xticklabels([n for n, _ in points], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("spatial size H (px)")
    ax.set_ylim(min(sizes) / 1.6, max(sizes) * 1.8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_channel_stats(images: Mapping[str, torch.Tensor], max_channels: int = 16, dpi: int = DPI) -> Figure:
    """Per-channel mean and standard deviation of each tensor ([C,H,W] or [N,C,H,W], first sample), as grouped
    bars in two axes (mean, std). Shows what InstanceNorm does: every channel ends at mean 0 and std 1, so
    the colour statistics of the image are gone."""
    fig, (ax_mean, ax_std) = plt.subplots(1, 2, figsize=(8.0, 2.8), dpi=dpi)
    width = 0.8 / max(1, len(images))
    for k, (label, tensor) in enumerate(images.items()):
        t = tensor.detach().float().cpu()
        if t.ndim == 4:
            t = t[0]
        if t.ndim != 3:
            raise ValueError(f"images[{label!r}]: expected [C,H,W] or [N,C,H,W], got shape {tuple(tensor.shape)}")
        t = t[:max_channels].flatten(1)
        xs = np.arange(t.shape[0]) + (k - (len(images) - 1) / 2) * width
        ax_mean.bar(xs, t.mean(1).numpy(), width, label=label)
        ax_std.bar(xs, t.std(1, unbiased=False).numpy(), width, label=label)
    for ax, name in ((ax_mean, "mean"), (ax_std, "std")):
        ax.set_title(f"per-channel {name}", fontsize=9)
        ax.set_xlabel("channel")
        ax.axhline(0, color="0.3", lw=0.6)
    ax_std.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def show_scale_predictions(
    predictions: Mapping[str, Sequence[torch.Tensor]] | Sequence[torch.Tensor],
    target: torch.Tensor | None = None,
    size: float = 1.8,
    dpi: int = DPI,
) -> Figure:
    """One row per model, one column per scale (coarsest first, as MPFNet returns them), plus the target.

    ``predictions``: a list of tensors [N,C,h,w] (one per scale) or a dict row label -> such a list; the first
    sample of each is drawn, at its own resolution (small scales look blocky on purpose).
    """
    rows = predictions if isinstance(predictions, Mapping) else {"prediction": predictions}
    n_scales = max(len(p) for p in rows.values())
    ncols = n_scales + (1 if target is not None else 0)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(size * ncols, size * len(rows)), dpi=dpi, squeeze=False)
    for r, (label, preds) in enumerate(rows.items()):
        for s in range(n_scales):
            ax = axes[r, s]
            ax.set_axis_off()
            if s < len(preds):
                p = preds[s][0] if preds[s].ndim == 4 else preds[s]
                array = to_display(p)
                ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0.0, vmax=1.0)
                ax.set_title(f"{label}\n{p.shape[-2]}×{p.shape[-1]}", fontsize=8)
        if target is not None:
            ax = axes[r, -1]
            ax.imshow(to_display(target[0] if target.ndim == 4 else target))
            ax.set_title("target", fontsize=8)
            ax.set_axis_off()
    fig.tight_layout()
    return fig
