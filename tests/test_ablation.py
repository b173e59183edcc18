"""Tests of course_lib/course/ablation.py: switches -> configs -> networks, run folders and caching, and a tiny run.

The training runs use a 64 px, width-4, depth-2 profile with one step per stage on two random image pairs held in
memory (no scene rendering), and share one module-scoped run, so the file stays fast on one CPU thread.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_lib.course import ablation
from course_lib.course.ablation import (FULL_MODEL, AblationSwitches, build_colorizer_network, run_ablation,
                                        run_folder, short_profile, switches_to_configs)
from course_lib.models import SCCM, CoordinateAttention, SqueezeExcitation
from course_lib.train import DirectConfig, FinetuneConfig, PretrainConfig, TranslateConfig, get_profile


def tiny_profile(steps: int = 1):
    return get_profile("smoke", verbose=False).replace(width=4, depth=2, batch_size=1, num_train=2,
                                                       num_test=2).with_steps(steps)


def tiny_data(count: int = 2, size: int = 64, seed: int = 0) -> list[dict]:
    g = torch.Generator().manual_seed(seed)
    return [{"nir": torch.rand(1, size, size, generator=g) * 2 - 1,
             "rgb": torch.rand(3, size, size, generator=g) * 2 - 1, "name": f"pair{i}"} for i in range(count)]


def count(module: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in module.modules())


# --------------------------------------------------------------------------------------------------------------
# switches -> configs -> networks
# --------------------------------------------------------------------------------------------------------------
def test_full_model_switches_are_the_papers_defaults():
    configs = switches_to_configs(FULL_MODEL)
    assert isinstance(configs["translate"], TranslateConfig) and isinstance(configs["pretrain"], PretrainConfig)
    assert isinstance(configs["finetune"], FinetuneConfig) and isinstance(configs["direct"], DirectConfig)
    for config in configs.values():
        assert (config.attention, config.norm, config.scales, config.sccm) == ("coordinate", "instance", 3, True)
    assert configs["finetune"].use_feat_disc is True
    assert FULL_MODEL.is_full_model() and FULL_MODEL.label().startswith("full model")


def test_switches_reach_every_stage_config():
    configs = switches_to_configs(attention="se", norm="batch", sccm=False, scales=2, feat_disc=False, seed=3)
    for stage, config in configs.items():
        assert (config.attention, config.norm, config.sccm, config.scales, config.seed) == ("se", "batch", False,
                                                                                           2, 3), stage
    assert configs["finetune"].use_feat_disc is False


def test_attention_none_gives_a_network_without_coordinate_attention():
    full = build_colorizer_network(FULL_MODEL, tiny_profile())
    none = build_colorizer_network(attention="none", profile=tiny_profile())
    se = build_colorizer_network(attention="se", profile=tiny_profile())
    assert count(full, CoordinateAttention) > 0
    assert count(none, CoordinateAttention) == 0 and count(none, SqueezeExcitation) == 0
    assert count(se, SqueezeExcitation) > 0 and count(se, CoordinateAttention) == 0


def test_norm_sccm_and_scales_switches_change_the_network():
    batch = build_colorizer_network(norm="batch", profile=tiny_profile())
    assert count(batch, nn.BatchNorm2d) > 0 and count(batch, nn.InstanceNorm2d) == 0
    no_norm = build_colorizer_network(norm="none", profile=tiny_profile())
    assert count(no_norm, nn.BatchNorm2d) == 0 and count(no_norm, nn.InstanceNorm2d) == 0
    assert count(build_colorizer_network(sccm=False, profile=tiny_profile()), SCCM) == 0
    assert count(build_colorizer_network(profile=tiny_profile()), SCCM) == 3
    x = torch.rand(1, 1, 64, 64) * 2 - 1
    for scales in (1, 2, 3):
        net = build_colorizer_network(scales=scales, profile=tiny_profile()).eval()
        with torch.no_grad():
            outputs = net(x)
        assert len(outputs) == scales and outputs[-1].shape == (1, 3, 64, 64)


def test_direct_route_builds_the_direct_networks_config():
    net = build_colorizer_network(route="direct", attention="none", profile=tiny_profile())
    assert net.in_channels == 1 and net.out_channels == 3 and count(net, CoordinateAttention) == 0


@pytest.mark.parametrize("name, value", [("attention", "spatial"), ("norm", "layer"), ("scales", 4),
                                         ("scales", True), ("sccm", 1), ("route", "both"), ("feat_disc", "yes")])
def test_invalid_switch_raises_naming_it(name, value):
    with pytest.raises(ValueError, match=name):
        AblationSwitches(**{name: value})


def test_unknown_switch_name_raises():
    with pytest.raises(ValueError, match="unknown switch"):
        switches_to_configs(attn="none")


def test_direct_route_has_no_feature_discriminator_and_shares_its_folder():
    a = AblationSwitches(route="direct", feat_disc=True)
    b = AblationSwitches(route="direct", feat_disc=False)
    assert a.feat_disc is False and a == b
    assert run_folder(a, tiny_profile(), "root") == run_folder(b, tiny_profile(), "root")
    assert a.label() == "route=direct"


# --------------------------------------------------------------------------------------------------------------
# run folders and profiles
# --------------------------------------------------------------------------------------------------------------
def test_run_folder_is_keyed_by_switches_profile_and_data(tmp_path):
    p = tiny_profile()
    base = run_folder(FULL_MODEL, p, tmp_path)
    assert base == run_folder(AblationSwitches(), p, tmp_path)          # same settings, same folder
    assert base.parent == tmp_path
    assert base != run_folder(AblationSwitches(attention="none"), p, tmp_path)
    assert base != run_folder(AblationSwitches(seed=1), p, tmp_path)
    assert base != run_folder(FULL_MODEL, tiny_profile(steps=2), tmp_path)
    assert base != run_folder(FULL_MODEL, p.replace(width=8), tmp_path)
    assert base != run_folder(FULL_MODEL, p, tmp_path, data=tiny_data())


def test_short_profile_keeps_sizes_and_shortens_steps():
    base = get_profile("course", verbose=False)
    short = short_profile(base)
    assert (short.image_size, short.width, short.depth) == (base.image_size, base.width, base.depth)
    assert short.translate_steps == round(base.translate_steps * 0.2)
    assert short.direct_steps == short.pretrain_steps + short.finetune_steps
    assert short.name == "course-short"
    three = short_profile(base, steps=3)                    # 3 pre-training steps, the rest by the one rule
    assert (three.pretrain_steps, three.finetune_steps, three.direct_steps) == (3, 1, 4)
    assert three.translate_steps == max(1, round(3 * base.translate_steps / base.pretrain_steps))
    with pytest.raises(ValueError, match="fraction"):
        short_profile(base, fraction=0)


# --------------------------------------------------------------------------------------------------------------
# a tiny run (trained once for the module), then loaded from the cache
# --------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ablation")
    data = tiny_data()
    first = run_ablation(attention="none", profile=tiny_profile(), root=root, data=data, num_images=2,
                         verbose=False)
    return root, data, first


def test_run_ablation_returns_images_and_metrics(tiny_run):
    root, data, result = tiny_run
    assert not result.cached and result.full is not None and not result.full.cached
    assert list(result.images) == ["NIR", "attention=none", "full model", "ground truth"]
    assert result.images["NIR"].shape == (2, 1, 64, 64)
    for key in ("attention=none", "full model", "ground truth"):
        assert result.images[key].shape == (2, 3, 64, 64)
        assert float(result.images[key].abs().max()) <= 1
    assert set(result.metrics) == {"psnr", "ssim", "ae", "lpips"}
    assert all(math.isfinite(result.metrics[k]) for k in ("psnr", "ssim", "ae"))
    assert math.isnan(result.metrics["lpips"])                      # lpips off offline: reported, not faked
    table = result.table()
    assert "| attention=none |" in table and "| full model (MPFNet, progressive) |" in table
    assert (result.run_dir / "finetune" / "checkpoint.pt").is_file()
    assert (result.run_dir / "evaluation" / "metrics.csv").is_file()
    assert result.run_dir.parent == root and result.full.run_dir.parent == root
    assert "attention=none" in str(result)


def test_the_images_are_the_colorizers_outputs(tiny_run):
    root, data, result = tiny_run
    colorizer, _, cached = ablation.train_or_load(result.switches, tiny_profile(), root, data, verbose=False)
    assert cached
    with torch.no_grad():
        expected = colorizer(torch.stack([d["nir"] for d in data]))
    assert torch.allclose(result.images["attention=none"], expected.clamp(-1, 1), atol=1e-5)
    assert torch.equal(result.images["ground truth"], torch.stack([d["rgb"] for d in data]))


def test_cached_runs_are_loaded_not_retrained(tiny_run, monkeypatch):
    root, data, first = tiny_run
    checkpoint = first.run_dir / "finetune" / "checkpoint.pt"
    stamp = checkpoint.stat().st_mtime_ns

    def no_training(*args, **kwargs):
        raise AssertionError("a cached configuration must not train again")

    import course_lib.train as train

    for name in ("translate", "pretrain", "finetune", "train_direct"):
        monkeypatch.setattr(train, name, no_training)
    again = run_ablation(attention="none", profile=tiny_profile(), root=root, data=data, num_images=2,
                         verbose=False)
    assert again.cached and again.full.cached
    assert checkpoint.stat().st_mtime_ns == stamp
    assert again.metrics == first.metrics
    assert torch.equal(again.images["attention=none"], first.images["attention=none"])


def test_retrain_trains_again_and_full_model_has_no_comparison(tmp_path):
    data = tiny_data()
    direct = run_ablation(route="direct", profile=tiny_profile(), root=tmp_path, data=data, num_images=1,
                          compare_with_full=False, verbose=False)
    assert not direct.cached and direct.full is None and direct.delta() == {}
    assert list(direct.images) == ["NIR", "route=direct", "ground truth"]
    assert (direct.run_dir / "direct" / "checkpoint.pt").is_file() and not (direct.run_dir / "finetune").exists()
    loaded = run_ablation(route="direct", profile=tiny_profile(), root=tmp_path, data=data, num_images=1,
                          compare_with_full=False, verbose=False)
    assert loaded.cached
    again = run_ablation(route="direct", profile=tiny_profile(), root=tmp_path, data=data, num_images=1,
                         compare_with_full=False, retrain=True, verbose=False)
    assert not again.cached


def test_run_ablation_rejects_bad_num_images(tmp_path):
    with pytest.raises(ValueError, match="num_images"):
        run_ablation(profile=tiny_profile(), root=tmp_path, data=tiny_data(), num_images=0)


def test_unet_route_has_no_mpfnet_switches_and_builds_the_unet():
    from course_lib.models import UNetBaseline

    a = AblationSwitches(route="direct_unet", attention="none", sccm=False, scales=1, feat_disc=True)
    assert a == AblationSwitches(route="direct_unet")          # one folder, whatever the MPFNet switches say
    assert (a.attention, a.sccm, a.scales, a.feat_disc) == ("coordinate", True, 3, False)
    assert a.label() == "route=direct_unet"
    assert isinstance(build_colorizer_network(a, profile=tiny_profile()), UNetBaseline)


def test_switches_start_from_the_profiles_recipe():
    """A cpu-profile ablation run trains with the cpu recipe (the translator's paired L1 term), as the profile's
    own runs do; without a profile, the paper's weights."""
    from course_lib.course.ablation import switches_to_configs

    assert switches_to_configs(AblationSwitches(), get_profile("cpu", verbose=False))["translate"].weights \
        .lambda_paired == 10.0
    assert switches_to_configs(AblationSwitches())["translate"].weights.lambda_paired == 0.0


def test_unet_route_trains_once_and_reports_its_stage_times(tmp_path):
    from course_lib.course.ablation import train_or_load

    times: dict = {}
    colorizer, run_dir, cached = train_or_load(AblationSwitches(route="direct_unet"), tiny_profile(), tmp_path,
                                               tiny_data(), device="cpu", verbose=False, timings=times)
    assert not cached and (run_dir / "direct_unet" / "checkpoint.pt").is_file()
    assert sorted(times) == ["direct_unet_cpu_s", "direct_unet_s"] and all(v > 0 for v in times.values())
    out = colorizer(torch.zeros(1, 1, 32, 32))
    assert out.shape == (1, 3, 32, 32)
    again = {}
    _, same_dir, cached = train_or_load(AblationSwitches(route="direct_unet"), tiny_profile(), tmp_path,
                                        tiny_data(), device="cpu", verbose=False, timings=again)
    assert cached and same_dir == run_dir and again == {}
