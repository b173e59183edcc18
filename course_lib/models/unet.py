"""The pix2pix UNet generator (Isola et al., CVPR 2017): the plain single-path baseline.

The paper's motivation (Section II.A, Fig. 3) is that a direct, single-path NIR -> RGB mapping is unstable.
This baseline is that direct path: one UNet, no attention, no multi-scale supervision, trained NIR -> RGB.

    down_0      4x4 stride-2 conv                              (in_channels -> width)
    down_i      LeakyReLU(0.2) -> 4x4 stride-2 conv -> Norm    (channels double, capped at 8 width)
    innermost   LeakyReLU(0.2) -> 4x4 stride-2 conv            (no norm: it may be 1x1)
    up_i        ReLU -> 4x4 stride-2 transposed conv -> Norm, concatenated with the matching down output
    up_0        ReLU -> 4x4 stride-2 transposed conv -> tanh   (-> out_channels, in [-1, 1])

depth=8, width=64 is pix2pix's "unet_256". Dropout (pix2pix's only noise source) is left out.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .common import check_image_batch, init_weights, make_norm, pad_to_multiple

MIN_SIZE = 8


class UNetBaseline(nn.Module):
    """pix2pix-style UNet: [N, in_channels, H, W] -> ONE tensor [N, out_channels, H, W] in [-1, 1].

    Any H, W >= 8 work: the input is padded (reflect, or replicate when too small) to a multiple of
    2**depth and the output cropped back. norm in {"instance", "batch", "none"}.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 3, width: int = 64, depth: int = 8,
                 norm: str = "instance"):
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be >= 2; got {depth}")
        if width < 1:
            raise ValueError(f"width must be >= 1; got {width}")
        make_norm(norm, 1)  # validates `norm`
        self.in_channels, self.out_channels, self.depth = in_channels, out_channels, depth
        ch = [width * min(2 ** i, 8) for i in range(depth)]
        bias = norm == "none"
        down: list[nn.Module] = [nn.Conv2d(in_channels, ch[0], 4, stride=2, padding=1)]
        for i in range(1, depth - 1):
            down.append(nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(ch[i - 1], ch[i], 4, 2, 1, bias=bias),
                                      make_norm(norm, ch[i])))
        down.append(nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(ch[-2], ch[-1], 4, 2, 1)))
        up: list[nn.Module] = [nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(ch[-1], ch[-2], 4, 2, 1, bias=bias),
                                             make_norm(norm, ch[-2]))]       # innermost: no skip input
        for i in range(depth - 2, 0, -1):
            up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * ch[i], ch[i - 1], 4, 2, 1, bias=bias),
                                    make_norm(norm, ch[i - 1])))
        up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * ch[0], out_channels, 4, 2, 1), nn.Tanh()))
        self.down, self.up = nn.ModuleList(down), nn.ModuleList(up)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, "x", min_size=MIN_SIZE)
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, 2 ** self.depth)
        skips = []
        for step in self.down:
            x = step(x)
            skips.append(x)
        y = self.up[0](skips.pop())
        for step in self.up[1:]:
            y = step(torch.cat([y, skips.pop()], dim=1))
        return y[..., :h, :w]
