"""Supervised colour-consistency module (SCCM), Fig. 2(a) of the MPFNet paper.

The paper's SCCM "generates predictions with the supervision of ground-truth RGB images" and is "inspired by
[19]", the supervised attention module (SAM) of MPRNet (Zamir et al., CVPR 2021). Following SAM, from the
scale's features f and the scale's input image x_s:

    y_s = tanh(conv3x3(f) + skip(x_s))           the prediction at this scale, supervised by Eq. (2)/(3)
    f'  = f + conv3x3(f) * sigmoid(conv3x3(y_s)) refined features, passed to the next (finer) scale

skip is a 1x1 conv from the input's channels to the image's channels (SAM adds the input image directly,
but here a 1-channel gray/NIR input predicts a 3-channel RGB image). The tanh keeps y_s in [-1, 1].

In Fig. 2(a) the refined features f' of a scale only go on to the next finer scale (the cross-scale skip); the
finest scale has no next scale, so its SCCM is built with ``refine=False``: it computes y_s alone and has no
refinement convs (as in MPRNet, whose last stage has no SAM after it). A refinement there would be computed
without ever reaching an output.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .common import init_weights

#: The parameters of the refinement convs, which an SCCM built with refine=False does not have.
REFINEMENT_KEYS = ("features.weight", "features.bias", "gate.weight", "gate.bias")


class SCCM(nn.Module):
    """forward(features, scale_input) -> (prediction [N, image_channels, H, W] in [-1, 1], features passed on).

    channels: feature channels (MPFNet's width); image_channels: channels of the prediction (3 for RGB);
    input_channels: channels of the scale's input image (1 for NIR or gray); refine: build the refinement
    f' = f + conv3x3(f) * sigmoid(conv3x3(y_s)) and pass f' on (True, every scale but the finest), or only
    predict and pass the input features f on unchanged (False, MPFNet's finest scale, whose features feed no
    further scale).
    """

    def __init__(self, channels: int, image_channels: int = 3, input_channels: int = 1, refine: bool = True):
        super().__init__()
        self.refine = refine
        self.to_image = nn.Conv2d(channels, image_channels, kernel_size=3, padding=1)
        self.skip = nn.Conv2d(input_channels, image_channels, kernel_size=1)
        if refine:
            self.features = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
            self.gate = nn.Conv2d(image_channels, channels, kernel_size=3, padding=1)
        init_weights(self)

    def forward(self, features: torch.Tensor, scale_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        prediction = torch.tanh(self.to_image(features) + self.skip(scale_input))
        if not self.refine:
            return prediction, features
        refined = features + self.features(features) * torch.sigmoid(self.gate(prediction))
        return prediction, refined

    def extra_repr(self) -> str:
        return "" if self.refine else "refine=False"

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # Backward compatibility: before the finest SCCM lost its refinement convs (issue #14), every SCCM had
        # them, so checkpoints and shipped weights hold `features.*` and `gate.*` for the finest scale too. Those
        # weights never influenced any prediction (the finest refined features fed nothing), so dropping exactly
        # these keys loads such a file with identical outputs. state_dict is load_state_dict's own copy.
        if not self.refine:
            for key in REFINEMENT_KEYS:
                state_dict.pop(prefix + key, None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class PlainHead(nn.Module):
    """The SCCM ablation (sccm=False): prediction = tanh(conv3x3(f)); the features pass on unrefined."""

    def __init__(self, channels: int, image_channels: int = 3):
        super().__init__()
        self.to_image = nn.Conv2d(channels, image_channels, kernel_size=3, padding=1)
        init_weights(self)

    def forward(self, features: torch.Tensor, scale_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.tanh(self.to_image(features)), features
