"""Channel/spatial attention used inside the RCAB of Fig. 2(b).

MPFNet's residual coordinate attention block (Fig. 2(b)) re-weights features with *coordinate attention*
(Hou, Zhou and Feng, "Coordinate Attention for Efficient Mobile Network Design", CVPR 2021): instead of
squeezing a feature map to one number per channel (squeeze-and-excitation, Hu et al. 2018), it pools along
each axis separately, so the gates keep *where* along x and y a channel matters (the paper's "x- and y-axis
average pooling", Section II.A). For the ablations we also provide squeeze-excitation and "none".
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import init_weights

ATTENTION_KINDS = ("coordinate", "se", "none")


def _hidden_channels(channels: int, reduction: int) -> int:
    """The hidden width of an attention block, after checking its arguments (ValueError naming them)."""
    if channels < 1:
        raise ValueError(f"channels must be a positive integer; got {channels}")
    if reduction < 1:
        raise ValueError(f"reduction must be a positive integer; got {reduction}")
    # Hou et al. never squeeze below 8 channels: narrow layers would otherwise get a 1-channel bottleneck.
    return max(8, channels // reduction)


class CoordinateAttention(nn.Module):
    """Coordinate attention (Hou et al., CVPR 2021), the "CA" of the RCAB in Fig. 2(b).

    Steps, for x of shape [N, C, H, W]:

    1. average-pool along W -> z_h [N, C, H, 1] and along H -> z_w [N, C, 1, W]
       (the "x- and y-axis average pooling" of Section II.A);
    2. concatenate both along the spatial axis, apply one shared 1x1 conv to max(8, C // r) channels and a
       non-linearity (h-swish, as Hou et al.);
    3. split back, one 1x1 conv + sigmoid per direction -> gate_h [N, C, H, 1], gate_w [N, C, 1, W];
    4. return x * gate_h * gate_w.

    So the gate at (h, w) depends on row h and column w of the input only.

    Normalisation choice: Hou et al. put a BatchNorm after the shared conv. We use *no* normalisation there:
    BatchNorm couples the images of a batch (and behaves differently at batch size 1, the usual GAN setting,
    and in eval mode), and Group/InstanceNorm would normalise over all H + W pooled positions, so each gate
    would depend on the whole image and mix the two directions. Without it every image is processed
    independently and the row/column property above holds exactly.

    The last gates are kept (detached) in `self.last_gates = (gate_h, gate_w)` for the notebooks' figures.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = _hidden_channels(channels, reduction)
        self.channels, self.reduction = channels, reduction
        self.shared = nn.Conv2d(channels, hidden, kernel_size=1)   # shared across both directions
        self.act = nn.Hardswish()                                  # Hou et al.'s h-swish
        self.conv_h = nn.Conv2d(hidden, channels, kernel_size=1)
        self.conv_w = nn.Conv2d(hidden, channels, kernel_size=1)
        self.last_gates: tuple[torch.Tensor, torch.Tensor] | None = None
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        z_h = x.mean(dim=3, keepdim=True)                          # [N, C, H, 1]: pool along W
        z_w = x.mean(dim=2, keepdim=True).transpose(2, 3)          # [N, C, W, 1]: pool along H
        y = self.act(self.shared(torch.cat([z_h, z_w], dim=2)))    # [N, hidden, H + W, 1]
        y_h, y_w = torch.split(y, [h, w], dim=2)
        gate_h = torch.sigmoid(self.conv_h(y_h))                   # [N, C, H, 1]
        gate_w = torch.sigmoid(self.conv_w(y_w.transpose(2, 3)))   # [N, C, 1, W]
        self.last_gates = (gate_h.detach(), gate_w.detach())
        return x * gate_h * gate_w


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al., CVPR 2018): one gate per channel from global average pooling.

    The ablation alternative to coordinate attention: it re-weights channels but, unlike Fig. 2(b)'s CA,
    keeps no position information. Hidden width max(8, C // r), ReLU, sigmoid, as in Hu et al.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = _hidden_channels(channels, reduction)
        self.squeeze = nn.Conv2d(channels, hidden, kernel_size=1)
        self.excite = nn.Conv2d(hidden, channels, kernel_size=1)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean(dim=(2, 3), keepdim=True)))))
        return x * gate


def make_attention(kind: str, channels: int, reduction: int = 16) -> nn.Module:
    """The attention module of an RCAB: "coordinate" (Fig. 2(b)), "se" (squeeze-excitation) or "none"."""
    if kind == "coordinate":
        return CoordinateAttention(channels, reduction)
    if kind == "se":
        return SqueezeExcitation(channels, reduction)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"attention must be one of {list(ATTENTION_KINDS)}; got {kind!r}")
