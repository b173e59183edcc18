"""Residual coordinate attention block (RCAB), Fig. 2(b) of the MPFNet paper.

    RCAB(x) = x + CA(conv3x3(ReLU(conv3x3(x))))

The residual form follows RCAN's residual channel attention block (Zhang et al., ECCV 2018); MPFNet swaps the
channel attention for coordinate attention (`attention.CoordinateAttention`) so the block captures "both
channel correlation and accurate position-sensitive information" (Section II.A).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .attention import make_attention
from .common import init_weights


class RCAB(nn.Module):
    """x + CA(conv3x3(ReLU(conv3x3(x)))) (Fig. 2(b)); the channel count is unchanged.

    attention: "coordinate" (the paper), "se" (squeeze-excitation) or "none" (a plain residual block),
    reduction: the attention's channel reduction r (hidden width max(8, C // r)).
    """

    def __init__(self, channels: int, attention: str = "coordinate", reduction: int = 16):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
        )
        self.attention = make_attention(attention, channels, reduction)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attention(self.body(x))
