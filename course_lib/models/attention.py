"""Channel/spatial attention used inside the RCAB of Fig. 2(b), plus small helpers shared by all networks.

MPFNet's residual coordinate attention block (Fig. 2(b)) re-weights features with *coordinate attention*
(Hou, Zhou and Feng, "Coordinate Attention for Efficient Mobile Network Design", CVPR 2021): instead of
squeezing a feature map to one number per channel (squeeze-and-excitation, Hu et al. 2018), it pools along
each axis separately, so the gates keep *where* along x and y a channel matters (the paper's "x- and y-axis
average pooling", Section II.A). For the ablations we also provide squeeze-excitation and "none".

Shared helpers (used by every model file): `init_weights` (pix2pix/CycleGAN's N(0, 0.02) initialisation),
`count_parameters`, `check_image_batch` (input validation) and `pad_to_multiple` (reflect/replicate padding).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

ATTENTION_KINDS = ("coordinate", "se", "none")


def _hidden_channels(channels: int, reduction: int) -> int:
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
        if channels < 1:
            raise ValueError(f"channels must be a positive integer; got {channels}")
        if reduction < 1:
            raise ValueError(f"reduction must be a positive integer; got {reduction}")
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
        if channels < 1:
            raise ValueError(f"channels must be a positive integer; got {channels}")
        if reduction < 1:
            raise ValueError(f"reduction must be a positive integer; got {reduction}")
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


# ----------------------------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------------------------

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
