"""course_lib.colour_bins: the chroma plane, the bins, soft encoding, rebalancing, the annealed mean, the loss."""

import math

import pytest
import torch

from course_lib.colour_bins import ChromaBins, bins_loss, rgb_to_chroma, ycbcr_to_rgb
from course_lib.data import to_gray


def _solid(colour, size=4):
    return torch.tensor(colour, dtype=torch.float32).view(1, 3, 1, 1).expand(1, 3, size, size).clone()


def test_chroma_plane_round_trips_and_has_the_bt601_extremes():
    torch.manual_seed(0)
    rgb = torch.rand(2, 3, 5, 7) * 2 - 1
    back = ycbcr_to_rgb(to_gray(rgb), rgb_to_chroma(rgb))
    assert torch.allclose(back, rgb, atol=1e-5)
    gray = to_gray(rgb).expand(-1, 3, -1, -1)
    assert rgb_to_chroma(gray).abs().max() < 1e-6                       # any gray has no chroma
    blue, red = rgb_to_chroma(_solid([-1, -1, 1])), rgb_to_chroma(_solid([1, -1, -1]))
    assert torch.allclose(blue[0, :, 0, 0], torch.tensor([1.0, blue[0, 1, 0, 0]])) and blue[0, 1, 0, 0] < 0
    assert torch.allclose(red[0, 1, 0, 0], torch.tensor(1.0)) and red[0, 0, 0, 0] < 0
    with pytest.raises(ValueError, match="rgb"):
        rgb_to_chroma(torch.zeros(3, 4, 4))


def test_fit_keeps_the_bins_in_use_with_their_share_as_prior():
    green = _solid([-0.2, 0.4, -0.3])          # a quarter of the pixels
    image = torch.cat([torch.zeros(1, 3, 4, 12), green], dim=-1)[0]   # (3, 4, 16): 48 gray, 16 green pixels
    bins = ChromaBins.fit([image], step=0.1)
    assert len(bins) == 2
    assert sorted(bins.prior.tolist()) == pytest.approx([0.25, 0.75])
    chroma = rgb_to_chroma(green)[0, :, 0, 0]
    green_bin = bins.centres[bins.prior.argmin()]
    assert (green_bin - chroma).abs().max() <= 0.05 + 1e-6            # the centre of the square it falls in
    with pytest.raises(ValueError, match="fewer than two"):
        ChromaBins.fit([torch.zeros(3, 4, 4)])
    with pytest.raises(ValueError, match="step"):
        ChromaBins.fit([image], step=0.3)


def _grid_bins(n=6, step=0.2):
    grid = torch.arange(n) * step - (n - 1) * step / 2
    centres = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), dim=-1).reshape(-1, 2)
    prior = torch.arange(1, len(centres) + 1, dtype=torch.float32)
    return ChromaBins(centres, prior, step)


def test_soft_encoding_is_a_distribution_peaked_at_the_nearest_bin():
    torch.manual_seed(0)
    bins = _grid_bins()
    chroma = torch.rand(2, 2, 3, 3) * 0.8 - 0.4
    target = bins.soft_encode(chroma)
    assert target.shape == (2, len(bins), 3, 3)
    assert torch.allclose(target.sum(dim=1), torch.ones(2, 3, 3))
    assert ((target > 0).sum(dim=1) == 5).all()
    nearest = torch.cdist(chroma.permute(0, 2, 3, 1).reshape(-1, 2), bins.centres).argmin(dim=1)
    assert torch.equal(target.permute(0, 2, 3, 1).reshape(-1, len(bins)).argmax(dim=1), nearest)
    # a pixel on a bin centre with a narrow kernel is that bin alone
    on_centre = bins.centres[7].view(1, 2, 1, 1)
    assert bins.soft_encode(on_centre, sigma=0.05)[0, :, 0, 0].argmax() == 7
    assert bins.soft_encode(on_centre, sigma=0.05)[0, 7, 0, 0] == pytest.approx(1.0, abs=1e-6)


def test_rebalancing_weighs_rare_bins_more_and_averages_one_under_the_prior():
    bins = _grid_bins()
    w = bins.rebalance(0.5)
    assert float((bins.prior * w).sum()) == pytest.approx(1.0)
    assert (w[1:] < w[:-1]).all()               # the prior rises with the index, so the weights fall
    assert torch.allclose(bins.rebalance(1.0), torch.ones(len(bins)))
    with pytest.raises(ValueError, match="lam"):
        bins.rebalance(1.5)


def test_annealed_mean_goes_from_the_mean_to_the_mode():
    bins = _grid_bins()
    logits = torch.randn(1, len(bins), 2, 2, generator=torch.Generator().manual_seed(0))
    logits = logits.scatter_add(1, logits.argmax(dim=1, keepdim=True), torch.ones(1, 1, 2, 2))  # a clear mode
    probs = torch.softmax(logits, dim=1)
    expected = torch.stack([(probs * bins.centres[:, c].view(1, -1, 1, 1)).sum(dim=1) for c in range(2)], dim=1)
    assert torch.allclose(bins.decode(logits, 1.0), expected, atol=1e-6)
    mode = bins.centres[logits.argmax(dim=1)].permute(0, 3, 1, 2)
    assert torch.allclose(bins.decode(logits, 1e-3), mode, atol=1e-4)
    # a lower temperature moves the answer away from the mean, towards the mode
    d = [float((bins.decode(logits, t) - mode).abs().mean()) for t in (1.0, 0.38, 0.1)]
    assert d[0] > d[1] > d[2]
    with pytest.raises(ValueError, match="temperature"):
        bins.decode(logits, 0)


def test_bins_loss_is_the_weighted_cross_entropy_and_pulls_towards_the_target():
    torch.manual_seed(0)
    bins = _grid_bins()
    logits = torch.randn(2, len(bins), 3, 3, requires_grad=True)
    target = bins.soft_encode(torch.rand(2, 2, 3, 3) * 0.8 - 0.4)
    manual = -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    assert torch.allclose(bins_loss(logits, target), manual)
    w = bins.rebalance(0.5)
    weighted = (-(target * torch.log_softmax(logits, dim=1)).sum(dim=1) * w[target.argmax(dim=1)]).mean()
    loss = bins_loss(logits, target, w)
    assert torch.allclose(loss, weighted)
    loss.backward()
    main = target.argmax(dim=1, keepdim=True)
    assert (logits.grad.gather(1, main) < 0).all()       # gradient descent raises the target bin's logit
    assert math.isfinite(float(loss.detach()))
    with pytest.raises(ValueError, match="same shape"):
        bins_loss(logits, target[:, :-1])


def test_soft_encoding_of_a_colour_far_from_every_bin_is_its_nearest_bins_not_nan():
    bins = ChromaBins(torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1]]), torch.ones(3), step=0.1)
    far = torch.tensor([0.95, -0.9]).view(1, 2, 1, 1)     # 13 grid steps from the nearest bin
    target = bins.soft_encode(far, k=3)
    assert torch.isfinite(target).all()
    assert target.sum().item() == pytest.approx(1.0)
    assert target[0, :, 0, 0].argmax().item() == 1          # (0.1, 0) is the nearest
