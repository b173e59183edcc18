"""The one budget rule (``profiles.stage_budget``) in both modes, and the step costs it uses for equal CPU-seconds."""
from __future__ import annotations

import pytest

from course_lib.train import get_profile, measure_step_seconds, stage_budget

SECONDS = {"translate": 2.5, "pretrain": 0.44, "finetune": 3.29, "direct": 0.45}


def test_equal_updates_is_the_default():
    assert stage_budget(400, 120) == {"translate_steps": 120, "pretrain_steps": 400, "finetune_steps": 200,
                                      "direct_steps": 600}
    assert stage_budget(5, 1) == {"translate_steps": 1, "pretrain_steps": 5, "finetune_steps": 2, "direct_steps": 7}


def test_finetune_share_sets_the_fine_tuning_steps_and_the_direct_route_follows():
    assert stage_budget(800, 1800, finetune_share=0.125) == {
        "translate_steps": 1800, "pretrain_steps": 800, "finetune_steps": 100, "direct_steps": 900}
    assert stage_budget(300, 10, finetune_share=0.125)["finetune_steps"] == 37        # floor, as pretrain // 2
    assert stage_budget(3, 1, finetune_share=0.1)["finetune_steps"] == 1              # never 0
    eighth = get_profile("smoke", verbose=False).replace(pretrain_steps=80, finetune_steps=10, finetune_share=0.125)
    assert get_profile("smoke", verbose=False).finetune_share == 0.5
    for p in (eighth.scaled(0.5), eighth.with_budget(160), eighth.scaled(3)):
        assert p.finetune_steps == p.pretrain_steps // 8 and p.direct_steps == p.pretrain_steps + p.finetune_steps


def test_equal_seconds_gives_the_direct_route_the_progressive_routes_seconds():
    budget = stage_budget(400, 120, direct="seconds", step_seconds=SECONDS)
    # 120 * 2.5 + 400 * 0.44 + 200 * 3.29 = 1134 s, / 0.45 s per direct step
    assert budget == {"translate_steps": 120, "pretrain_steps": 400, "finetune_steps": 200, "direct_steps": 2520}
    cheaper = stage_budget(400, 120, direct="seconds", step_seconds={**SECONDS, "direct": 0.9})
    assert cheaper["direct_steps"] == 1260                       # twice the cost per step: half the steps


@pytest.mark.parametrize("kwargs, match", [
    ({"direct": "wall"}, "direct: expected one of"),
    ({"direct": "seconds"}, "step_seconds: direct=\"seconds\" needs"),
    ({"direct": "seconds", "step_seconds": {"translate": 1.0}}, "needs the seconds per step"),
    ({"direct": "seconds", "step_seconds": {**SECONDS, "direct": 0}}, r"step_seconds\['direct'\]"),
    ({"direct": "seconds", "step_seconds": {**SECONDS, "pretrain": float("nan")}}, r"step_seconds\['pretrain'\]"),
    ({"step_seconds": SECONDS}, "only used with"),
    ({"finetune_share": 0}, "finetune_share: expected a number in"),
    ({"finetune_share": True}, "finetune_share: expected a number in"),
    ({"finetune_share": 11}, "finetune_share: expected a number in"),
])
def test_stage_budget_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stage_budget(400, 120, **kwargs)


def test_profiles_follow_the_rule_in_both_modes():
    cpu = get_profile("cpu", verbose=False)
    assert cpu.direct_steps == cpu.pretrain_steps + cpu.finetune_steps
    assert cpu.finetune_share == 1 / 12                     # the cpu profile fine-tunes a twelfth of pre-training
    fair = cpu.with_budget(1200, 120, direct="seconds", step_seconds=SECONDS)
    # 120 * 2.5 + 1200 * 0.44 + 100 * 3.29 = 1157 s, / 0.45 s per direct step
    assert (fair.translate_steps, fair.pretrain_steps, fair.finetune_steps, fair.direct_steps) == (120, 1200, 100, 2571)
    half = cpu.scaled(0.5, direct="seconds", step_seconds=SECONDS)
    p2, f2 = cpu.pretrain_steps // 2, cpu.pretrain_steps // 24
    assert (half.pretrain_steps, half.finetune_steps, half.translate_steps) == (p2, f2, cpu.translate_steps // 2)
    assert half.direct_steps == round((cpu.translate_steps // 2 * 2.5 + p2 * 0.44 + f2 * 3.29) / 0.45)
    assert cpu.scaled(1) is cpu and cpu.scaled(1, direct="seconds", step_seconds=SECONDS).direct_steps == round(
        (cpu.translate_steps * 2.5 + cpu.pretrain_steps * 0.44 + cpu.finetune_steps * 3.29) / 0.45)


def test_measured_step_costs_rank_the_stages():
    """Measured with the real stages on tiny spectral scenes: a translate step (six generator passes, two
    discriminators) and a finetune step (seven passes, three discriminators) cost several pretrain or direct
    steps (one pass each)."""
    profile = get_profile("smoke", verbose=False).replace(image_size=48, batch_size=2, num_train=4, num_test=2)
    seconds = measure_step_seconds(profile, steps=4, device="cpu")
    assert sorted(seconds) == ["direct", "finetune", "pretrain", "translate"]
    assert all(v > 0 for v in seconds.values()), seconds
    assert seconds["translate"] > 2 * seconds["pretrain"] and seconds["finetune"] > 2 * seconds["direct"], seconds
    with pytest.raises(ValueError, match="steps: expected an integer >= 3"):
        measure_step_seconds(profile, steps=2)
    # a stage 1 made of supervised warm-up steps (one generator pass each) costs a fraction of the CycleGAN one,
    # and a stage 1 half warm-up is the mean of the two kinds
    warm = measure_step_seconds(profile.replace(translate_steps=10, translate_warmup=10), steps=4, device="cpu")
    assert warm["translate"] < 0.6 * seconds["translate"], (warm, seconds)
    assert warm["translate"] < 2 * warm["pretrain"], warm
