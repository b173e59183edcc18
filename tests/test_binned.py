"""Tests of the chroma-bin head in the networks and the stages: ``course_lib.models.BinnedMPFNet``,
``course_lib.train.bins`` and ``StageConfig.colour_bins`` in stages 2 and 3, the direct route and the exported
weights. ``tests/test_colour_bins.py`` tests the bins themselves (fit, soft encoding, rebalancing, decoding)."""

from __future__ import annotations

import pytest
import torch

from course_lib.colour_bins import ChromaBins, annealed_mean, bins_loss, rgb_to_chroma, ycbcr_to_rgb
from course_lib.data import to_gray
from course_lib.models import BinnedMPFNet, MPFNetConfig
from course_lib.models.binned import block_mean
from course_lib.pretrained import export_pretrained, load_pretrained, register_pretrained
from course_lib.train import (PROFILES, CheckpointError, build_model, finetune, load_colorizer, load_stage,
                              make_configs, pretrain, read_losses, run_all, train_direct)
from course_lib.train.bins import bin_weights, fit_bins, rgb_objective
from course_lib.train.configs import TranslateConfig, binned_mpfnet_spec, check_config

TINY = PROFILES["smoke"].replace(
    image_size=48, width=4, depth=2, batch_size=2, translate_steps=2, pretrain_steps=2, finetune_steps=2,
    direct_steps=2, num_train=4, num_test=2, sample_every=2, checkpoint_every=2)
SMALL = MPFNetConfig(width=4, depth=2)


def _bins(n: int = 6) -> ChromaBins:
    torch.manual_seed(0)
    centres = (torch.rand(n, 2) - 0.5) * 0.6   # modest chroma: no RGB clamping at mid-gray
    return ChromaBins(centres, torch.rand(n) + 0.1, step=0.1)


def _net(luma: str = "input", temperature: float = 1.0, in_channels: int = 1) -> BinnedMPFNet:
    torch.manual_seed(1)
    net = BinnedMPFNet(in_channels, SMALL, n_bins=6, step=0.1, temperature=temperature, luma=luma)
    net.set_bins(_bins())
    return net


def test_finest_output_keeps_the_input_gray_and_takes_the_annealed_mean_as_its_chroma():
    net = _net(temperature=0.5).eval()
    gray = (torch.rand(2, 1, 24, 40) - 0.5) * 0.4          # mid grays: the decoded colour stays in gamut
    with torch.no_grad():
        outputs, info = net(gray, return_features=True)
    finest = outputs[-1]
    assert finest.shape == (2, 3, 24, 40) and len(outputs) == 3
    torch.testing.assert_close(to_gray(finest), gray, atol=1e-5, rtol=0)
    expected = _bins().decode(info["logits"], 0.5)           # the ChromaBins reading of the same logits
    torch.testing.assert_close(rgb_to_chroma(finest), expected, atol=1e-5, rtol=0)
    # the coarser outputs are MPFNet's own, and the regression outputs are returned beside them
    for a, b in zip(outputs[:-1], info["regression"][:-1]):
        assert a is b
    assert info["logits"].shape == (2, 6, 24, 40)


def test_luma_from_the_regression_for_a_network_whose_input_is_not_gray():
    net = _net(luma="regression").eval()
    nir = torch.rand(1, 1, 16, 16) * 2 - 1
    with torch.no_grad():
        outputs, info = net(nir, return_features=True)
    chroma = annealed_mean(info["logits"], net.centres, 1.0)
    expected = ycbcr_to_rgb(to_gray(info["regression"][-1].clamp(-1, 1)), chroma)
    torch.testing.assert_close(outputs[-1], expected)
    assert not torch.allclose(to_gray(outputs[-1]), nir, atol=1e-2)


def test_lowering_the_temperature_saturates_the_colour():
    net = BinnedMPFNet(1, SMALL, n_bins=6).eval()
    centres = torch.tensor([[0.5, 0.0], [0.0, 0.0], [-0.1, 0.05], [0.05, -0.1], [0.0, 0.1], [0.1, 0.0]])
    net.set_bins(ChromaBins(centres, torch.ones(6), step=0.1))
    gray = torch.zeros(1, 1, 16, 16)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([2.0, 1, 1, 1, 1, 1]))   # the saturated bin is the mode everywhere
        saturation = []
        for t in (1.0, 0.38, 0.1):
            net.temperature = t
            saturation.append(rgb_to_chroma(net(gray)[-1]).norm(dim=1).mean().item())
    assert saturation[0] < saturation[1] < saturation[2]
    assert saturation[2] == pytest.approx(0.5, abs=0.01)   # T = 0.1: nearly the mode itself


