"""GAN bookkeeping written once and reused by every adversarial stage (as in the CycleGAN code base [16]).

* :class:`ImagePool` - the history of generated images of Shrivastava et al. (2017) that CycleGAN feeds its
  discriminators (size 50): each discriminator sees a mix of the newest fakes and older ones, which damps the
  oscillation between generator and discriminator. Its random choices come from its own ``torch.Generator`` and
  its contents are saved in the checkpoint, so a resumed run continues the same trajectory.
* :func:`set_requires_grad` - freeze the discriminators while the generators are updated (their gradients would
  only be wasted work), unfreeze them for their own update.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

__all__ = ["ImagePool", "set_requires_grad"]


def set_requires_grad(nets: nn.Module | Iterable[nn.Module], requires_grad: bool) -> None:
    """Switch ``requires_grad`` of every parameter of ``nets`` (one module or several)."""
    if isinstance(nets, nn.Module):
        nets = [nets]
    for net in nets:
        for p in net.parameters():
            p.requires_grad_(requires_grad)


class ImagePool:
    """A buffer of up to ``size`` previously generated images (CycleGAN's ``ImagePool``).

    ``query(fakes)`` returns a batch of the same shape: while the pool is filling, the new images themselves;
    afterwards each image is, with probability 1/2, swapped for a random stored one (which the new image replaces
    in the pool), else returned as is. ``size=0`` disables the pool.
    """

    def __init__(self, size: int = 50, seed: int = 0):
        if size < 0:
            raise ValueError(f"size: expected a pool size >= 0, got {size}")
        self.size = int(size)
        self.images: list[torch.Tensor] = []  # each (1, C, H, W), detached
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        fakes = fakes.detach()
        if self.size == 0:
            return fakes
        out = []
        for image in fakes.split(1):
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator).item() < 0.5:
                j = int(torch.randint(len(self.images), (), generator=self.generator))
                out.append(self.images[j].to(image))
                self.images[j] = image.clone()
            else:
                out.append(image)
        return torch.cat(out)

    def state_dict(self) -> dict:
        images = torch.cat([im.float().cpu() for im in self.images]) if self.images else torch.empty(0)
        return {"size": self.size, "images": images, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.size = int(state["size"])
        self.images = list(state["images"].split(1)) if state["images"].numel() else []
        self.generator.set_state(state["generator"])
