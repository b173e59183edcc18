"""Tests of course_lib.train: profiles, checkpoints (atomic, safe, resumable), Ctrl-C, logs, learning.

Tiny settings throughout (48 px, width 4, depth 2, batch 2, 2-4 steps). 48 px rather than 32: with three scales
the coarsest prediction is 1/4 of the image and the SSIM window needs 11 px.
"""

from __future__ import annotations

import csv
import os
import shutil

import numpy as np
import pytest
import torch

from course_lib.train import (PROFILES, CheckpointError, DirectColorizer, FinetuneConfig, ImagePool, PretrainConfig,
                              ProgressiveColorizer, TrainingInterrupted, TranslateConfig, finetune, get_profile,
                              load_checkpoint, load_colorizer, load_stage, pretrain, run_all, save_checkpoint,
                              train_direct, translate)

TINY = PROFILES["smoke"].replace(
    name="tiny", image_size=48, width=4, depth=2, batch_size=2, translate_steps=2, pretrain_steps=2,
    finetune_steps=2, direct_steps=2, num_train=4, num_test=2, sample_every=2, checkpoint_every=2)


def _steps(n: int, **more):
    return TINY.replace(translate_steps=n, pretrain_steps=n, finetune_steps=n, direct_steps=n, **more)


def _state(models: dict) -> dict:
    return {f"{name}.{k}": v for name, m in models.items() for k, v in m.state_dict().items()}


def _assert_same_weights(a: dict, b: dict) -> None:
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), f"{k} differs"


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


# ---------------------------------------------------------------------------------------------------------------
# profiles
# ---------------------------------------------------------------------------------------------------------------
def test_profile_from_env_var_and_cpu_default(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "paper")
    assert get_profile().name == "paper"
    assert "COURSE_PROFILE" in capsys.readouterr().out  # the choice and its reason are printed
    monkeypatch.delenv("COURSE_PROFILE")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_profile().name == "smoke"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_profile().name == "course"


def test_unknown_profile_lists_valid_names(monkeypatch):
    with pytest.raises(ValueError, match=r"profile.*'nope'.*course.*paper.*smoke"):
        get_profile("nope")
    monkeypatch.setenv("COURSE_PROFILE", "huge")
    with pytest.raises(ValueError, match="huge"):
        get_profile()


def test_paper_profile_follows_section_III_A():
    p = PROFILES["paper"]
    steps_per_epoch = -(-372 // 10)
    assert (p.batch_size, p.image_size, p.lr) == (10, 256, 1e-4)
    assert p.translate_steps == 400 * steps_per_epoch and p.pretrain_steps == 250 * steps_per_epoch
    for prof in PROFILES.values():  # the documented budget rules
        assert prof.finetune_steps == prof.pretrain_steps // (12 if prof.name == "cpu" else 2)
        assert prof.finetune_share == (1 / 12 if prof.name == "cpu" else 0.5)
        assert prof.direct_steps == prof.pretrain_steps + prof.finetune_steps


# ---------------------------------------------------------------------------------------------------------------
# resume: N straight == N/2 + resume + N/2
# ---------------------------------------------------------------------------------------------------------------
def _stop_at(step_to_stop):
    def callback(step, losses):
        if step == step_to_stop:
            raise KeyboardInterrupt
    return callback


def test_finetune_lr_and_translate_lr_set_the_learning_rate_of_their_stage_only(tmp_path):
    profile = _steps(2, checkpoint_every=100, finetune_lr=3e-5, translate_lr=7e-5)
    lrs = {}
    for stage, fn in (("translate", translate), ("pretrain", pretrain), ("finetune", finetune)):
        if stage != "finetune":
            fn(profile.replace(checkpoint_every=2), tmp_path, device="cpu")
        with pytest.raises(TrainingInterrupted):        # an unfinished checkpoint keeps its optimizers
            fn(profile, tmp_path / "paused" if stage != "finetune" else tmp_path, device="cpu",
               callback=_stop_at(1))
        folder = tmp_path / "paused" if stage != "finetune" else tmp_path
        ckpt = load_checkpoint(folder / stage / "checkpoint.pt")
        lrs[stage] = {g["lr"] for o in ckpt["optimizers"].values() for g in o["param_groups"]}
    assert lrs == {"translate": {7e-5}, "pretrain": {TINY.lr}, "finetune": {3e-5}}
    assert [profile.stage_lr(s) for s in ("translate", "pretrain", "finetune", "direct")] == [7e-5, TINY.lr, 3e-5,
                                                                                               TINY.lr]
    assert TINY.stage_lr("translate") == TINY.stage_lr("finetune") == TINY.lr   # unset: the profile's lr
    with pytest.raises(ValueError, match="stage"):
        TINY.stage_lr("colourise")
    for field in ("finetune_lr", "translate_lr"):
        for bad in (0, 1.5, True, "1e-4"):
            with pytest.raises(ValueError, match=field):
                TINY.replace(**{field: bad})


def test_a_finished_translate_stage_continues_at_translate_lr(tmp_path):
    """An annealing phase: the finished stage (weights only) continued for one more step at a lower rate moves
    G_N2G by about that rate (Adam's first step moves every weight by about lr), and an interrupted stage
    resumed at another rate takes the new one rather than the one its saved optimizer state carries."""
    profile = _steps(2, checkpoint_every=100, translate_warmup=4)
    translate(profile, tmp_path, device="cpu")
    before = {k: v.clone() for k, v in load_stage(tmp_path, "translate")["g_n2g"].state_dict().items()}
    moves = {}
    for rate in (1e-3, 1e-5):
        folder = tmp_path / f"lr{rate:g}"
        shutil.copytree(tmp_path / "translate", folder / "translate")
        translate(profile.replace(translate_steps=3, translate_lr=rate), folder, device="cpu")
        after = load_stage(folder, "translate")["g_n2g"].state_dict()
        moves[rate] = max(float((after[k] - before[k]).abs().max()) for k in before if before[k].is_floating_point())
    assert 0.5e-3 < moves[1e-3] < 2e-3 and 0.5e-5 < moves[1e-5] < 2e-5
    with pytest.raises(TrainingInterrupted):
        translate(profile.replace(translate_steps=3, checkpoint_every=1), tmp_path / "paused", device="cpu",
                  callback=_stop_at(1))
    ckpt = load_checkpoint(tmp_path / "paused" / "translate" / "checkpoint.pt")
    assert {g["lr"] for o in ckpt["optimizers"].values() for g in o["param_groups"]} == {TINY.lr}
    with pytest.raises(TrainingInterrupted):
        translate(profile.replace(translate_steps=3, translate_lr=2e-5, checkpoint_every=1), tmp_path / "paused",
                  device="cpu",
                  callback=_stop_at(2))
    ckpt = load_checkpoint(tmp_path / "paused" / "translate" / "checkpoint.pt")
    assert ckpt["step"] == 2 and ckpt["profile"]["translate_lr"] == 2e-5
    assert {g["lr"] for o in ckpt["optimizers"].values() for g in o["param_groups"]} == {2e-5}


def test_an_interrupted_finetune_stage_resumes_at_the_new_finetune_lr(tmp_path, capsys):
    """Stage 3 behaves like stage 1 (one place, StageRun.resume): its restored optimizers take the profile's
    Profile.finetune_lr, not the rate saved in their state, and the run says so."""
    profile = _steps(3, checkpoint_every=1, finetune_lr=3e-5)
    translate(profile, tmp_path, device="cpu")
    pretrain(profile, tmp_path, device="cpu")
    with pytest.raises(TrainingInterrupted):
        finetune(profile, tmp_path, device="cpu", callback=_stop_at(1))
    ckpt = load_checkpoint(tmp_path / "finetune" / "checkpoint.pt")
    assert {g["lr"] for o in ckpt["optimizers"].values() for g in o["param_groups"]} == {3e-5}
    capsys.readouterr()
    with pytest.raises(TrainingInterrupted):
        finetune(profile.replace(finetune_lr=1e-5), tmp_path, device="cpu", callback=_stop_at(2))
    assert "[finetune] learning rate 1e-05 (the checkpoint's optimizers were at 3e-05)" in capsys.readouterr().out
    ckpt = load_checkpoint(tmp_path / "finetune" / "checkpoint.pt")
    assert ckpt["step"] == 2 and {g["lr"] for o in ckpt["optimizers"].values() for g in o["param_groups"]} == {1e-5}
    finetune(profile.replace(finetune_lr=1e-5), tmp_path, device="cpu")   # the same rate again: nothing to say
    assert "learning rate" not in capsys.readouterr().out


def test_pretrain_resume_continues_the_same_trajectory(tmp_path):
    straight = pretrain(_steps(4), tmp_path / "a", device="cpu")
    with pytest.raises(TrainingInterrupted):
        pretrain(_steps(4), tmp_path / "b", device="cpu", callback=_stop_at(2))
    resumed = pretrain(_steps(4), tmp_path / "b", device="cpu")
    assert resumed.step == 4
    _assert_same_weights(straight.models, resumed.models)
    assert _read_csv(straight.log) == _read_csv(resumed.log)  # the log continues too


def test_resume_restores_the_optimizer_state(tmp_path):
    # in-progress checkpoints (step 3 of 4) of a straight run and of a run resumed at step 2 hold the same Adam
    # moments: the optimizer state continues across a resume
    with pytest.raises(TrainingInterrupted):
        pretrain(_steps(4, checkpoint_every=100), tmp_path / "a", device="cpu", callback=_stop_at(3))
    with pytest.raises(TrainingInterrupted):
        pretrain(_steps(4, checkpoint_every=100), tmp_path / "b", device="cpu", callback=_stop_at(2))
    with pytest.raises(TrainingInterrupted):
        pretrain(_steps(4, checkpoint_every=100), tmp_path / "b", device="cpu", callback=_stop_at(3))
    a = load_checkpoint(tmp_path / "a" / "pretrain" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "b" / "pretrain" / "checkpoint.pt")
    assert a["step"] == b["step"] == 3 and not a["weights_only"]
    sa, sb = a["optimizers"]["f_g"]["state"], b["optimizers"]["f_g"]["state"]
    assert sa and all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)