def test_block_mean_averages_each_block_and_repeats_the_last_row_and_column_of_a_ragged_edge():
    x = torch.arange(30.0).reshape(1, 1, 5, 6)
    out = block_mean(x, 4)
    assert out.shape == (1, 1, 2, 2)
    assert out[0, 0, 0, 0] == x[0, 0, :4, :4].mean()
    # the right block holds columns 4, 5 and two copies of column 5; the bottom one row 4 four times
    assert out[0, 0, 0, 1] == torch.cat([x[0, 0, :4, 4:], x[0, 0, :4, 5:], x[0, 0, :4, 5:]], dim=1).mean()
    assert out[0, 0, 1, 0] == x[0, 0, 4, :4].mean()
    assert block_mean(x, 1) is x


def test_a_strided_head_scores_blocks_and_upsamples_their_colour_keeping_the_gray():
    """Stride 4: logits on 4 x 4 block means of the finest features, the annealed mean upsampled bilinearly to
    every pixel, computed here again from the head's own layers; the luma is still the input, pixel for pixel."""
    torch.manual_seed(1)
    net = BinnedMPFNet(1, SMALL, n_bins=6, step=0.1, temperature=0.5, stride=4).eval()
    net.set_bins(_bins())
    gray = (torch.rand(2, 1, 26, 38) - 0.5) * 0.4           # not a multiple of 4: ragged blocks at the edges
    with torch.no_grad():
        outputs, info = net(gray, return_features=True)
        features = info["features"][-1]
        padded = torch.nn.functional.pad(features, (0, 2, 0, 2), mode="replicate")
        logits = net.head(torch.nn.functional.avg_pool2d(padded, 4))
    assert info["logits"].shape == (2, 6, 7, 10)
    torch.testing.assert_close(info["logits"], logits)
    chroma = torch.nn.functional.interpolate(_bins().decode(logits, 0.5), size=(28, 40), mode="bilinear",
                                             align_corners=False)[..., :26, :38]
    torch.testing.assert_close(rgb_to_chroma(outputs[-1]), chroma, atol=1e-5, rtol=0)
    torch.testing.assert_close(to_gray(outputs[-1]), gray, atol=1e-5, rtol=0)
    assert net.multiple == net.net.multiple


def test_a_strided_heads_cross_entropy_is_against_the_block_mean_colour():
    torch.manual_seed(2)
    net = BinnedMPFNet(1, SMALL, n_bins=6, step=0.1, stride=4)
    net.set_bins(_bins())
    config = make_configs(colour_bins=1.0, bins_stride=4)["pretrain"]
    binned = bin_weights(net, config)
    assert binned["stride"] == 4
    rgb = (torch.rand(2, 3, 48, 48) - 0.5) * 0.6
    outputs, info = net(to_gray(rgb), return_features=True)
    _, parts = rgb_objective(outputs, info, rgb, config, binned)
    target = _bins().soft_encode(torch.nn.functional.avg_pool2d(rgb_to_chroma(rgb), 4))
    expected = bins_loss(info["logits"], target, binned["weights"])
    torch.testing.assert_close(parts["bins"], expected)
    parts["bins"].backward()                                  # through the pooled features to every scale
    assert net.head.weight.grad.abs().sum() > 0
    assert next(net.net.febs[0].parameters()).grad.abs().sum() > 0


def test_bad_arguments_are_refused_with_their_name():
    with pytest.raises(ValueError, match="luma"):
        BinnedMPFNet(3, SMALL, n_bins=4, luma="input")
    with pytest.raises(ValueError, match="n_bins"):
        BinnedMPFNet(1, SMALL, n_bins=1)
    with pytest.raises(ValueError, match="temperature"):
        _net().temperature = 0
    with pytest.raises(ValueError, match="bins"):
        BinnedMPFNet(1, SMALL, n_bins=5).set_bins(_bins(6))
    for stride in (0, 2.0, True):
        with pytest.raises(ValueError, match="stride"):
            BinnedMPFNet(1, SMALL, n_bins=4, stride=stride)
    for field, value in (("bins_step", 0.3), ("bins_temperature", 0.0), ("colour_bins", -1.0),
                         ("bins_rebalance", 2.0), ("bins_stride", 0), ("bins_stride", 1.5)):
        with pytest.raises(ValueError, match=field):
            check_config(make_configs(**{field: value})["pretrain"])
    with pytest.raises(ValueError, match="colour_bins"):   # stage 1 predicts no colour
        check_config(TranslateConfig(colour_bins=1.0))


