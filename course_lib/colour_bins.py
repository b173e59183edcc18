"""Colour as a classification over chroma bins (after Zhang, Isola & Efros, "Colorful Image Colorization", 2016).

Not part of MPFNet. A network trained to *regress* colour with L1 or L2 answers an ambiguous pixel (a gray that
could be a green lawn or a red roof) with the median or mean of the colours it could be, and that is close to
gray: the progressive route's desaturated output (README, `probe_chroma.md`). Zhang et al. predict instead a
*distribution* over quantised colours and read a colour out of it that leans towards the mode. Our version, in
the chroma plane of BT.601 YCbCr (the luminance Y is :func:`course_lib.data.to_gray`, so the gray a colouriser is
given is exactly the Y it must keep):

* :class:`ChromaBins` - a grid of ``step`` wide squares over (Cb, Cr) in the [-1, 1] image scale, reduced to the
  bins that the training images use;
* :meth:`ChromaBins.soft_encode` - each target pixel as a distribution over its ``k`` nearest bins, with
  Gaussian weights (sigma = ``sigma`` x the grid step) - Zhang's soft encoding;
* :meth:`ChromaBins.rebalance` - per-bin loss weights ``w ~ 1 / ((1 - lam) p + lam / Q)``, normalised so that
  their expectation under the training distribution p is 1 (lam = 0.5, as Zhang): rare, saturated colours count
  more, so that the common gray-green-brown does not win every ambiguous pixel;
* :func:`bins_loss` - the weighted cross-entropy between the logits and the soft-encoded target;
* :meth:`ChromaBins.decode` - the annealed mean: the distribution sharpened by a temperature T (T = 1 the mean,
  T -> 0 the mode; Zhang: 0.38), then its expected chroma;
* :func:`ycbcr_to_rgb` / :func:`rgb_to_chroma` - the colour space, on [-1, 1] images.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .data.transforms import BT601_WEIGHTS, to_gray

__all__ = ["ChromaBins", "bins_loss", "annealed_mean", "rgb_to_chroma", "ycbcr_to_rgb", "KR", "KB"]

#: BT.601 luma weights of R and B (G: 1 - KR - KB), those of ``course_lib.data.to_gray``.
KR, KB = BT601_WEIGHTS[0], BT601_WEIGHTS[2]


def rgb_to_chroma(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [-1, 1] -> (N, 2, H, W) (Cb, Cr), each in [-1, 1] (BT.601: the blue and red
    differences to the luma, scaled so that pure blue / pure red reach 1)."""
    if rgb.dim() != 4 or rgb.shape[1] != 3:
        raise ValueError(f"rgb: expected a batch (N, 3, H, W), got shape {tuple(rgb.shape)}")
    y = to_gray(rgb)[:, 0]
    return torch.stack([(rgb[:, 2] - y) / (2 * (1 - KB)), (rgb[:, 0] - y) / (2 * (1 - KR))], dim=1)


