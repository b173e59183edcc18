"""Helpers every network file shares: initialisation, parameter count, the input check of a model, padding, and
the norm layer factory (FEB steps, discriminators and the UNet baseline use the same one)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

#: Norm layers of every network: "instance" (the paper, [22]), "batch" or "none".
NORM_KINDS = ("instance", "batch", "none")


def make_norm(kind: str, channels: int) -> nn.Module:
    """A norm layer: "instance" (the paper, [22]; no affine, no running stats), "batch" or "none"."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels)      # no affine, no running stats: as pix2pix/CycleGAN
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {list(NORM_KINDS)}; got {kind!r}")


def init_weights(module: nn.Module, std: float = 0.02) -> nn.Module:
    """pix2pix/CycleGAN initialisation: conv weights ~ N(0, std), biases 0, norm scales ~ N(1, std).

    Called at the end of every model constructor, so `torch.manual_seed(s)` before construction gives
    identical models. Returns the module for chaining.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of `module` (all of them, or only those with requires_grad)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def check_image_batch(x, channels: int | None, name: str = "x", min_size: int = 8) -> None:
    """Raise ValueError naming `name` unless x is a float tensor [N, channels, H, W] with H, W >= min_size."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape [N, C, H, W]; got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{name} must be a 4-D tensor [N, C, H, W]; got shape {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channel(s) (shape [N, {channels}, H, W]); "
                         f"got shape {tuple(x.shape)}")
    if x.shape[2] < min_size or x.shape[3] < min_size:
        raise ValueError(f"{name} must be at least {min_size}x{min_size} pixels; got {x.shape[2]}x{x.shape[3]}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor in [-1, 1]; got dtype {x.dtype}")


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad H and W (bottom/right) up to the next multiple of `multiple`.

    Reflect padding avoids hard borders, but it needs pad < size; when the image is too small for that
    (e.g. 8 px padded to 64), replicate padding is used instead. Crop back with `y[..., :H, :W]`.
    """
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h == 0 and pad_w == 0:
        return x
    mode = "reflect" if (pad_h < h and pad_w < w) else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