def test_the_regression_loss_leaves_the_head_alone_and_the_cross_entropy_trains_both():
    net = _net()
    config = make_configs(colour_bins=1.0)["pretrain"]
    rgb = torch.rand(2, 3, 48, 48) * 2 - 1
    outputs, info = net(to_gray(rgb), return_features=True)
    loss, parts = rgb_objective(outputs, info, rgb, config, bin_weights(net, config))
    torch.testing.assert_close(loss, parts["mix"] + parts["bins"])
    parts["mix"].backward(retain_graph=True)
    assert net.head.weight.grad is None          # L_mix sees the regression outputs only
    net.zero_grad(set_to_none=True)
    parts["bins"].backward()
    assert net.head.weight.grad.abs().sum() > 0
    assert net.net.febs[0].parameters().__next__().grad.abs().sum() > 0   # through the features, every scale
    assert bin_weights(torch.nn.Conv2d(1, 1, 1), config) is None


def test_the_head_learns_a_colour_that_the_gray_determines():
    """Left half red, right half blue, at one gray (a regression would answer gray): after a short training the
    decoded colour of each half is much nearer its truth than the bins' mean colour is."""
    torch.manual_seed(0)
    rgb = torch.zeros(2, 3, 48, 48)
    rgb[..., :24] = torch.tensor([0.6, -0.2, -0.2])[:, None, None]
    rgb[..., 24:] = torch.tensor([-0.2, -0.2, 0.6])[:, None, None]
    bins = ChromaBins.fit([rgb], step=0.1)
    net = BinnedMPFNet(1, SMALL, n_bins=len(bins), step=0.1, temperature=0.38)
    net.set_bins(bins)
    config = make_configs(colour_bins=1.0)["pretrain"]
    binned = bin_weights(net, config)
    gray = to_gray(rgb) + torch.linspace(-0.05, 0.05, 48)   # a ramp: position is visible to the network
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(80):
        outputs, info = net(gray, return_features=True)
        _, parts = rgb_objective(outputs, info, rgb, config, binned)
        opt.zero_grad()
        parts["bins"].backward()
        opt.step()
    with torch.no_grad():
        chroma = rgb_to_chroma(net.eval()(gray)[-1])
    truth = rgb_to_chroma(rgb)
    mean_error = (truth - (bins.prior[:, None] * bins.centres).sum(0)[None, :, None, None]).abs().mean()
    assert (chroma - truth).abs().mean() < 0.3 * mean_error


def test_spec_rebuilds_the_network_and_the_state_dict_carries_the_bins():
    net = _net(temperature=0.38).eval()
    spec = binned_mpfnet_spec(1, TINY.replace(width=4, depth=2), make_configs(bins_temperature=0.38)["pretrain"],
                              n_bins=6)
    rebuilt = build_model(spec)
    assert isinstance(rebuilt, BinnedMPFNet) and rebuilt.temperature == 0.38 and rebuilt.luma == "input"
    assert spec["stride"] == 1 and rebuilt.stride == 1
    assert build_model({k: v for k, v in spec.items() if k != "stride"}).stride == 1   # files written before it
    strided = binned_mpfnet_spec(1, TINY, make_configs(bins_stride=4)["pretrain"], n_bins=6)
    assert build_model(strided).stride == 4
    rebuilt.load_state_dict(net.state_dict())
    torch.testing.assert_close(rebuilt.centres, _bins().centres)
    gray = torch.rand(1, 1, 24, 24) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(gray)[-1], net(gray)[-1])


