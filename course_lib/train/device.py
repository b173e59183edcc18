"""Devices, mixed precision and seeds of a training run."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch

from .profiles import Profile

__all__ = ["resolve_device", "autocast", "make_scaler", "seed_everything"]


# ----------------------------------------------------------------------------------------------------------------
# devices, precision, seeds
# ----------------------------------------------------------------------------------------------------------------
def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` -> CUDA if available, else CPU. Raises ValueError naming ``device`` if it cannot be used."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device: cannot parse {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but CUDA is not available here (use 'cpu')")
    return dev


def autocast(device: torch.device, enabled: bool):
    """float16 autocast for the networks on CUDA when the profile asks for it; a no-op elsewhere."""
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return nullcontext()


def make_scaler(profile: Profile, device: torch.device):
    """The loss scaler of mixed precision (disabled, i.e. a pass-through, without AMP or CUDA)."""
    enabled = bool(profile.amp and device.type == "cuda")
    if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and python ``random``."""
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
