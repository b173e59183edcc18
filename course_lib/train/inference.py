"""Trained networks ready for inference: the progressive and the direct colorizer, and loading them from disk.

* :class:`ProgressiveColorizer` - the paper's route: NIR -> G_N2G -> (finest) gray -> F_G -> (finest) RGB.
* :class:`DirectColorizer` - the baseline route: one network NIR -> RGB (an MPFNet's finest output, or a UNet's).
* :func:`load_stage` - the networks of one stage checkpoint, rebuilt from their stored specs, in eval mode.
* :func:`load_colorizer` - a checkpoint file or run folder -> the colorizer it holds.

Both colorizers are ``nn.Module`` s whose ``forward`` takes a NIR batch (N, 1, H, W) in [-1, 1] of any size
>= 8 px (the networks pad internally) and returns the RGB batch (N, 3, H, W) in [-1, 1], so they plug into
``course_lib.metrics.evaluate``; ``colorize(nir)`` does the same without gradients and also accepts one image
(1, H, W).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .checkpoint import load_checkpoint
from .configs import build_model
from .loop import STAGE_NAMES

__all__ = ["ProgressiveColorizer", "DirectColorizer", "load_stage", "load_colorizer", "find_checkpoint",
           "find_colorizer_checkpoints", "set_temperature"]


def _finest(output):
    return output[-1] if isinstance(output, (list, tuple)) else output


def _as_batch(nir: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, bool]:
    if not isinstance(nir, torch.Tensor) or nir.dim() not in (3, 4):
        raise ValueError(f"nir: expected a tensor (1, H, W) or (N, 1, H, W) in [-1, 1], got "
                         f"{tuple(nir.shape) if isinstance(nir, torch.Tensor) else type(nir).__name__}")
    single = nir.dim() == 3
    return (nir[None] if single else nir).to(device=device, dtype=torch.float32), single


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


class ProgressiveColorizer(nn.Module):
    """NIR -> RGB by way of gray: ``F_G(G_N2G(nir)[-1])[-1]`` (Fig. 1). Also exposes the translated gray."""

    def __init__(self, g_n2g: nn.Module, f_g: nn.Module):
        super().__init__()
        self.g_n2g, self.f_g = g_n2g, f_g

    def translate(self, nir: torch.Tensor) -> torch.Tensor:
        """The translated gray image X_N2G (G_N2G's finest output), (N, 1, H, W)."""
        return _finest(self.g_n2g(nir))

    def forward(self, nir: torch.Tensor, return_gray: bool = False):
        gray = self.translate(nir)
        rgb = _finest(self.f_g(gray))
        return (rgb, gray) if return_gray else rgb

    @torch.no_grad()
    def colorize(self, nir: torch.Tensor, return_gray: bool = False):
        """Inference convenience: eval mode, no gradients, accepts (1, H, W) or (N, 1, H, W); returns CPU tensors
        of the same layout (``(rgb, gray)`` with ``return_gray``)."""
        self.eval()
        batch, single = _as_batch(nir, _device_of(self))
        rgb, gray = self.forward(batch, return_gray=True)
        rgb, gray = rgb.float().cpu(), gray.float().cpu()
        if single:
            rgb, gray = rgb[0], gray[0]
        return (rgb, gray) if return_gray else rgb


class DirectColorizer(nn.Module):
    """NIR -> RGB with one network (the direct route): its finest output."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, nir: torch.Tensor) -> torch.Tensor:
        return _finest(self.net(nir))

    @torch.no_grad()
    def colorize(self, nir: torch.Tensor) -> torch.Tensor:
        """Like :meth:`ProgressiveColorizer.colorize` (no gray to return)."""
        self.eval()
        batch, single = _as_batch(nir, _device_of(self))
        rgb = self.forward(batch).float().cpu()
        return rgb[0] if single else rgb


def set_temperature(colorizer: nn.Module, temperature: float) -> nn.Module:
    """Give every chroma-bin head in ``colorizer`` (``course_lib.models.BinnedMPFNet``, trained with
    ``colour_bins`` > 0) the annealed-mean ``temperature`` (1: the bins' mean colour; lower: nearer the most
    likely colour, more saturated). Returns ``colorizer``; ValueError if it has no such head."""
    from ..models import BinnedMPFNet

    heads = [m for m in colorizer.modules() if isinstance(m, BinnedMPFNet)]
    if not heads:
        raise ValueError("temperature: this colorizer has no chroma-bin head (it was trained without colour_bins); "
                         "its colours are regressed, there is no distribution to sharpen")
    for head in heads:
        head.temperature = temperature
    return colorizer


def find_checkpoint(out_dir: str | os.PathLike, stage: str) -> Path:
    """``out_dir/<stage>/checkpoint.pt``, or FileNotFoundError naming it (and the stages that do exist)."""
    if stage not in STAGE_NAMES:
        raise ValueError(f"stage: expected one of {list(STAGE_NAMES)}, got {stage!r}")
    path = Path(out_dir) / stage / "checkpoint.pt"
    if not path.is_file():
        present = [s for s in STAGE_NAMES if (Path(out_dir) / s / "checkpoint.pt").is_file()]
        raise FileNotFoundError(f"checkpoint: {path} does not exist (stages with a checkpoint in {out_dir}: "
                                f"{present or 'none'})")
    return path


def _models_from(ckpt: dict, device: str | torch.device) -> dict[str, nn.Module]:
    models = {}
    for name, spec in ckpt["model_specs"].items():
        if name not in ckpt["models"]:   # a finished stage's checkpoint keeps only the networks used later
            continue
        model = build_model(spec)
        model.load_state_dict(ckpt["models"][name])
        models[name] = model.to(device).eval()
    return models


def load_stage(out_dir: str | os.PathLike, stage: str, device: str | torch.device = "cpu") -> dict[str, nn.Module]:
    """The networks of ``out_dir/<stage>/checkpoint.pt`` by name (``g_n2g``, ``f_g``, ``net``...), in eval mode."""
    return _models_from(load_checkpoint(find_checkpoint(out_dir, stage)), device)


def find_colorizer_checkpoints(folder: str | os.PathLike) -> dict[str, Path]:
    """The colorizer checkpoints of a run folder: ``{"progressive": .../finetune/checkpoint.pt, "direct": ...,
    "direct_unet": ...}`` for those that exist."""
    folder = Path(folder)
    names = {"progressive": "finetune", "direct": "direct", "direct_unet": "direct_unet"}
    return {label: folder / stage / "checkpoint.pt" for label, stage in names.items()
            if (folder / stage / "checkpoint.pt").is_file()}


def load_colorizer(checkpoint: str | os.PathLike, device: str | torch.device = "cpu") -> nn.Module:
    """A NIR -> RGB colorizer from a checkpoint, in eval mode.

    ``checkpoint``: a ``finetune`` checkpoint (-> :class:`ProgressiveColorizer`), a ``direct``/``direct_unet`` one
    (-> :class:`DirectColorizer`), or a folder: a stage folder holding ``checkpoint.pt``, or a run folder (its
    finetune checkpoint is used, else its direct one). A ``pretrain`` checkpoint gives F_G wrapped as a
    DirectColorizer (it expects *gray* input); a ``translate`` checkpoint holds no colorizer (ValueError).
    """
    path = Path(checkpoint)
    if path.is_dir():
        if (path / "checkpoint.pt").is_file():
            path = path / "checkpoint.pt"
        else:
            found = find_colorizer_checkpoints(path)
            if not found:
                raise FileNotFoundError(f"checkpoint: no finetune/ or direct/ checkpoint.pt under {path}")
            path = next(iter(found.values()))
    ckpt = load_checkpoint(path)
    models = _models_from(ckpt, device)
    stage = ckpt["stage"]
    if stage == "finetune":
        return ProgressiveColorizer(models["g_n2g"], models["f_g"]).eval()
    if stage.startswith("direct"):
        return DirectColorizer(models["net"]).eval()
    if stage == "pretrain":
        return DirectColorizer(models["f_g"]).eval()
    raise ValueError(f"checkpoint: {path} is a {stage!r} checkpoint (the NIR -> gray translator), not a "
                     "colorizer; use a finetune or direct checkpoint")