def test_finished_stage_keeps_weights_only_and_can_continue(tmp_path, capsys):
    first = translate(_steps(2), tmp_path, device="cpu")
    ckpt = load_checkpoint(first.checkpoint)
    assert ckpt["finished"] and ckpt["weights_only"]
    assert sorted(ckpt["models"]) == ["d_g", "d_n", "g_g2n", "g_n2g"]   # what fine-tuning continues
    assert ckpt["optimizers"] == {} and ckpt["pools"] == {} and ckpt["scaler"] == {}
    in_progress = tmp_path / "running"
    with pytest.raises(TrainingInterrupted):
        translate(_steps(2, checkpoint_every=100), in_progress, device="cpu", callback=_stop_at(1))
    full = (in_progress / "translate" / "checkpoint.pt").stat().st_size
    # Adam's two moments and the pools go: the finished file is less than half of the in-progress one
    assert first.checkpoint.stat().st_size < 0.5 * full
    # the same weights come back, and asking for more steps continues from them with a fresh optimizer
    again = translate(_steps(2), tmp_path, device="cpu")
    _assert_same_weights(first.models, again.models)
    longer = translate(_steps(3), tmp_path, device="cpu")
    assert longer.step == 3 and "continuing a finished stage from step 2 to 3" in capsys.readouterr().out
    # a finished pretrain keeps F_G only; a finished fine-tuning the three generators
    pretrain(_steps(2), tmp_path, device="cpu")
    assert sorted(load_checkpoint(tmp_path / "pretrain" / "checkpoint.pt")["models"]) == ["f_g"]
    tuned = finetune(_steps(2), tmp_path, device="cpu")
    assert sorted(load_checkpoint(tuned.checkpoint)["models"]) == ["f_g", "g_g2n", "g_n2g"]
    assert sorted(load_stage(tmp_path, "finetune")) == ["f_g", "g_g2n", "g_n2g"]


def test_translate_resume_continues_the_same_trajectory(tmp_path):
    config = TranslateConfig(pool_size=2)  # full after step 1: step 2's random swaps must resume too
    straight = translate(_steps(2), tmp_path / "a", config=config, device="cpu")
    with pytest.raises(TrainingInterrupted):
        translate(_steps(2), tmp_path / "b", config=config, device="cpu", callback=_stop_at(1))
    resumed = translate(_steps(2), tmp_path / "b", config=config, device="cpu")
    _assert_same_weights(straight.models, resumed.models)
    assert _read_csv(straight.log) == _read_csv(resumed.log)


