"""The checks of the training notebooks' exercises (07-11, course_lib/course/exercises/): every solution passes
its check, placeholders get guidance without an exception, and typical mistakes are diagnosed by name."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from course_lib.course import exercises as ex
from course_lib.course import solutions as sol
from course_lib.data import Resize
from course_lib.losses import lsgan_loss, mix_loss, multiscale_mix_loss

PAIRS = [
    (ex.check_lsgan_discriminator_loss, sol.lsgan_discriminator_loss),
    (ex.check_pretrain_loss, sol.pretrain_loss),
    (ex.check_feature_gan_losses, sol.feature_gan_losses),
    (ex.check_improvement, sol.improvement),
    (ex.check_resize_shorter_and_crop, sol.resize_shorter_and_crop),
]


@pytest.mark.parametrize("check, solution", PAIRS, ids=[c.__name__ for c, _ in PAIRS])
def test_solution_passes(check, solution, capsys):
    assert check(solution) is True
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("check", [c for c, _ in PAIRS], ids=[c.__name__ for c, _ in PAIRS])
def test_placeholder_gets_guidance_without_raising(check, capsys):
    def placeholder(*args):
        raise NotImplementedError

    assert check(placeholder) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and "NotImplementedError" in out


@pytest.mark.parametrize("check", [c for c, _ in PAIRS], ids=[c.__name__ for c, _ in PAIRS])
def test_missing_return_and_crash_are_reported(check, capsys):
    assert check(lambda *args: None) is False
    assert "return" in capsys.readouterr().out

    def crash(*args):
        raise IndexError("boom")

    assert check(crash) is False
    assert "IndexError: boom" in capsys.readouterr().out


def test_solutions_agree_with_the_course_code():
    real, fake = torch.randn(2, 1, 5, 5), torch.randn(2, 1, 5, 5)
    assert torch.allclose(sol.lsgan_discriminator_loss(real, fake),
                          0.5 * (lsgan_loss(real, True) + lsgan_loss(fake, False)))
    target = torch.rand(1, 3, 64, 64) * 2 - 1
    predictions = [torch.rand(1, 3, s, s) * 2 - 1 for s in (16, 32, 64)]
    assert torch.allclose(sol.pretrain_loss(predictions, target), multiscale_mix_loss(predictions, target))
    item = {"nir": torch.rand(1, 40, 60) * 2 - 1, "rgb": torch.rand(3, 40, 60) * 2 - 1, "name": "x"}
    assert sol.resize_shorter_and_crop(item["rgb"], 20).shape == Resize(20)(item)["rgb"].shape


# --------------------------------------------------------------------------------------------------------------
# typical mistakes, diagnosed by name
# --------------------------------------------------------------------------------------------------------------
def failure(check, attempt, capsys) -> str:
    assert check(attempt) is False
    return capsys.readouterr().out


def test_lsgan_swapped_targets(capsys):
    out = failure(ex.check_lsgan_discriminator_loss,
                  lambda r, f: 0.5 * ((r ** 2).mean() + ((f - 1) ** 2).mean()), capsys)
    assert "perfect discriminator" in out and "is 1, expected 0" in out and "swap" in out


def test_lsgan_missing_half(capsys):
    out = failure(ex.check_lsgan_discriminator_loss, lambda r, f: ((r - 1) ** 2).mean() + (f ** 2).mean(), capsys)
    assert "0.5" in out


def test_lsgan_absolute_values_and_sums_and_bce(capsys):
    assert "squares" in failure(ex.check_lsgan_discriminator_loss,
                                lambda r, f: 0.5 * ((r - 1).abs().mean() + f.abs().mean()), capsys)
    assert "sum over the patch map" in failure(
        ex.check_lsgan_discriminator_loss, lambda r, f: 0.5 * (((r - 1) ** 2).sum() + (f ** 2).sum()), capsys)


def test_lsgan_python_float_is_rejected(capsys):
    out = failure(ex.check_lsgan_discriminator_loss,
                  lambda r, f: float(0.5 * (((r - 1) ** 2).mean() + (f ** 2).mean())), capsys)
    assert "tensor" in out


def test_pretrain_loss_mistakes(capsys):
    assert "finest scale's term alone" in failure(ex.check_pretrain_loss, lambda p, t: mix_loss(p[-1], t), capsys)
    assert "*sums*" in failure(ex.check_pretrain_loss, lambda p, t: sol.pretrain_loss(p, t) / len(p), capsys)
    bilinear = lambda p, t: sum(mix_loss(q, F.interpolate(t, size=q.shape[-2:], mode="bilinear")) for q in p)  # noqa
    assert "area" in failure(ex.check_pretrain_loss, bilinear, capsys)


def test_feature_gan_mistakes(capsys):
    no_detach = lambda d, f, r: (((d(f) - 1) ** 2).mean(), 0.5 * (((d(r) - 1) ** 2).mean() + (d(f) ** 2).mean()))  # noqa
    assert "detach" in failure(ex.check_feature_gan_losses, no_detach, capsys)
    wrong_target = lambda d, f, r: ((d(f) ** 2).mean(), sol.feature_gan_losses(d, f, r)[1])  # noqa
    assert "target is 1" in failure(ex.check_feature_gan_losses, wrong_target, capsys)
    swapped = lambda d, f, r: tuple(reversed(sol.feature_gan_losses(d, f, r)))  # noqa
    assert "swapped" in failure(ex.check_feature_gan_losses, swapped, capsys)


def test_improvement_mistakes(capsys):
    assert "sign is wrong for AE" in failure(ex.check_improvement, lambda m, v, r: v - r, capsys)
    assert "absolute" in failure(ex.check_improvement, lambda m, v, r: abs(v - r), capsys)

    def no_validation(metric, value, reference):
        return value - reference if metric in ("psnr", "ssim") else reference - value

    assert "unknown metric" in failure(ex.check_improvement, no_validation, capsys)


def test_resize_mistakes(capsys):
    squash = lambda im, s: F.interpolate(im[None], size=(s, s), mode="bilinear")[0]  # noqa
    assert "squashed" in failure(ex.check_resize_shorter_and_crop, squash, capsys)
    crop_only = lambda im, s: im[:, (im.shape[1] - s) // 2:(im.shape[1] - s) // 2 + s,  # noqa
                                 (im.shape[2] - s) // 2:(im.shape[2] - s) // 2 + s]
    assert "without scaling" in failure(ex.check_resize_shorter_and_crop, crop_only, capsys)

    def top_left(im, s):
        h, w = im.shape[-2:]
        k = s / min(h, w)
        return F.interpolate(im[None], size=(round(h * k), round(w * k)), mode="bilinear")[0][:, :s, :s]

    assert "off-centre" in failure(ex.check_resize_shorter_and_crop, top_left, capsys)
    assert "shape" in failure(ex.check_resize_shorter_and_crop, lambda im, s: im, capsys)

