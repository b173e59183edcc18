"""Feature embedding block (FEB), Fig. 2(c) of the MPFNet paper: a UNet whose steps contain an RCAB.

Section II.A: "Each encoder block consists of a leaky ReLU activation module and a stride-2 4x4 convolution
layer to downsample the feature map. Then, the residual coordinate attention block [...], followed by an
instance normalization layer. The decoder block resembles the encoder but with a stride-2 4x4 transpose
convolution layer for feature upsampling. The bottle-neck block contains only a 3x3 convolution layer without
RCAB."

    stem      3x3 conv, in_channels -> width                          (full resolution, e_0)
    encoder   depth x [LeakyReLU(0.2) -> 4x4 conv stride 2 -> RCAB -> Norm]          (e_1 ... e_depth)
    bottleneck LeakyReLU(0.2) -> 3x3 conv (no RCAB)
    decoder   depth x [concat(previous, e_i) -> ReLU -> 4x4 transposed conv stride 2 -> RCAB -> Norm]
    head      concat(previous, e_0) -> ReLU -> 3x3 conv -> out_channels

Channels double at each encoder step, capped at 8 x width (as pix2pix's UNet). Choices the paper leaves open:
the stem (so the outermost UNet skip carries full-resolution detail), the head, and skipping the norm on a
level that is 1x1 (instance norm of a single pixel is zero; pix2pix's innermost level has no norm either).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .common import NORM_KINDS, check_image_batch, init_weights, make_norm, pad_to_multiple  # noqa: F401 (re-exported)
from .rcab import RCAB

MAX_WIDTH_MULTIPLIER = 8


def feb_channels(width: int, depth: int) -> list[int]:
    """Channels of e_0 ... e_depth: width, 2 width, 4 width, ... capped at 8 width."""
    return [width * min(2 ** i, MAX_WIDTH_MULTIPLIER) for i in range(depth + 1)]


def _apply_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    # The innermost level may be 1x1 (input of size 2**depth): normalising one pixel would erase it.
    return x if x.shape[-2] * x.shape[-1] == 1 else norm(x)


class EncoderStep(nn.Module):
    """LeakyReLU(0.2) -> 4x4 stride-2 conv -> RCAB -> Norm (Fig. 2(c), encoder)."""

    def __init__(self, in_channels: int, out_channels: int, attention: str, norm: str, reduction: int):
        super().__init__()
        self.act = nn.LeakyReLU(0.2)
        self.down = nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)
        self.rcab = RCAB(out_channels, attention, reduction)
        self.norm = make_norm(norm, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _apply_norm(self.norm, self.rcab(self.down(self.act(x))))


class DecoderStep(nn.Module):
    """ReLU -> 4x4 stride-2 transposed conv -> RCAB -> Norm (Fig. 2(c), decoder)."""

    def __init__(self, in_channels: int, out_channels: int, attention: str, norm: str, reduction: int):
        super().__init__()
        self.act = nn.ReLU()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1)
        self.rcab = RCAB(out_channels, attention, reduction)
        self.norm = make_norm(norm, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _apply_norm(self.norm, self.rcab(self.up(self.act(x))))


class FEB(nn.Module):
    """Feature embedding block (Fig. 2(c)): UNet with RCABs, [N, in_channels, H, W] -> [N, out_channels, H, W].

    Any H, W work: the input is padded (reflect, or replicate when too small) to a multiple of 2**depth and
    the output cropped back.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 32, depth: int = 4,
                 attention: str = "coordinate", norm: str = "instance", reduction: int = 16):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1; got {depth}")
        if width < 1:
            raise ValueError(f"width must be >= 1; got {width}")
        ch = feb_channels(width, depth)
        self.in_channels, self.out_channels, self.depth = in_channels, out_channels, depth
        self.stem = nn.Conv2d(in_channels, width, kernel_size=3, padding=1)
        self.encoder = nn.ModuleList(
            EncoderStep(ch[i - 1], ch[i], attention, norm, reduction) for i in range(1, depth + 1))
        self.bottleneck = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(ch[depth], ch[depth], 3, padding=1))
        # decoder[0] is the innermost step; each takes [previous, matching encoder output] concatenated
        self.decoder = nn.ModuleList(
            DecoderStep(2 * ch[i], ch[i - 1], attention, norm, reduction) for i in range(depth, 0, -1))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(2 * width, out_channels, kernel_size=3, padding=1))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, "x", min_size=1)
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, 2 ** self.depth)
        skips = [self.stem(x)]                                   # e_0
        for step in self.encoder:                                # e_1 ... e_depth
            skips.append(step(skips[-1]))
        y = self.bottleneck(skips[-1])
        for step, skip in zip(self.decoder, reversed(skips[1:])):
            y = step(torch.cat([y, skip], dim=1))                # UNet skip
        y = self.head(torch.cat([y, skips[0]], dim=1))
        return y[..., :h, :w]