def test_keyboard_interrupt_saves_checkpoint_at_that_step(tmp_path):
    def stop_at_2(step, losses):
        if step == 2:
            raise KeyboardInterrupt

    profile = _steps(3, checkpoint_every=100, sample_every=100)  # only the interrupt writes a checkpoint
    with pytest.raises(TrainingInterrupted) as info:
        pretrain(profile, tmp_path, device="cpu", callback=stop_at_2)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.step == 2 and info.value.checkpoint == tmp_path / "pretrain" / "checkpoint.pt"
    assert load_checkpoint(info.value.checkpoint)["step"] == 2
    # and the interrupted run resumes to the same weights as an uninterrupted one
    resumed = pretrain(profile, tmp_path, device="cpu")
    straight = pretrain(profile, tmp_path / "straight", device="cpu")
    _assert_same_weights(straight.models, resumed.models)


# ---------------------------------------------------------------------------------------------------------------
# checkpoints: atomic, never replaced when bad, clear errors
# ---------------------------------------------------------------------------------------------------------------
def test_atomic_save_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"format": "x", "w": torch.ones(3)})
    save_checkpoint(path, {"format": "x", "w": torch.zeros(3)})
    assert os.listdir(tmp_path) == ["checkpoint.pt"]
    good = path.read_bytes()
    with pytest.raises(Exception):
        save_checkpoint(path, {"unpicklable": lambda: 0})  # fails while writing
    assert os.listdir(tmp_path) == ["checkpoint.pt"] and path.read_bytes() == good


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_unreadable_checkpoint_is_reported_and_left_untouched(tmp_path, damage):
    result = pretrain(_steps(1), tmp_path, device="cpu")
    path = result.checkpoint
    data = path.read_bytes()
    path.write_bytes(b"this is not a checkpoint" if damage == "garbage" else data[: len(data) // 2])
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="unreadable") as info:
        pretrain(_steps(2), tmp_path, device="cpu")
    assert str(path) in str(info.value)
    assert path.read_bytes() == before


def test_checkpoint_of_another_config_names_the_fields(tmp_path):
    path = pretrain(_steps(1), tmp_path, device="cpu").checkpoint
    before = path.read_bytes()
    with pytest.raises(CheckpointError) as info:
        pretrain(_steps(2), tmp_path, config=PretrainConfig(attention="se", seed=3), device="cpu")
    message = str(info.value)
    assert str(path) in message and "attention" in message and "seed" in message and "norm" not in message
    assert path.read_bytes() == before


@pytest.mark.parametrize("field", ["chroma", "colour_match"])
def test_a_checkpoint_older_than_an_extra_loss_field_resumes_only_with_the_paper_loss(tmp_path, field):
    # checkpoints written before StageConfig.chroma / colour_match existed were trained with 0 (the paper's L_mix)
    path = pretrain(_steps(1), tmp_path, device="cpu").checkpoint
    ckpt = torch.load(path, weights_only=True)
    del ckpt["config"][field]
    torch.save(ckpt, path)
    assert pretrain(_steps(2), tmp_path, device="cpu").step == 2
    ckpt = torch.load(path, weights_only=True)
    del ckpt["config"][field]
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match=f"{field}: missing in the checkpoint, 0.5 now"):
        pretrain(_steps(3), tmp_path, config=PretrainConfig(**{field: 0.5}), device="cpu")
    with pytest.raises(ValueError, match=field):
        pretrain(_steps(3), tmp_path / "other", config=PretrainConfig(**{field: -1.0}), device="cpu")


def test_rgb_loss_terms_are_left_out_of_stage_1_so_its_checkpoint_is_shared(tmp_path):
    from course_lib.train import make_configs

    configs = make_configs("cpu", colour_match=1.0, chroma=0.5)
    assert (configs["translate"].colour_match, configs["translate"].chroma) == (0.0, 0.0)
    for stage in ("pretrain", "finetune", "direct"):
        assert (configs[stage].colour_match, configs[stage].chroma) == (1.0, 0.5)
    first = translate(_steps(2), tmp_path, device="cpu")
    # a run with the terms on loads the finished stage 1 of a run without them (no config mismatch)
    again = translate(_steps(2), tmp_path, config=make_configs(colour_match=1.0)["translate"], device="cpu")
    assert again.step == first.step == 2
    with pytest.raises(ValueError, match="colour_match=1.0: stage 1 predicts no RGB image"):
        translate(_steps(2), tmp_path / "other", config=TranslateConfig(colour_match=1.0), device="cpu")


@pytest.mark.parametrize("field", ["chroma", "colour_match"])
def test_an_extra_loss_term_changes_what_stage_2_learns(tmp_path, field):
    a = pretrain(_steps(2), tmp_path / "a", device="cpu").models["f_g"].state_dict()
    b = pretrain(_steps(2), tmp_path / "b", config=PretrainConfig(**{field: 5.0}),
                 device="cpu").models["f_g"].state_dict()
    c = pretrain(_steps(2), tmp_path / "c", device="cpu").models["f_g"].state_dict()
    assert all(torch.equal(a[k], c[k]) for k in a)                 # deterministic: same config, same weights
    assert any(not torch.equal(a[k], b[k]) for k in a)             # the term reaches the gradient


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """Every stage (and both direct baselines) trained 2 steps into one run folder."""
    out = tmp_path_factory.mktemp("full_run")
    return out, run_all(TINY, out, device="cpu", direct_models=("mpfnet", "unet"))


def test_checkpoint_content_loads_with_weights_only(tmp_path):
    # an in-progress checkpoint (step 2 of 3) holds everything needed to continue
    with pytest.raises(TrainingInterrupted):
        translate(_steps(3, checkpoint_every=100), tmp_path, device="cpu", callback=_stop_at(2))
    path = tmp_path / "translate" / "checkpoint.pt"
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["step"] == 2 and ckpt["stage"] == "translate" and not ckpt["weights_only"]
    assert set(ckpt["models"]) == {"g_n2g", "g_g2n", "d_n", "d_g"} and set(ckpt["optimizers"]) == {"g", "d"}
    assert {"torch", "numpy", "python"} <= set(ckpt["rng"])
    assert isinstance(ckpt["config"], dict) and ckpt["config"]["weights"]["lambda_cyc"] == 1.0
    assert ckpt["pools"]["g"]["images"].shape[0] == 4  # 2 steps x batch 2 fakes stored


