"""Discriminators: the image critics D_N^img, D_G^img of Eq. (1) and the feature critic D_G^feat of Eq. (4).

Both are PatchGANs (Isola et al., pix2pix, CVPR 2017): a fully convolutional critic whose every output scores
one patch of the input. They return raw scores (no sigmoid): the GAN terms are least-squares (LSGAN, Mao et
al. 2017), E[D(fake)^2] + E[(D(real) - 1)^2], see `course_lib.losses.lsgan_loss`.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .common import NORM_KINDS, check_image_batch, init_weights, make_norm

DISC_NORM_KINDS = NORM_KINDS   # one norm factory for every network: common.make_norm


def _patchgan(in_channels: int, width: int, n_layers: int, norm: str) -> nn.Sequential:
    """n_layers strided 4x4 convs (the first without norm), one stride-1 4x4 conv + norm, a 4x4 conv to 1."""
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1; got {n_layers}")
    make_norm(norm, 1)  # validates `norm` early
    bias = norm == "none"       # a conv followed by a norm needs no bias: the norm removes it
    layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
    channels = width
    for i in range(1, n_layers):
        out = width * min(2 ** i, 8)
        layers += [nn.Conv2d(channels, out, 4, stride=2, padding=1, bias=bias), make_norm(norm, out),
                   nn.LeakyReLU(0.2)]
        channels = out
    out = width * min(2 ** n_layers, 8)
    layers += [nn.Conv2d(channels, out, 4, stride=1, padding=1, bias=bias), make_norm(norm, out), nn.LeakyReLU(0.2),
               nn.Conv2d(out, 1, 4, stride=1, padding=1)]
    return nn.Sequential(*layers)


def receptive_field(n_layers: int) -> int:
    """Receptive field (px) of one output of a PatchGAN with n_layers strided convs: 70 for n_layers=3."""
    rf = 4 + 3                                  # the two stride-1 4x4 convs
    for _ in range(n_layers):
        rf = (rf - 1) * 2 + 4
    return rf


def _min_size(n_layers: int) -> int:
    """Smallest input size giving a >= 1x1 map: a stride-2 4x4 conv (padding 1) maps n -> n // 2 and each
    stride-1 one n -> n - 1, so the strided part must leave >= 3 px: 3 * 2 ** n_layers (24 for n_layers=3)."""
    return 3 * 2 ** n_layers


class PatchDiscriminator(nn.Module):
    """The 70x70 PatchGAN (pix2pix/CycleGAN) used as D_N^img and D_G^img in Eq. (1).

    [N, in_channels, H, W] -> raw scores [N, 1, h, w]; with n_layers=3: three stride-2 4x4 convs, then two
    stride-1 4x4 convs, so each score sees a 70x70 patch. norm in {"instance", "batch", "none"}.
    """

    def __init__(self, in_channels: int, width: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        self.in_channels, self.n_layers = in_channels, n_layers
        self.model = _patchgan(in_channels, width, n_layers, norm)
        init_weights(self)

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.n_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, "x", min_size=_min_size(self.n_layers))
        return self.model(x)


class FeatureDiscriminator(PatchDiscriminator):
    """D_G^feat of Eq. (4): a small PatchGAN critic (two strided convs: 34x34 receptive field by default).

    What it sees is the training config's choice (`feat_source`): F_G's multi-scale outputs resized to full
    size and concatenated ("outputs", in_channels = 3 * out_channels) or F_G's finest features, those its finest
    prediction is computed from ("features", in_channels = width). It only takes a tensor; any spatial size that
    yields a >= 1x1 map works.
    """

    def __init__(self, in_channels: int, width: int = 64, n_layers: int = 2, norm: str = "instance"):
        super().__init__(in_channels, width, n_layers, norm)   # the same PatchGAN, two strided layers
