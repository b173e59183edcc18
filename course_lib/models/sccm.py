"""Supervised colour-consistency module (SCCM), Fig. 2(a) of the MPFNet paper.

The paper's SCCM "generates predictions with the supervision of ground-truth RGB images" and is "inspired by
[19]", the supervised attention module (SAM) of MPRNet (Zamir et al., CVPR 2021). Following SAM, from the
scale's features f and the scale's input image x_s:

    y_s = tanh(conv3x3(f) + skip(x_s))           the prediction at this scale, supervised by Eq. (2)/(3)
    f'  = f + conv3x3(f) * sigmoid(conv3x3(y_s)) refined features, passed to the next (finer) scale

skip is a 1x1 conv from the input's channels to the image's channels (SAM adds the input image directly,
but here a 1-channel gray/NIR input predicts a 3-channel RGB image). The tanh keeps y_s in [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .common import init_weights


class SCCM(nn.Module):
    """forward(features, scale_input) -> (prediction [N, image_channels, H, W] in [-1, 1], refined features).

    channels: feature channels (MPFNet's width); image_channels: channels of the prediction (3 for RGB);
    input_channels: channels of the scale's input image (1 for NIR or gray).
    """

    def __init__(self, channels: int, image_channels: int = 3, input_channels: int = 1):
        super().__init__()
        self.to_image = nn.Conv2d(channels, image_channels, kernel_size=3, padding=1)
        self.skip = nn.Conv2d(input_channels, image_channels, kernel_size=1)
        self.features = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.gate = nn.Conv2d(image_channels, channels, kernel_size=3, padding=1)
        init_weights(self)

    def forward(self, features: torch.Tensor, scale_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        prediction = torch.tanh(self.to_image(features) + self.skip(scale_input))
        refined = features + self.features(features) * torch.sigmoid(self.gate(prediction))
        return prediction, refined


class PlainHead(nn.Module):
    """The SCCM ablation (sccm=False): prediction = tanh(conv3x3(f)); the features pass on unrefined."""

    def __init__(self, channels: int, image_channels: int = 3):
        super().__init__()
        self.to_image = nn.Conv2d(channels, image_channels, kernel_size=3, padding=1)
        init_weights(self)

    def forward(self, features: torch.Tensor, scale_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.tanh(self.to_image(features)), features