def test_finetune_without_pretrained_stages_names_the_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"translate.*checkpoint\.pt"):
        finetune(TINY, tmp_path, device="cpu")


# ---------------------------------------------------------------------------------------------------------------
# logs, samples, results
# ---------------------------------------------------------------------------------------------------------------
def test_losses_csv_has_step_and_one_column_per_term(full_run):
    tmp_path, _ = full_run
    expected = {
        "translate": ["step", "gan", "cycle", "identity", "generator", "d_g", "d_n"],
        "pretrain": ["step", "mix"],
        "finetune": ["step", "pf", "tran", "feat", "d_feat", "total", "d_img"],
        "direct": ["step", "mix"],
        "direct_unet": ["step", "mix"],
    }
    for stage, header in expected.items():
        rows = _read_csv(tmp_path / stage / "losses.csv")
        assert rows[0] == header, stage
        assert [r[0] for r in rows[1:]] == ["1", "2"]
        assert list((tmp_path / stage / "samples").glob("step_000002.png")), stage


def test_results_hold_colorizers_and_loading_gives_the_same(full_run):
    tmp_path, results = full_run
    nir = torch.rand(1, 1, 37, 45) * 2 - 1  # odd size: the networks pad and crop
    progressive = results["finetune"].colorizer
    assert isinstance(progressive, ProgressiveColorizer) and not progressive.training
    rgb, gray = progressive.colorize(nir, return_gray=True)
    assert rgb.shape == (1, 3, 37, 45) and gray.shape == (1, 1, 37, 45)
    assert torch.allclose(load_colorizer(tmp_path).colorize(nir), rgb, atol=1e-6)
    direct = load_colorizer(tmp_path / "direct" / "checkpoint.pt")
    assert isinstance(direct, DirectColorizer)
    assert torch.allclose(direct.colorize(nir), results["direct"].colorizer.colorize(nir), atol=1e-6)
    assert load_colorizer(tmp_path / "direct_unet").colorize(nir[0]).shape == (3, 37, 45)
    models = load_stage(tmp_path, "translate")
    assert set(models) == {"g_n2g", "g_g2n", "d_n", "d_g"} and not models["g_n2g"].training
    with pytest.raises(ValueError, match="translate"):
        load_colorizer(tmp_path / "translate")


def test_finetune_ablation_without_feature_discriminator(tmp_path):
    configs = dict(attention="none", scales=2)
    pretrain(TINY, tmp_path, config=PretrainConfig(**configs), device="cpu")
    translate(TINY, tmp_path, config=TranslateConfig(**configs), device="cpu")
    result = finetune(TINY, tmp_path, config=FinetuneConfig(use_feat_disc=False, **configs), device="cpu")
    assert "d_feat" not in result.models
    assert _read_csv(result.log)[0] == ["step", "pf", "tran", "total", "d_img"]
    # a finetune run with another architecture than its pretrained stages is refused, naming the field
    with pytest.raises(CheckpointError, match="attention"):
        finetune(TINY, tmp_path, config=FinetuneConfig(attention="se", scales=2), device="cpu")


def test_finetune_feat_real_rgb_shows_the_feature_discriminator_real_photo_pyramids(tmp_path, monkeypatch):
    import course_lib.train.stage3_finetune as stage3

    pretrain(TINY, tmp_path, device="cpu")
    translate(TINY, tmp_path, device="cpu")
    calls = []
    original = stage3.feature_disc_input

    def spy(predictions, info, source):
        calls.append([p.detach().clone() for p in predictions])
        return original(predictions, info, source)

    monkeypatch.setattr(stage3, "feature_disc_input", spy)
    for stage in ("translate", "pretrain"):
        shutil.copytree(tmp_path / stage, tmp_path / "rgb" / stage)
    result = finetune(TINY, tmp_path / "rgb", config=FinetuneConfig(feat_real="rgb"), device="cpu")
    assert len(calls) == 2 * TINY.finetune_steps          # per step: the fake side, then the real side
    for fake, real in zip(calls[0::2], calls[1::2]):
        assert [p.shape for p in fake] == [p.shape for p in real]
        # the real side is a photo and its area-averaged copies: each coarser scale is the 2 x 2 mean of the next
        for coarse, fine in zip(real[:-1], real[1:]):
            assert torch.allclose(coarse, torch.nn.functional.avg_pool2d(fine, 2), atol=1e-5)
        assert not torch.allclose(fake[0], torch.nn.functional.avg_pool2d(fake[1], 2), atol=1e-3)
    # the paper's D_G^feat instead sees F_G's own outputs on true grays, which are not such a pyramid
    calls.clear()
    gray = finetune(TINY, tmp_path, config=FinetuneConfig(), device="cpu")
    assert not torch.allclose(calls[1][0], torch.nn.functional.avg_pool2d(calls[1][1], 2), atol=1e-3)
    assert any(not torch.equal(a, b) for a, b in zip(result.models["f_g"].state_dict().values(),
                                                      gray.models["f_g"].state_dict().values()))
    with pytest.raises(ValueError, match="feat_real"):
        finetune(TINY, tmp_path / "x", config=FinetuneConfig(feat_real="photo"), device="cpu")
    with pytest.raises(ValueError, match="feat_source='outputs'"):
        finetune(TINY, tmp_path / "x", config=FinetuneConfig(feat_real="rgb", feat_source="features"), device="cpu")


