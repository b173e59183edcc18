"""An MPFNet whose finest colour is read from a distribution over chroma bins (not in the paper).

MPFNet regresses RGB with L_mix, and a regression answers an ambiguous gray with a near-gray average of the
colours it could be (``course_lib.colour_bins``; notebook 06). :class:`BinnedMPFNet` keeps the MPFNet and every
output of it, and adds a 1 x 1 convolution on the features of its finest scale (the ones the finest prediction is
computed from) that scores ``n_bins`` chroma bins per pixel. Its finest output is then

    luma   = the input gray (``luma="input"``: a colouriser F_G, whose input *is* the luminance to keep), or the
             luminance of MPFNet's own finest RGB prediction (``luma="regression"``: a network whose input is not
             a gray, e.g. the direct NIR -> RGB route);
    chroma = the annealed mean of the bins' distribution at ``temperature`` (1: the mean; towards 0: the mode);
    RGB    = BT.601 YCbCr -> RGB of (luma, chroma),

and the coarser outputs are MPFNet's own. With ``stride`` s > 1 the head scores bins on the finest features
average-pooled s x s (as Zhang et al. predict colour at a quarter of the resolution) and the annealed mean is
upsampled bilinearly to the input's size: a per-pixel cost 1 / s^2 of the full-resolution head's, the luma keeping
every pixel. Training adds the bins' rebalanced cross-entropy
(``course_lib.colour_bins.bins_loss``) to L_mix on MPFNet's regression outputs (``info["regression"]``), so the
decoded colour itself is never pulled back to an average by a regression loss. The bins' centres and training
distribution are buffers: they travel in the state dict, the checkpoint and the exported weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..colour_bins import ChromaBins, annealed_mean, ycbcr_to_rgb
from ..data.transforms import to_gray
from .mpfnet import MPFNet, MPFNetConfig

__all__ = ["BinnedMPFNet", "LUMA_SOURCES", "block_mean"]

#: Where :class:`BinnedMPFNet` takes the luminance of its finest output from.
LUMA_SOURCES = ("input", "regression")


def block_mean(x: torch.Tensor, stride: int) -> torch.Tensor:
    """The mean of each ``stride`` x ``stride`` block of ``x`` (N, C, H, W); a size that is not a multiple of
    ``stride`` is first padded by repeating the last row / column, so the result has ceil(H / s) x ceil(W / s)."""
    if stride == 1:
        return x
    pad_h, pad_w = -x.shape[-2] % stride, -x.shape[-1] % stride
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return F.avg_pool2d(x, stride)


def _upsample(x: torch.Tensor, stride: int, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear upsampling by ``stride`` of a :func:`block_mean` grid, cropped to ``size`` (block centres stay put)."""
    up = F.interpolate(x, scale_factor=stride, mode="bilinear", align_corners=False)
    return up[..., :size[0], :size[1]]


class BinnedMPFNet(nn.Module):
    """MPFNet(in_channels, 3) plus a chroma-bin head on its finest features (module docstring).

    forward(x, return_features=False) -> predictions as MPFNet's (coarsest first, in [-1, 1]) with the finest one
    decoded from the bins; with return_features=True -> (predictions, info) where info is MPFNet's plus
    ``"logits"`` (N, n_bins, ceil(H / stride), ceil(W / stride)) and ``"regression"`` (MPFNet's own
    predictions, for L_mix).
    ``temperature`` may be changed on a trained model (an inference choice; the spec stores the trained one).
    """

    def __init__(self, in_channels: int = 1, config: MPFNetConfig | None = None, n_bins: int = 2,
                 step: float = 0.1, temperature: float = 1.0, luma: str = "input", stride: int = 1):
        super().__init__()
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride: expected an integer >= 1 (1: the head at full resolution), got {stride!r}")
        if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 2:
            raise ValueError(f"n_bins: expected an integer >= 2, got {n_bins!r}")
        if luma not in LUMA_SOURCES:
            raise ValueError(f"luma: expected one of {list(LUMA_SOURCES)}, got {luma!r}")
        if luma == "input" and in_channels != 1:
            raise ValueError(f"luma='input' takes the luminance from a 1-channel gray input; in_channels is "
                             f"{in_channels} (use luma='regression')")
        if not step > 0:
            raise ValueError(f"step: expected a positive grid step, got {step!r}")
        self.net = MPFNet(in_channels, 3, config)
        self.config, self.in_channels, self.out_channels = self.net.config, in_channels, 3
        self.head = nn.Conv2d(self.net.config.width, n_bins, kernel_size=1)
        self.register_buffer("centres", torch.zeros(n_bins, 2))
        self.register_buffer("prior", torch.full((n_bins,), 1.0 / n_bins))
        self.n_bins, self.step, self.luma, self.stride = n_bins, float(step), luma, stride
        self.temperature = temperature

    @property
    def temperature(self) -> float:
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"temperature: expected a number > 0, got {value!r}")
        self._temperature = float(value)

    @property
    def multiple(self) -> int:
        return self.net.multiple

    def set_bins(self, bins: ChromaBins) -> None:
        """Take the centres and prior of fitted bins (their number must be ``n_bins``, their step ``step``)."""
        if len(bins) != self.n_bins or abs(bins.step - self.step) > 1e-9:
            raise ValueError(f"bins: {len(bins)} bins of step {bins.step:g} for a head of {self.n_bins} bins of "
                             f"step {self.step:g}")
        with torch.no_grad():
            self.centres.copy_(bins.centres)
            self.prior.copy_(bins.prior)

    def bins(self) -> ChromaBins:
        """The head's bins (centres, training distribution, step) as a :class:`ChromaBins`."""
        return ChromaBins(self.centres.detach().float().cpu(), self.prior.detach().float().cpu(), self.step)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        predictions, info = self.net(x, return_features=True)
        logits = self.head(block_mean(info["features"][-1], self.stride))
        chroma = annealed_mean(logits.float(), self.centres.float(), self.temperature)
        if self.stride > 1:
            chroma = _upsample(chroma, self.stride, tuple(x.shape[-2:]))
        luma = x[:, :1] if self.luma == "input" else to_gray(predictions[-1].float().clamp(-1, 1))
        rgb = ycbcr_to_rgb(luma.float(), chroma).to(predictions[-1].dtype)
        outputs = [*predictions[:-1], rgb]
        if not return_features:
            return outputs
        return outputs, {**info, "logits": logits, "regression": predictions}