@pytest.fixture(scope="module")
def binned_run(tmp_path_factory):
    """A tiny run (rendered scenes, 2 steps per stage) with colour_bins=1 in stages 2, 3 and the direct route."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("binned")
    configs = make_configs(TINY, colour_bins=1.0, bins_temperature=0.5)
    run_all(TINY, out, data=None, device="cpu", translate_config=configs["translate"],
            pretrain_config=configs["pretrain"], finetune_config=configs["finetune"],
            direct_config=configs["direct"])
    return out


def test_stages_train_a_binned_colouriser_with_bins_fitted_on_the_training_photos(binned_run):
    from course_lib.train.batches import training_data

    f_g = load_stage(binned_run, "pretrain")["f_g"]
    assert isinstance(f_g, BinnedMPFNet) and f_g.luma == "input" and f_g.temperature == 0.5
    dataset, _ = training_data(None, TINY)
    expected = fit_bins(dataset, 0.1)
    torch.testing.assert_close(f_g.centres, expected.centres)
    torch.testing.assert_close(f_g.prior, expected.prior)
    for stage in ("pretrain", "finetune", "direct"):
        losses = read_losses(binned_run / stage / "losses.csv")
        assert "bins" in losses and all(v > 0 for v in losses["bins"])
    fine = load_stage(binned_run, "finetune")["f_g"]
    torch.testing.assert_close(fine.centres, f_g.centres)   # stage 3 keeps stage 2's bins
    assert load_stage(binned_run, "direct")["net"].luma == "regression"
    colorizer = load_colorizer(binned_run)
    nir = torch.rand(1, 1, 40, 56) * 2 - 1
    rgb, gray = colorizer.colorize(nir, return_gray=True)
    inside = (rgb.abs() < 0.999).all(dim=1, keepdim=True)   # where no channel was clamped
    assert torch.allclose(to_gray(rgb)[inside], gray[inside], atol=1e-5)


def test_finetune_refuses_a_colour_bins_setting_other_than_stage_2s(binned_run, tmp_path):
    import shutil

    for stage in ("translate", "pretrain"):
        shutil.copytree(binned_run / stage, tmp_path / stage)
    with pytest.raises(CheckpointError, match="chroma-bin head"):
        finetune(TINY, tmp_path, None, make_configs(TINY)["finetune"], device="cpu")
    with pytest.raises(CheckpointError, match="grid step"):
        finetune(TINY, tmp_path, None, make_configs(TINY, colour_bins=1.0, bins_step=0.2)["finetune"], device="cpu")
    with pytest.raises(CheckpointError, match="bins_stride=4"):
        finetune(TINY, tmp_path, None, make_configs(TINY, colour_bins=1.0, bins_stride=4)["finetune"], device="cpu")


def test_a_strided_head_trains_through_stages_2_and_3_and_colourises_any_size(binned_run, tmp_path):
    import shutil

    shutil.copytree(binned_run / "translate", tmp_path / "translate")
    configs = make_configs(TINY, colour_bins=1.0, bins_stride=4)
    pretrain(TINY, tmp_path, None, configs["pretrain"], device="cpu")
    finetune(TINY, tmp_path, None, configs["finetune"], device="cpu")
    assert load_stage(tmp_path, "finetune")["f_g"].stride == 4
    assert all(v > 0 for v in read_losses(tmp_path / "finetune" / "losses.csv")["bins"])
    nir = torch.rand(1, 1, 37, 53) * 2 - 1
    rgb, gray = load_colorizer(tmp_path).colorize(nir, return_gray=True)
    assert rgb.shape == (1, 3, 37, 53)
    inside = (rgb.abs() < 0.999).all(dim=1, keepdim=True)
    assert torch.allclose(to_gray(rgb)[inside], gray[inside], atol=1e-5)


def test_direct_unet_has_no_bin_head(tmp_path):
    with pytest.raises(ValueError, match="colour_bins"):
        train_direct(TINY, tmp_path, None, make_configs(TINY, colour_bins=1.0)["direct"], model="unet")


@pytest.fixture(scope="module")
def plain_run(binned_run, tmp_path_factory):
    """The binned run's stage 1 copied, then stages 2 and 3 without bins: a stage-1 checkpoint is shared by runs
    with and without the bins (they are excluded from stage 1's config)."""
    import shutil

    out = tmp_path_factory.mktemp("plain")
    shutil.copytree(binned_run / "translate", out / "translate")
    pretrain(TINY, out, None, make_configs(TINY)["pretrain"], device="cpu")
    finetune(TINY, out, None, make_configs(TINY)["finetune"], device="cpu")
    return out


def test_a_stage_1_checkpoint_is_shared_by_runs_with_and_without_bins(plain_run):
    assert not isinstance(load_stage(plain_run, "finetune")["f_g"], BinnedMPFNet)


def test_exported_weights_keep_the_head_and_its_bins(binned_run, tmp_path, monkeypatch):
    from course_lib import pretrained

    monkeypatch.setattr(pretrained, "REGISTRY_FILE", tmp_path / "weights" / "registry.json")
    file = tmp_path / "binned.pt"
    export_pretrained(binned_run, file, "binned")
    register_pretrained("binned", file, "a tiny binned run", "pytest", {})
    for route, stage in (("progressive", "finetune"), ("direct", "direct")):
        original = load_colorizer(binned_run / stage / "checkpoint.pt")
        loaded = load_pretrained("binned", route=route)
        net = loaded.f_g if route == "progressive" else loaded.net
        assert isinstance(net, BinnedMPFNet) and net.temperature == 0.5
        nir = torch.rand(1, 1, 32, 40) * 2 - 1
        assert (loaded.colorize(nir) - original.colorize(nir)).abs().max() < 2e-2


def test_colorize_cli_takes_a_temperature_for_a_binned_colouriser_only(binned_run, plain_run, tmp_path, capsys):
    from PIL import Image

    from course_lib.cli import main
    from course_lib.data import load_image, save_image

    image = save_image(torch.rand(1, 30, 44) * 2 - 1, tmp_path / "in" / "photo.png")
    outs = {}
    for t in ("1", "0.05"):
        assert main(["colorize", str(image), "--checkpoint", str(binned_run), "--out", str(tmp_path / t),
                     "--temperature", t, "--device", "cpu"]) == 0
        with Image.open(tmp_path / t / "photo.png") as im:
            assert im.size == (44, 30)
        outs[t] = load_image(tmp_path / t / "photo.png")
    assert rgb_to_chroma(outs["0.05"][None]).norm(dim=1).mean() > rgb_to_chroma(outs["1"][None]).norm(dim=1).mean()
    capsys.readouterr()
    assert main(["colorize", str(image), "--checkpoint", str(plain_run), "--out", str(tmp_path / "x"),
                 "--temperature", "0.5"]) == 2
    assert "no chroma-bin head" in capsys.readouterr().err


def test_temperature_figure_reads_one_route_at_several_temperatures_and_restores_it(binned_run, plain_run):
    import matplotlib.pyplot as plt

    from course_lib.course.showcase import temperature_figure, temperature_slider
    from course_lib.metrics import colourfulness

    colorizer = load_colorizer(binned_run)
    torch.manual_seed(0)
    items = [{"name": "a", "nir": torch.rand(1, 32, 40) * 2 - 1, "rgb": torch.rand(3, 32, 40) * 2 - 1}]
    with torch.no_grad():
        colorizer.f_g.head.weight.mul_(20)   # a peaked distribution, so that T matters
    fig, rows = temperature_figure(colorizer=colorizer, items=items, temperatures=(1.0, 0.1))
    assert len(fig.axes) == 4 and colorizer.f_g.temperature == 0.5
    colorizer.f_g.temperature = 0.1
    expected = float(colourfulness(colorizer.colorize(items[0]["nir"])[None].clamp(-1, 1))[0])
    assert rows[0]["T=0.1"]["colourfulness"] == pytest.approx(expected, rel=1e-4)
    assert rows[0]["T=0.1"]["colourfulness"] != pytest.approx(rows[0]["T=1"]["colourfulness"])
    plt.close(fig)
    fig, _ = temperature_slider(colorizer=colorizer, items=items)   # no frontend here: the static figure
    assert len(fig.axes) == 5
    plt.close(fig)
    with pytest.raises(ValueError, match="chroma-bin head"):
        temperature_figure(colorizer=load_colorizer(plain_run), items=items)


def test_temperature_figure_names_the_shipped_weights_when_they_have_no_head(monkeypatch, plain_run):
    from course_lib import pretrained
    from course_lib.course.showcase import temperature_figure

    monkeypatch.setattr(pretrained, "load_pretrained", lambda name, route: load_colorizer(plain_run))
    with pytest.raises(ValueError, match="the weights 'vcip2020' has none"):
        temperature_figure()


def test_train_cli_passes_the_head_stride_to_every_rgb_stage_and_not_to_stage_1():
    from course_lib.cli import _configs, build_parser

    args = build_parser().parse_args(["train", "--stage", "all", "--profile", "smoke", "--out", "x",
                                      "--colour-bins", "1", "--bins-stride", "4"])
    configs = _configs(args)
    assert [configs[s].bins_stride for s in ("pretrain", "finetune", "direct")] == [4, 4, 4]
    assert configs["translate"].bins_stride == 1
    # without the options a profile's recipe holds: the cpu profile's colouriser has the head, smoke's has none
    cpu = _configs(build_parser().parse_args(["train", "--stage", "all", "--profile", "cpu", "--out", "x"]))
    assert (cpu["pretrain"].colour_bins, cpu["pretrain"].bins_stride, cpu["finetune"].bins_temperature) == (1, 4, 0.38)
    plain = _configs(build_parser().parse_args(["train", "--stage", "all", "--profile", "cpu", "--out", "x",
                                                "--colour-bins", "0"]))
    assert plain["pretrain"].colour_bins == 0
    smoke = _configs(build_parser().parse_args(["train", "--stage", "all", "--profile", "smoke", "--out", "x"]))
    assert (smoke["pretrain"].colour_bins, smoke["pretrain"].bins_stride) == (0, 1)