def test_stage_image_size_and_batch_apply_to_their_stage_alone(tmp_path, monkeypatch):
    import course_lib.train.stage1_translate as stage1
    import course_lib.train.stage3_finetune as stage3

    profile = _steps(2, finetune_image_size=64, finetune_batch_size=1, pretrain_image_size=56, pretrain_batch_size=3)
    assert profile.stage_profile("translate") is profile and profile.stage_profile("direct") is profile
    assert (profile.stage_profile("finetune").image_size, profile.stage_profile("finetune").batch_size) == (64, 1)
    assert (profile.stage_profile("pretrain").image_size, profile.stage_profile("pretrain").batch_size) == (56, 3)
    seen = []

    def spy_on(module):
        original = module.translator_objective

        def spy(g_n2g, g_g2n, d_n, d_g, real_n, real_g, *args, **kwargs):
            seen.append((tuple(real_n.shape), tuple(real_g.shape)))
            return original(g_n2g, g_g2n, d_n, d_g, real_n, real_g, *args, **kwargs)

        monkeypatch.setattr(module, "translator_objective", spy)

    spy_on(stage1)
    spy_on(stage3)
    # stage 1 on its own crops too (Profile.translate_image_size / translate_batch_size): 40 px, batch 3
    translate(profile.replace(translate_image_size=40, translate_batch_size=3), tmp_path / "own", device="cpu")
    assert seen == [((3, 1, 40, 40), (3, 1, 40, 40))] * 2
    assert (load_checkpoint(tmp_path / "own" / "translate" / "checkpoint.pt")["config"]["profile"]["image_size"]) == 40
    # fine-tuning checks stage 1's checkpoint against the size the profile gives stage 1
    with pytest.raises(CheckpointError, match="image_size: 40 in the checkpoint, 48 now"):
        finetune(profile, tmp_path / "own", device="cpu")
    seen.clear()
    translate(profile, tmp_path, device="cpu")
    assert seen == [((2, 1, 48, 48), (2, 1, 48, 48))] * 2
    seen.clear()
    pretrain(profile, tmp_path, device="cpu")
    stage_sizes = {stage: load_checkpoint(tmp_path / stage / "checkpoint.pt")["config"]["profile"]
                   for stage in ("translate", "pretrain")}
    assert {k: (v["image_size"], v["batch_size"]) for k, v in stage_sizes.items()} == \
        {"translate": (48, 2), "pretrain": (56, 3)}
    # a fine-tuning run whose profile expects stage 2 at another size than its checkpoint was trained at: refused
    with pytest.raises(CheckpointError, match="image_size: 56 in the checkpoint, 48 now"):
        finetune(profile.replace(pretrain_image_size=None), tmp_path, device="cpu")
    # stage 1 trained at 48 px, stage 2 at 56: fine-tuning accepts them and trains on 64 px crops, batch 1
    with pytest.raises(TrainingInterrupted):
        finetune(profile, tmp_path, device="cpu", callback=_stop_at(1))
    assert seen == [((1, 1, 64, 64), (1, 1, 64, 64))]
    saved = load_checkpoint(tmp_path / "finetune" / "checkpoint.pt")["config"]["profile"]
    assert (saved["image_size"], saved["batch_size"]) == (64, 1)
    # resuming with other stage-3 crops would mix two trajectories: refused, naming the field
    with pytest.raises(CheckpointError, match="image_size"):
        finetune(profile.replace(finetune_image_size=56), tmp_path, device="cpu")
    finetune(profile, tmp_path, device="cpu")
    assert len(seen) == 2 and seen[-1] == ((1, 1, 64, 64), (1, 1, 64, 64))
    # without the fields every stage trains at image_size / batch_size
    assert TINY.stage_profile("finetune") is TINY and TINY.stage_profile("pretrain") is TINY
    for field in ("translate_image_size", "translate_batch_size", "pretrain_image_size", "pretrain_batch_size",
                  "finetune_image_size", "finetune_batch_size"):
        for bad in (0, -8, 1.5, True, "256"):
            with pytest.raises(ValueError, match=field):
                TINY.replace(**{field: bad})
    with pytest.raises(ValueError, match="stage"):
        TINY.stage_profile("colourise")


# ---------------------------------------------------------------------------------------------------------------
# learning happens; GAN bookkeeping
# ---------------------------------------------------------------------------------------------------------------
def test_pretrain_reduces_the_loss_on_a_fixed_batch(tmp_path):
    from course_lib.data import SpectralScenes

    fixed = [SpectralScenes(size=48, count=2, seed=5)[i] for i in range(2)]  # batch 2 of 2 images: same batch
    # lr 1e-3 instead of the paper's 1e-4, so that 15 steps show it clearly
    result = pretrain(_steps(15, sample_every=100, checkpoint_every=100, lr=1e-3), tmp_path, data=fixed,
                      config=PretrainConfig(augment=False), device="cpu")
    losses = result.losses()["mix"]
    assert len(losses) == 15
    assert sum(losses[-3:]) / 3 < 0.75 * sum(losses[:3]) / 3