def ycbcr_to_rgb(y: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """The inverse of (luma, :func:`rgb_to_chroma`): y (N, 1, H, W), chroma (N, 2, H, W) -> RGB (N, 3, H, W),
    clamped to [-1, 1]."""
    cb, cr = chroma.unbind(1)
    y = y[:, 0]
    r = y + 2 * (1 - KR) * cr
    b = y + 2 * (1 - KB) * cb
    g = (y - KR * r - KB * b) / (1 - KR - KB)
    return torch.stack([r, g, b], dim=1).clamp(-1, 1)


class ChromaBins:
    """Quantised chroma: ``centres`` (Q, 2) of the bins in use, with the training distribution ``prior`` (Q,).

    Build it from training images with :meth:`fit`, or from centres and a prior (e.g. read from a checkpoint).
    """

    def __init__(self, centres: torch.Tensor, prior: torch.Tensor, step: float):
        centres, prior = torch.as_tensor(centres, dtype=torch.float32), torch.as_tensor(prior, dtype=torch.float32)
        if centres.dim() != 2 or centres.shape[1] != 2 or len(centres) < 2:
            raise ValueError(f"centres: expected (Q, 2) with Q >= 2, got shape {tuple(centres.shape)}")
        if prior.shape != (len(centres),) or (prior < 0).any() or not prior.sum() > 0:
            raise ValueError(f"prior: expected {len(centres)} non-negative numbers with a positive sum")
        if not step > 0:
            raise ValueError(f"step: expected a positive grid step, got {step!r}")
        self.centres, self.prior, self.step = centres, prior / prior.sum(), float(step)

    def __len__(self) -> int:
        return len(self.centres)

    @classmethod
    def fit(cls, rgb_images, step: float = 0.1, min_share: float = 0.0) -> "ChromaBins":
        """The bins of a ``step`` grid over [-1, 1]^2 that the pixels of ``rgb_images`` (an iterable of (3, H, W)
        or (N, 3, H, W) tensors in [-1, 1]) fall in, with their share of the pixels as the prior (bins below
        ``min_share`` are dropped)."""
        n = int(round(2 / step))
        if n < 2 or not math.isclose(n * step, 2.0, rel_tol=1e-6):
            raise ValueError(f"step: expected 2 / step to be an integer >= 2, got {step!r}")
        counts = torch.zeros(n * n, dtype=torch.float64)
        for image in rgb_images:
            image = image[None] if image.dim() == 3 else image
            chroma = rgb_to_chroma(image.float())
            index = ((chroma + 1) / step).floor().clamp(0, n - 1).long()
            counts += torch.bincount((index[:, 0] * n + index[:, 1]).flatten(), minlength=n * n).double()
        share = counts / counts.sum()
        keep = share > min_share
        if keep.sum() < 2:
            raise ValueError("the images use fewer than two chroma bins: nothing to classify")
        grid = torch.arange(n, dtype=torch.float64) * step - 1 + step / 2
        centres = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), dim=-1).reshape(-1, 2)[keep]
        return cls(centres.float(), share[keep].float(), step)

    def soft_encode(self, chroma: torch.Tensor, k: int = 5, sigma: float = 0.5) -> torch.Tensor:
        """(N, 2, H, W) chroma -> (N, Q, H, W) target distributions: the ``k`` nearest bin centres, weighted by a
        Gaussian of the distance with standard deviation ``sigma`` grid steps, normalised to sum to 1."""
        n, _, h, w = chroma.shape
        pixels = chroma.permute(0, 2, 3, 1).reshape(-1, 2)
        dist = torch.cdist(pixels, self.centres.to(pixels))                  # (P, Q)
        k = min(k, len(self))
        near, index = dist.topk(k, dim=1, largest=False)
        # relative to the nearest bin: the same normalised weights, and no 0 / 0 for a pixel far from every bin
        weights = torch.exp(-(near ** 2 - near[:, :1] ** 2) / (2 * (sigma * self.step) ** 2))
        weights = weights / weights.sum(dim=1, keepdim=True)
        target = torch.zeros_like(dist).scatter_(1, index, weights)
        return target.reshape(n, h, w, -1).permute(0, 3, 1, 2)

    def rebalance(self, lam: float = 0.5) -> torch.Tensor:
        """(Q,) loss weights ``1 / ((1 - lam) p + lam / Q)``, scaled so that ``sum(p * w) = 1``."""
        if not 0 <= lam <= 1:
            raise ValueError(f"lam: expected a number in [0, 1], got {lam!r}")
        w = 1.0 / ((1 - lam) * self.prior + lam / len(self))
        return w / (self.prior * w).sum()

    def decode(self, logits: torch.Tensor, temperature: float = 0.38) -> torch.Tensor:
        """(N, Q, H, W) logits -> (N, 2, H, W) chroma: the annealed mean, ``softmax(logits / T)`` (the
        distribution raised to the power 1 / T and renormalised) times the bin centres."""
        return annealed_mean(logits, self.centres, temperature)

    def state(self) -> dict:
        return {"centres": self.centres.clone(), "prior": self.prior.clone(), "step": self.step}


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float = 0.38) -> torch.Tensor:
    """(N, Q, H, W) logits, (Q, 2) bin centres -> (N, 2, H, W) chroma: ``softmax(logits / T)`` (the distribution
    raised to the power 1 / T and renormalised) times the centres (:meth:`ChromaBins.decode`)."""
    if not temperature > 0:
        raise ValueError(f"temperature: expected > 0, got {temperature!r}")
    probs = torch.softmax(logits / temperature, dim=1)
    return torch.einsum("nqhw,qc->nchw", probs, centres.to(probs))


def bins_loss(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy ``-sum_q target_q log softmax(logits)_q`` per pixel, each pixel weighted by the weight of its
    most likely target bin (``weights`` (Q,), e.g. :meth:`ChromaBins.rebalance`; None: 1), averaged over pixels."""
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and target {tuple(target.shape)} must have the same shape")
    per_pixel = -(target * F.log_softmax(logits, dim=1)).sum(dim=1)        # (N, H, W)
    if weights is not None:
        per_pixel = per_pixel * weights.to(logits)[target.argmax(dim=1)]
    return per_pixel.mean()
