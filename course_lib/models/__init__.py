"""The networks of MPFNet (Fig. 2) and its baselines, one readable file each.

- `common.py`:    helpers every network shares: `init_weights`, `count_parameters`, `check_image_batch`,
                  `pad_to_multiple`, `make_norm`
- `attention.py`: `CoordinateAttention` (the CA of Fig. 2(b)), `SqueezeExcitation`, `make_attention`
- `rcab.py`:      `RCAB`, Fig. 2(b)
- `feb.py`:       `FEB`, Fig. 2(c)
- `sccm.py`:      `SCCM`, Fig. 2(a) (after MPRNet's supervised attention module)
- `mpfnet.py`:    `MPFNet`, `MPFNetConfig`, Fig. 2(a): G_N2G, G_G2N and the colorizer F_G
- `discriminators.py`: `PatchDiscriminator` (D^img, Eq. (1)), `FeatureDiscriminator` (D_G^feat, Eq. (4))
- `unet.py`:      `UNetBaseline`, the direct pix2pix-style baseline
- `binned.py`:    `BinnedMPFNet`, an MPFNet whose finest colour comes from a chroma-bin head (not in the paper)
"""

from .binned import LUMA_SOURCES, BinnedMPFNet
from .attention import CoordinateAttention, SqueezeExcitation, make_attention
from .common import NORM_KINDS, check_image_batch, count_parameters, init_weights, make_norm, pad_to_multiple
from .discriminators import FeatureDiscriminator, PatchDiscriminator
from .feb import FEB
from .mpfnet import MPFNet, MPFNetConfig
from .rcab import RCAB
from .sccm import SCCM, PlainHead
from .unet import UNetBaseline

__all__ = [
    "CoordinateAttention", "SqueezeExcitation", "make_attention", "RCAB", "FEB", "SCCM", "PlainHead",
    "MPFNet", "MPFNetConfig", "BinnedMPFNet", "LUMA_SOURCES", "PatchDiscriminator", "FeatureDiscriminator", "UNetBaseline",
    "count_parameters", "init_weights", "check_image_batch", "pad_to_multiple", "make_norm", "NORM_KINDS",
]