def test_image_pool_mixes_history_and_resumes():
    pool = ImagePool(size=2, seed=0)
    first = torch.arange(2.0).view(2, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: the new images themselves
    copy = ImagePool(size=2, seed=123)
    copy.load_state_dict(pool.state_dict())
    outs = [pool.query(torch.full((2, 1, 1, 1), 10.0 + i)) for i in range(6)]
    outs_copy = [copy.query(torch.full((2, 1, 1, 1), 10.0 + i)) for i in range(6)]
    assert all(torch.equal(a, b) for a, b in zip(outs, outs_copy))  # state round trip: same choices
    returned = torch.cat(outs).flatten().tolist()
    assert any(v < 10.0 + i // 2 for i, v in enumerate(returned))  # older images come back
    assert ImagePool(size=0).query(first) is not None and len(ImagePool(size=0)) == 0


def test_train_direct_rejects_unknown_model(tmp_path):
    with pytest.raises(ValueError, match="model"):
        train_direct(TINY, tmp_path, model="resnet", device="cpu")


def test_stage_budget_is_the_one_rule_of_every_profile():
    from course_lib.train.profiles import stage_budget

    for profile in PROFILES.values():
        assert stage_budget(profile.pretrain_steps, profile.translate_steps,
                            finetune_share=profile.finetune_share) == {
            k: getattr(profile, k) for k in ("translate_steps", "pretrain_steps", "finetune_steps", "direct_steps")}
    half = PROFILES["smoke"].scaled(0.5)
    assert (half.translate_steps, half.pretrain_steps, half.finetune_steps, half.direct_steps) == (8, 20, 10, 30)
    assert PROFILES["smoke"].scaled(1) is PROFILES["smoke"]
    assert half.checkpoint_every <= 30 and half.image_size == PROFILES["smoke"].image_size
    with pytest.raises(ValueError, match="fraction"):
        PROFILES["smoke"].scaled(0)
    with pytest.raises(ValueError, match="pretrain_steps"):
        stage_budget(0, 3)


def test_crop_stored_trains_on_crops_at_the_stored_resolution(tmp_path):
    from PIL import Image

    from course_lib.train.loop import PairBatches, test_data, training_data

    rng = np.random.default_rng(0)
    for i in range(3):
        (tmp_path / "d" / "nir").mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / "rgb").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(tmp_path / "d" / "nir" / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(tmp_path / "d" / "rgb" / f"{i}.png")
    stored = PROFILES["smoke"].replace(image_size=16, crop="stored")
    dataset, _ = training_data(tmp_path / "d", stored)
    assert dataset[0]["nir"].shape == (1, 40, 48)                       # kept at the stored size
    assert training_data(tmp_path / "d", stored.replace(crop="resize"))[0][0]["nir"].shape == (1, 16, 16)
    assert test_data(tmp_path / "d", stored)[0]["rgb"].shape == (3, 40, 48)   # evaluated at the stored size
    batch = PairBatches(dataset, 2, seed=0, size=16, augment=False, crop="stored").get(1, torch.device("cpu"))
    assert batch["nir"].shape == (2, 1, 16, 16)
    full = [dataset[i]["nir"][0] for i in range(3)]
    # without augmentation a crop is an exact window of one stored image (no resampling)
    crop = batch["nir"][0, 0]
    assert any(torch.equal(crop, img[t:t + 16, l:l + 16]) for img in full for t in range(25) for l in range(33))
    with pytest.raises(ValueError, match="crop"):
        PROFILES["smoke"].replace(crop="squash")


# ---------------------------------------------------------------------------------------------------------------
# course sizes, no hidden host syncs, prefetch
# ---------------------------------------------------------------------------------------------------------------
def test_course_profile_feb_depths_stop_at_8px_and_translator_is_narrower():
    from course_lib.train.configs import build_model, make_configs, mpfnet_spec, patch_disc_spec

    course = PROFILES["course"]
    configs = make_configs(course)
    f_g = mpfnet_spec(1, 3, course, configs["pretrain"])
    g = mpfnet_spec(1, 1, course, configs["translate"], translator=True)
    assert g["config"]["width"] == course.translator_width < f_g["config"]["width"] == course.width
    for s, depth in enumerate(f_g["config"]["depth"]):   # scale s sees image_size / 2**(2 - s) pixels
        assert course.image_size // 2 ** (2 - s) // 2 ** depth == 8
    assert patch_disc_spec(1, course, configs["translate"])["width"] == 2 * course.translator_width
    # a 2-scale ablation keeps the depths of the two finest scales
    two = mpfnet_spec(1, 3, course, make_configs(course, scales=2)["pretrain"])
    assert tuple(two["config"]["depth"]) == tuple(course.depth[1:])
    assert build_model(two).config.depths == tuple(course.depth[1:])


def test_translate_builds_translators_at_the_translator_width(tmp_path):
    profile = _steps(1).replace(translator_width=2, depth=(1, 1, 2))
    result = translate(profile, tmp_path, device="cpu")
    assert result.models["g_n2g"].config.width == 2 and result.models["g_n2g"].config.depth == (1, 1, 2)
    assert load_checkpoint(result.checkpoint)["config"]["profile"]["translator_width"] == 2


def test_translator_depth_builds_deeper_translators_only_and_fine_tuning_checks_it(tmp_path):
    profile = _steps(1).replace(depth=(1, 1, 1), translator_depth=(1, 1, 2))
    result = translate(profile, tmp_path, device="cpu")
    # the translators are built at their own depth (one more down-sampling step at the finest scale)...
    assert result.models["g_n2g"].config.depth == result.models["g_g2n"].config.depth == (1, 1, 2)
    assert result.models["g_n2g"].multiple == 8
    saved = load_checkpoint(result.checkpoint)["config"]["profile"]
    assert tuple(saved["translator_depth"]) == (1, 1, 2)
    # ...and the colouriser at the profile's depth
    assert pretrain(profile, tmp_path, device="cpu").models["f_g"].config.depth == (1, 1, 1)
    # a fine-tuning run that expects translators at another depth is refused, naming the field
    with pytest.raises(CheckpointError, match="translator_depth"):
        finetune(profile.replace(translator_depth=None), tmp_path, device="cpu")
    assert finetune(profile, tmp_path, device="cpu").models["g_n2g"].config.depth == (1, 1, 2)
    # without the field the checkpoint does not record it (checkpoints from before it existed still match)
    assert "translator_depth" not in load_checkpoint(
        pretrain(_steps(1), tmp_path / "plain", device="cpu").checkpoint)["config"]["profile"]
    for bad in (0, (1, 0, 1), True, ()):
        with pytest.raises(ValueError, match="translator_depth"):
            TINY.replace(translator_depth=bad)
    assert TINY.replace(translator_depth=[1, 2, 3]).translator_depth == (1, 2, 3)


def test_losses_skip_value_checks_inside_training_only(tmp_path):
    from course_lib import losses

    seen = []
    pretrain(_steps(2), tmp_path, device="cpu", callback=lambda step, values: seen.append(losses._RANGE_CHECKS[0]))
    assert seen == [False, False]          # inside the stage: no host-syncing range checks
    with pytest.raises(ValueError, match=r"expected values in \[-1, 1\]"):   # outside: checked again
        losses.mix_loss(torch.full((1, 1, 16, 16), 2.0), torch.zeros(1, 1, 16, 16))


def test_losses_are_read_back_every_log_every_steps_and_logged_every_step(tmp_path, monkeypatch):
    from course_lib.train.loop import StageRun

    flushes = []
    original = StageRun._flush

    def counting(self):
        flushes.append(len(self._pending))
        return original(self)

    monkeypatch.setattr(StageRun, "_flush", counting)
    batched = pretrain(_steps(6, log_every=3, checkpoint_every=100, sample_every=100), tmp_path / "a", device="cpu")
    assert flushes == [3, 3]               # two read-backs of three steps each, not six of one
    flushes.clear()
    every = pretrain(_steps(6, log_every=1, checkpoint_every=100, sample_every=100), tmp_path / "b", device="cpu")
    assert flushes == [1] * 6
    assert _read_csv(batched.log) == _read_csv(every.log) and len(_read_csv(batched.log)) == 1 + 6  # header


def test_prefetched_batches_equal_direct_ones():
    from course_lib.data import SpectralScenes
    from course_lib.train.loop import PairBatches

    data = SpectralScenes(count=5, size=32, seed=3)
    ahead = PairBatches(data, 2, seed=1, size=24, augment=True, prefetch=True)
    plain = PairBatches(data, 2, seed=1, size=24, augment=True, prefetch=False)
    try:
        for step in (1, 2, 3, 5, 4):           # in order (prefetched) and out of order (computed)
            a, b = ahead.get(step, torch.device("cpu")), plain.get(step, torch.device("cpu"))
            assert torch.equal(a["nir"], b["nir"]) and torch.equal(a["rgb"], b["rgb"]) and a["name"] == b["name"]
    finally:
        ahead.close()


def test_training_data_outside_the_value_range_is_refused_at_the_boundary(tmp_path):
    from course_lib.data import SpectralScenes

    scenes = SpectralScenes(count=2, size=48, seed=0)
    bad = [{"nir": scenes[i]["nir"] * 0.5 + 0.5, "rgb": scenes[i]["rgb"] * 127.5 + 127.5, "name": f"x{i}"}
           for i in range(2)]
    with pytest.raises(ValueError, match=r"RGB image .x[01]. \(step 1\) is outside \[-1, 1\]"):
        pretrain(_steps(1).replace(num_train=2), tmp_path, bad, device="cpu")


def _course_sizes_module():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "course_sizes.py"
    spec = importlib.util.spec_from_file_location("course_sizes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_course_profile_fits_a_t4_session_and_a_free_drive(capsys):
    # the estimate of benchmarks/course_sizes.py (counted FLOPs, activations measured here): <= 30 min at a
    # quarter of a T4's float16 peak, <= 12 GB under autocast, and finished checkpoints that keep a course
    # (one run + notebook 07's three translators + five ablation runs) under 2 GB of Drive
    sizes = _course_sizes_module()
    course = PROFILES["course"]
    est = sizes.estimate(course, sizes._sizes(course), "course")
    assert est["t4_min"] <= 30
    assert max(r["memory_amp_gb"] for r in est["stages"].values()) <= 12
    mb = est["checkpoint_mb"]
    progressive = mb["translate"] + mb["pretrain"] + mb["finetune"]
    assert sum(mb.values()) + 3 * mb["translate"] + 5 * progressive <= 2000
    # and the old sizes did not fit: the benchmark can tell the difference
    old = sizes.estimate(course.replace(**sizes.OLD_COURSE), sizes.OLD_COURSE, "old")
    assert old["checkpoint_mb"]["translate"] > 5 * mb["translate"]
    assert "whole run (4 stages)" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------------------
# GAN bookkeeping once (course_lib.train.gan), upstream checks of fine-tuning
# ---------------------------------------------------------------------------------------------------------------
def test_discriminator_loss_is_the_halved_lsgan_loss():
    from course_lib.losses import discriminator_loss

    assert float(discriminator_loss(torch.ones(2, 1, 3, 3), torch.ones(2, 1, 3, 3))) == pytest.approx(0.5)
    assert float(discriminator_loss(torch.ones(4), torch.zeros(4))) == 0.0
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(2, 1, 5, 5, generator=g), torch.randn(2, 1, 5, 5, generator=g)
    want = 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())
    assert torch.allclose(discriminator_loss(real.half(), fake.half()), want, atol=2e-3)   # computed in float32


def test_translator_objective_weights_its_terms_and_trains_generators_only():
    from course_lib.losses import LossWeights
    from course_lib.models import MPFNet, PatchDiscriminator
    from course_lib.train.gan import translator_objective
    from course_lib.train.pool import set_requires_grad

    torch.manual_seed(0)
    g_n2g, g_g2n = MPFNet(1, 1, width=4, depth=2), MPFNet(1, 1, width=4, depth=2)
    d_n, d_g = PatchDiscriminator(1, width=4, n_layers=2), PatchDiscriminator(1, width=4, n_layers=2)
    nir, gray, rgb = (torch.rand(2, c, 32, 32) * 2 - 1 for c in (1, 1, 3))
    set_requires_grad([d_n, d_g], False)
    w = LossWeights(lambda_cyc=3.0, lambda_idt=0.5, lambda_paired=2.0)
    out = translator_objective(g_n2g, g_g2n, d_n, d_g, nir, gray, w, rgb)
    want = out["gan"] + 3.0 * out["cycle"] + 0.5 * out["identity"] + 2.0 * out["paired"]
    assert torch.allclose(out["total"], want)
    out["total"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in (g_n2g.febs[0].stem.weight,
                                                                       g_g2n.febs[0].stem.weight))
    assert all(p.grad is None for p in [*d_n.parameters(), *d_g.parameters()])
    assert "paired" not in translator_objective(g_n2g, g_g2n, d_n, d_g, nir, gray, LossWeights())
    with pytest.raises(ValueError, match="paired_rgb"):
        translator_objective(g_n2g, g_g2n, d_n, d_g, nir, gray, w)


def test_frozen_norm_statistics_leaves_running_averages_alone():
    from course_lib.models import MPFNet
    from course_lib.train.gan import frozen_norm_statistics

    net = MPFNet(1, 3, width=4, depth=2, norm="batch").train()
    norm = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = norm.running_mean.clone(), int(norm.num_batches_tracked)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad(), frozen_norm_statistics(net):
        inside = net(x)[-1]
    assert torch.equal(norm.running_mean, before[0]) and int(norm.num_batches_tracked) == before[1]
    with torch.no_grad():
        outside = net(x)[-1]                                  # same batch statistics, so the same output
    assert torch.allclose(inside, outside) and not torch.equal(norm.running_mean, before[0])


def test_finetune_refuses_to_resume_over_a_retrained_upstream_stage(tmp_path):
    import shutil

    from course_lib.train import CheckpointError

    translate(_steps(2), tmp_path, device="cpu")
    pretrain(_steps(2), tmp_path, device="cpu")
    with pytest.raises(TrainingInterrupted):
        finetune(_steps(3), tmp_path, device="cpu", callback=_stop_at(1))
    recorded = load_checkpoint(tmp_path / "finetune" / "checkpoint.pt")["meta"]["upstream"]
    assert set(recorded) == {"translate", "pretrain"} and all(len(v) == 64 for v in recorded.values())
    # the translator is retrained (another seed): continuing would mix two runs
    shutil.rmtree(tmp_path / "translate")
    translate(_steps(2), tmp_path, config=TranslateConfig(seed=1), device="cpu")
    with pytest.raises(CheckpointError, match=r"other translate weights.*delete .*finetune"):
        finetune(_steps(3), tmp_path, device="cpu")
    # the same upstream weights (retrained identically) resume without complaint
    shutil.rmtree(tmp_path / "translate")
    translate(_steps(2), tmp_path, device="cpu")
    assert finetune(_steps(3), tmp_path, device="cpu").step == 3


def test_resume_over_an_optimizer_state_for_other_parameters_keeps_the_weights(tmp_path, capsys):
    """An unfinished checkpoint whose optimizer state was saved for other parameters (an older course_lib's
    network, e.g. before the finest SCCM lost its unused convs) resumes with its weights and a fresh optimizer
    state, and says so, instead of failing in torch's load_state_dict."""
    with pytest.raises(TrainingInterrupted):
        pretrain(_steps(4), tmp_path, device="cpu", callback=_stop_at(2))
    path = tmp_path / "pretrain" / "checkpoint.pt"
    ckpt = load_checkpoint(path)
    group = ckpt["optimizers"]["f_g"]["param_groups"][0]
    group["params"] = list(group["params"]) + [max(group["params"]) + 1]     # one parameter the network lacks
    save_checkpoint(path, ckpt)
    saved = {k: v.clone() for k, v in ckpt["models"]["f_g"].items()}
    capsys.readouterr()
    seen = []
    resumed = pretrain(_steps(4), tmp_path, device="cpu", callback=lambda step, losses: seen.append(step))
    out = capsys.readouterr().out
    assert "optimizer state of 'f_g'" in out and "starts fresh" in out and "resuming from step 2" in out
    assert seen == [3, 4] and resumed.step == 4
    changed = [k for k, v in resumed.models["f_g"].state_dict().items() if v.is_floating_point()
               and not torch.equal(v, saved[k])]
    assert changed                                 # it trained on from the saved weights


# ---------------------------------------------------------------------------------------------------------------
# stage 1's supervised warm-up (Profile.translate_warmup)
# ---------------------------------------------------------------------------------------------------------------
def _initial_translate_models(profile, config):
    """The four networks of stage 1 as a run initialises them (same seed, same build order), built here."""
    from course_lib.train.configs import build_model, mpfnet_spec, patch_disc_spec
    from course_lib.train.device import seed_everything

    seed_everything(config.seed)
    specs = {"g_n2g": mpfnet_spec(1, 1, profile, config, translator=True),
             "g_g2n": mpfnet_spec(1, 1, profile, config, translator=True),
             "d_n": patch_disc_spec(1, profile, config), "d_g": patch_disc_spec(1, profile, config)}
    return {name: build_model(spec) for name, spec in specs.items()}


def test_warmup_steps_train_g_n2g_alone_towards_the_pairs_gray(tmp_path):
    from course_lib.data import SpectralScenes, to_gray
    from course_lib.losses import multiscale_mix_loss

    fixed = [SpectralScenes(size=48, count=2, seed=5)[i] for i in range(2)]  # batch 2 of 2 images: same batch
    profile = _steps(12, sample_every=100, checkpoint_every=100, lr=1e-3, translate_warmup=12)
    config = TranslateConfig(augment=False)
    result = translate(profile, tmp_path, data=fixed, config=config, device="cpu")
    initial = _initial_translate_models(profile, config)
    for name in ("g_g2n", "d_n", "d_g"):  # untouched by the warm-up
        _assert_same_weights({name: initial[name]}, {name: result.models[name]})
    assert any(not torch.equal(a, b) for a, b in zip(initial["g_n2g"].parameters(),
                                                      result.models["g_n2g"].parameters()))
    nir = torch.stack([torch.as_tensor(item["nir"]) for item in fixed])
    gray = to_gray(torch.stack([torch.as_tensor(item["rgb"]) for item in fixed]))
    logged = result.losses()["warmup"]
    with torch.no_grad():  # step 1's logged loss is L_mix of the initial G_N2G on that batch, at every scale
        assert logged[0] == pytest.approx(float(multiscale_mix_loss(initial["g_n2g"](nir), gray)), rel=1e-4)
        after = float(multiscale_mix_loss(result.models["g_n2g"].eval()(nir), gray))
    assert after < 0.75 * logged[0]
    assert list(result.losses()) == ["step", "warmup"]


def test_warmup_then_cyclegan_steps_log_both_kinds_and_resume_alike(tmp_path):
    profile = _steps(4, translate_warmup=2)
    straight = translate(profile, tmp_path / "a", device="cpu")
    rows = _read_csv(straight.log)
    assert rows[0] == ["step", "warmup", "gan", "cycle", "identity", "generator", "d_g", "d_n"]
    assert [r[1] != "" for r in rows[1:]] == [True, True, False, False]          # warm-up column
    assert [all(c != "" for c in r[2:]) for r in rows[1:]] == [False, False, True, True]  # CycleGAN columns
    with pytest.raises(TrainingInterrupted):  # interrupted inside the warm-up: the log widens after resuming
        translate(profile, tmp_path / "b", device="cpu", callback=_stop_at(1))
    resumed = translate(profile, tmp_path / "b", device="cpu")
    _assert_same_weights(straight.models, resumed.models)
    assert _read_csv(straight.log) == _read_csv(resumed.log)
    losses = straight.losses()
    assert np.isnan(losses["gan"][0]) and np.isnan(losses["warmup"][3]) and np.isfinite(losses["gan"][3])


def test_translate_warmup_is_checked_and_scaled_with_the_translate_steps():
    with pytest.raises(ValueError, match="translate_warmup: expected an integer >= 0"):
        TINY.replace(translate_warmup=-1)
    cpu = get_profile("cpu", verbose=False)
    assert 0 < cpu.translate_warmup <= cpu.translate_steps
    share = cpu.translate_warmup / cpu.translate_steps
    for p in (cpu.scaled(0.5), cpu.scaled(2.5), cpu.with_budget(200, 100), cpu.with_steps(10)):
        assert p.translate_warmup == round(p.translate_steps * share)
    # the share for any step count (what benchmarks/probes.py gives a translator trained for other steps)
    assert cpu.warmup_for(300) == round(300 * share) and cpu.warmup_for(1) == 1
    assert TINY.replace(translate_warmup=0).warmup_for(300) == 0
    assert PROFILES["course"].scaled(0.5).translate_warmup == 0
