"""MPFNet: the multi-scale progressive feature embedding network of Fig. 2(a).

The same class is every generator of the paper: G_N2G and G_G2N (NIR <-> gray, 1 -> 1 channel, Eq. (1)) and
the colorizer F_G (gray -> RGB, 1 -> 3 channels, Eqs. (2)-(3)).

Section II.A: "The system breaks down the challenging domain mapping problem into sub-tasks with each focusing
on a different resolution. At each scale, an encoder-decoder feature embedding block (FEB) is designed to learn
contextual features, followed by a supervised color-consistency module (SCCM) which generates predictions [...].
Cross-scale skip connections are designed to propagate and fuse contextual details from lower resolutions to
higher ones."

For S = 3 scales (1/4, 1/2, 1 of the input), coarsest first:

    x_s       = x downsampled to scale s (area averaging)
    f_s       = FEB_s(concat(x_s, upsample2x(f'_{s-1})))   (the coarsest scale sees x_s alone)
    y_s, f'_s = SCCM_s(f_s, x_s)                          y_s in [-1, 1], supervised at each scale

and the network returns [y_1/4, y_1/2, y_1]. The refined features f'_s only feed the next finer scale, so the
finest SCCM has no refinement (``SCCM(refine=False)``): it predicts y_1 from f_1 and passes f_1 on unchanged.
Inputs of any size >= 8 px are padded (reflect, or replicate
when the image is smaller than the padding) to ``MPFNet.multiple`` (2**(S - 1 + depth) for one depth) and the outputs cropped back;
the scale-s prediction (s = 0 the coarsest) of an H x W input is ceil(H / 2**k) x ceil(W / 2**k),
k = S - 1 - s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import ATTENTION_KINDS, CoordinateAttention
from .common import NORM_KINDS, check_image_batch, init_weights, pad_to_multiple
from .feb import FEB
from .sccm import SCCM, PlainHead

MIN_SIZE = 8


@dataclass
class MPFNetConfig:
    """Architecture of MPFNet. Defaults follow the paper where it says, DESIGN.md where it does not.

    width:     channels of the FEB's first level and of the per-scale features (the paper gives none; 32).
    depth:     number of encoder (and decoder) steps of each FEB, Fig. 2(c): one number for every scale, or one
               per scale, coarsest first (length ``scales``). Per-scale depths let every FEB stop at the same
               innermost size: at 256 px, ``(3, 4, 5)`` takes the 64, 128 and 256 px scales down to 8 x 8, where
               a uniform depth 5 takes the 1/4 scale to 2 x 2 (instance norm over 4 pixels). The paper gives
               neither; a list is stored as a tuple.
    attention: "coordinate" (Fig. 2(b)), "se" (squeeze-excitation) or "none": the RCAB's attention.
    reduction: channel reduction r of the attention (hidden width max(8, C // r)).
    norm:      "instance" (the paper), "batch" or "none": the norm of each FEB step.
    scales:    number of scales S in {1, 2, 3}; the paper uses 3.
    sccm:      True: SCCM (Fig. 2(a)); False: a plain conv + tanh head, features pass unrefined.
    """

    width: int = 32
    depth: int | tuple[int, ...] = 4
    attention: str = "coordinate"
    reduction: int = 16
    norm: str = "instance"
    scales: int = 3
    sccm: bool = True

    def __post_init__(self):
        for name in ("width", "reduction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"MPFNetConfig.{name} must be a positive integer; got {value!r}")
        if isinstance(self.depth, (list, tuple)):
            self.depth = tuple(self.depth)
        depths = self.depth if isinstance(self.depth, tuple) else (self.depth,)
        if not depths or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in depths):
            raise ValueError(f"MPFNetConfig.depth must be a positive integer or a list of them (one per scale, "
                             f"coarsest first); got {self.depth!r}")
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"MPFNetConfig.attention must be one of {list(ATTENTION_KINDS)}; got {self.attention!r}")
        if self.norm not in NORM_KINDS:
            raise ValueError(f"MPFNetConfig.norm must be one of {list(NORM_KINDS)}; got {self.norm!r}")
        if isinstance(self.scales, bool) or self.scales not in (1, 2, 3):
            raise ValueError(f"MPFNetConfig.scales must be one of [1, 2, 3]; got {self.scales!r}")
        if not isinstance(self.sccm, bool):
            raise ValueError(f"MPFNetConfig.sccm must be one of [True, False]; got {self.sccm!r}")
        if isinstance(self.depth, tuple) and len(self.depth) != self.scales:
            raise ValueError(f"MPFNetConfig.depth: {len(self.depth)} per-scale depths {list(self.depth)} for "
                             f"{self.scales} scale(s); give one per scale, coarsest first, or one number")

    @property
    def depths(self) -> tuple[int, ...]:
        """The FEB depth of each scale, coarsest first."""
        return self.depth if isinstance(self.depth, tuple) else (self.depth,) * self.scales


class MPFNet(nn.Module):
    """Multi-scale progressive feature embedding network (Fig. 2(a)).

    MPFNet(in_channels=1, out_channels=3, config=None, **overrides): overrides are MPFNetConfig field names,
    e.g. MPFNet(1, 3, width=8, depth=3, attention="se").

    forward(x, return_features=False) -> list of predictions, coarsest first, each [N, out_channels, h_s, w_s]
    in [-1, 1]. With return_features=True -> (predictions, info), where
        info["features"]:     per scale, the features that reach the outputs (config.width channels, same size
                              as that scale's prediction), coarsest first, not detached: the refined features
                              f'_s that the SCCM passes on to the next scale, and at the finest scale the FEB
                              output f_s that its prediction is computed from (it has no refinement);
        info["feb_features"]: the FEB outputs f_s before the SCCM, same layout (the last entries of the two
                              lists are views of the same tensor);
        info["attention"]:    dict module name -> (gate_h [N, C, h, 1], gate_w [N, C, 1, w]) of every
                              CoordinateAttention (empty unless attention="coordinate"), detached, at the
                              padded size.
    Note: state dicts saved before the finest SCCM lost its refinement convs still load (with the same outputs):
    the SCCM drops those never-used ``heads.<last>.features.*`` / ``gate.*`` weights on loading.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 3, config: MPFNetConfig | None = None,
                 **overrides):
        super().__init__()
        config = config if config is not None else MPFNetConfig()
        if not isinstance(config, MPFNetConfig):
            raise ValueError(f"config must be an MPFNetConfig or None; got {type(config).__name__}")
        valid = [f.name for f in dataclasses.fields(MPFNetConfig)]
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise ValueError(f"unknown MPFNet option(s) {unknown}; valid MPFNetConfig fields are {valid}")
        config = dataclasses.replace(config, **overrides)   # re-runs the validation in __post_init__
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        self.config, self.in_channels, self.out_channels = config, in_channels, out_channels
        c = config
        self.febs = nn.ModuleList(
            FEB(in_channels + (c.width if s > 0 else 0), c.width, c.width, c.depths[s], c.attention, c.norm,
                c.reduction)
            for s in range(c.scales))
        # The finest SCCM only predicts: its refined features would feed no further scale (Fig. 2(a)).
        self.heads = nn.ModuleList(
            SCCM(c.width, out_channels, in_channels, refine=s < c.scales - 1) if c.sccm
            else PlainHead(c.width, out_channels)
            for s in range(c.scales))
        init_weights(self)

    @property
    def multiple(self) -> int:
        """Input sizes are padded to a multiple of this: scale s is downsampled 2 ** (scales - 1 - s) times, then
        its FEB halves it depth_s more times."""
        c = self.config
        return max(2 ** (c.scales - 1 - s + d) for s, d in enumerate(c.depths))

    def forward(self, x: torch.Tensor, return_features: bool = False):
        check_image_batch(x, self.in_channels, "x", min_size=MIN_SIZE)
        h, w = x.shape[-2:]
        x = pad_to_multiple(x, self.multiple)
        predictions, features, feb_features = [], [], []
        previous = None
        for s, (feb, head) in enumerate(zip(self.febs, self.heads)):
            factor = 2 ** (self.config.scales - 1 - s)
            x_s = F.avg_pool2d(x, factor) if factor > 1 else x
            if previous is None:
                inp = x_s
            else:   # cross-scale skip: refined features of the coarser scale, upsampled to this scale
                up = F.interpolate(previous, scale_factor=2, mode="bilinear", align_corners=False)
                inp = torch.cat([x_s, up], dim=1)
            f = feb(inp)
            y, previous = head(f, x_s)
            hs, ws = -(-h // factor), -(-w // factor)       # ceil: the scale's share of the real image
            predictions.append(y[..., :hs, :ws])
            features.append(previous[..., :hs, :ws])    # f'_s passed on; the finest SCCM passes f_s itself
            feb_features.append(f[..., :hs, :ws])
        if not return_features:
            return predictions
        attention = {name: m.last_gates for name, m in self.named_modules()
                     if isinstance(m, CoordinateAttention) and m.last_gates is not None}
        return predictions, {"features": features, "feb_features": feb_features, "attention": attention}
