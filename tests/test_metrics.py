"""Tests of course_lib.metrics against independent references (scikit-image, numpy formulas)."""

import csv
import math

import numpy as np
import pytest
import torch
from skimage import data, transform
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from course_lib import metrics
from course_lib.metrics import (
    EvaluationResult,
    LPIPSMetric,
    LPIPSUnavailable,
    angular_error,
    angular_error_per_image,
    evaluate,
    format_table,
    psnr,
    psnr_per_image,
    ssim,
    ssim_per_image,
    to_uint8,
)


def _uint8(img, size=32):
    return (transform.resize(img, (size, size), anti_aliasing=True) * 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def images():
    """Three natural uint8 RGB images (32 x 32) and a degraded version of each."""
    clean = np.stack([_uint8(data.astronaut()), _uint8(data.chelsea()), _uint8(data.coffee())])
    rng = np.random.default_rng(0)
    noisy = np.clip(clean.astype(int) + rng.integers(-20, 21, clean.shape), 0, 255).astype(np.uint8)
    return clean, noisy


def _tensor(batch_uint8):
    """uint8 N x H x W x 3 -> NCHW float in [-1, 1] that to_uint8 maps back exactly."""
    return torch.from_numpy(np.moveaxis(batch_uint8, -1, 1).copy()).float() / 127.5 - 1


def _numpy_ae(p, t):
    """Reference AE of one image: arccos of the normalized dot product, in degrees (no black pixels)."""
    p, t = p.reshape(-1, 3).astype(np.float64), t.reshape(-1, 3).astype(np.float64)
    cos = (p * t).sum(1) / (np.linalg.norm(p, axis=1) * np.linalg.norm(t, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1))).mean()


# ---------------------------------------------------------------------------------------------------- to_uint8
def test_to_uint8_maps_model_range_to_bytes():
    x = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, 1.0005]).view(1, 3, 1, 2)
    out = to_uint8(x)
    assert out.dtype == np.uint8 and out.shape == (1, 1, 2, 3)
    expected = np.clip(np.round((x.numpy() + 1) / 2 * 255), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, np.moveaxis(expected, 1, -1))
    assert to_uint8(x[0]).shape == (1, 2, 3)


def test_to_uint8_round_trips_uint8_images(images):
    np.testing.assert_array_equal(to_uint8(_tensor(images[0])), images[0])


# ---------------------------------------------------------------------------------------------------- PSNR
def test_psnr_of_known_mse_equals_numpy_formula():
    target = np.full((8, 8, 3), 100, np.uint8)
    pred = target.copy()
    pred[:4] += 10  # half the values off by 10 -> MSE 50
    assert psnr(pred, target) == pytest.approx(10 * np.log10(255**2 / 50.0), abs=1e-10)


def test_psnr_equals_skimage_and_is_mean_over_batch(images):
    clean, noisy = images
    per_image = psnr_per_image(noisy, clean)
    reference = [peak_signal_noise_ratio(t, p, data_range=255) for p, t in zip(noisy, clean)]
    np.testing.assert_allclose(per_image, reference, rtol=1e-10)
    assert psnr(noisy, clean) == pytest.approx(np.mean(reference))
    assert psnr(_tensor(noisy), _tensor(clean)) == pytest.approx(np.mean(reference))


# ---------------------------------------------------------------------------------------------------- SSIM
def test_ssim_equals_skimage_with_its_defaults(images):
    clean, noisy = images
    reference = [structural_similarity(p, t, channel_axis=-1, data_range=255) for p, t in zip(noisy, clean)]
    np.testing.assert_allclose(ssim_per_image(noisy, clean), reference, rtol=1e-12)
    assert ssim(_tensor(noisy), _tensor(clean)) == pytest.approx(np.mean(reference))
    assert ssim(noisy[0], clean[0]) == pytest.approx(reference[0])


# ---------------------------------------------------------------------------------------------------- AE
def test_angular_error_of_orthogonal_colours_is_90_and_of_scaled_colours_0():
    red, green = np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8)
    red[..., 0], green[..., 1] = 255, 255
    assert angular_error(red, green) == pytest.approx(90.0, abs=1e-4)
    colour = np.tile(np.array([100, 50, 25], np.uint8), (2, 2, 1))
    assert angular_error(colour, colour * 2) == pytest.approx(0.0, abs=1e-4)


def test_angular_error_equals_arccos_formula_on_natural_images(images):
    clean, noisy = images
    clean, noisy = np.maximum(clean, 1), np.maximum(noisy, 1)  # the reference is undefined on black pixels
    reference = [_numpy_ae(p, t) for p, t in zip(noisy, clean)]
    np.testing.assert_allclose(angular_error_per_image(noisy, clean), reference, atol=1e-5)
    assert angular_error(_tensor(noisy), _tensor(clean)) == pytest.approx(np.mean(reference), abs=1e-5)


def test_angular_error_is_finite_on_black_pixels():
    black, red = np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 200
    assert angular_error(black, black) == 0.0
    # black counts as grey (epsilon on every channel): angle between (1, 1, 1) and (1, 0, 0)
    assert angular_error(black, red) == pytest.approx(math.degrees(math.acos(1 / math.sqrt(3))), abs=1e-4)


def test_identical_images_give_the_ideal_scores(images):
    clean = images[0]
    assert psnr(clean, clean) == math.inf
    assert ssim(clean, clean) == pytest.approx(1.0)
    assert angular_error(clean, clean) == 0.0


# ---------------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [psnr, ssim, angular_error])
def test_metrics_reject_bad_input_naming_the_argument(fn, images):
    clean = images[0]
    with pytest.raises(ValueError, match="pred"):
        fn(clean.astype(np.float32) / 255, clean)  # float numpy array
    with pytest.raises(ValueError, match="target"):
        fn(_tensor(clean), _tensor(clean) * 3)  # tensor outside [-1, 1]
    with pytest.raises(ValueError, match="pred"):
        fn(torch.from_numpy(np.moveaxis(clean, -1, 1).copy()), clean)  # uint8 passed as tensor
    with pytest.raises(ValueError, match="same shape"):
        fn(clean, clean[:, :16])


def test_to_uint8_rejects_out_of_range_and_integer_tensors():
    with pytest.raises(ValueError, match="x"):
        to_uint8(torch.full((3, 4, 4), 1.5))
    with pytest.raises(ValueError, match="x"):
        to_uint8(torch.zeros(3, 4, 4, dtype=torch.uint8))


# ---------------------------------------------------------------------------------------------------- LPIPS
def test_lpips_without_weights_raises_with_placement_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(LPIPSUnavailable) as info:
        LPIPSMetric(allow_download=False)
    message = str(info.value)
    expected_path = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    assert str(expected_path) in message
    assert str(torch.hub.get_dir()) in message
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in message
    assert isinstance(info.value, RuntimeError)


def test_lpips_download_failure_raises_unavailable_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(metrics, "_failed_downloads", set())
    calls = []

    def offline(url, dest, timeout):
        calls.append(url)
        raise OSError("no network")

    monkeypatch.setattr(metrics, "_download", offline)
    for _ in range(2):
        with pytest.raises(LPIPSUnavailable, match="alexnet-owt-7be5be79.pth"):
            LPIPSMetric(allow_download=True)
    assert calls == ["https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"]


@pytest.fixture(scope="module")
def random_lpips():
    return LPIPSMetric(pretrained=False)  # random backbone: exercises the code path, never reported


def test_random_lpips_runs_and_is_zero_on_identical_images(random_lpips, images):
    clean, noisy = (x[:2] for x in images)
    assert random_lpips.random
    assert random_lpips(clean, clean) == pytest.approx(0.0, abs=1e-6)
    per_image = random_lpips.per_image(_tensor(noisy), _tensor(clean))
    assert per_image.shape == (2,) and np.all(per_image > 0)
    assert random_lpips(noisy, clean) == pytest.approx(per_image.mean(), rel=1e-5)


# ---------------------------------------------------------------------------------------------------- evaluate
@pytest.fixture()
def tiny_dataset(images):
    clean = _tensor(images[0])
    return [
        {"nir": clean[i].mean(0, keepdim=True), "rgb": clean[i], "name": f"img{i}"} for i in range(len(clean))
    ]


def _gray_to_rgb(nir):
    return nir.repeat(1, 3, 1, 1)


def test_evaluate_writes_csv_and_table_equal_to_direct_metric_calls(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))  # no LPIPS weights here
    monkeypatch.setattr(metrics, "_download", lambda *a: (_ for _ in ()).throw(OSError("offline")))
    monkeypatch.setattr(metrics, "_failed_downloads", set())
    result = evaluate(_gray_to_rgb, tiny_dataset, out_dir=tmp_path / "out", batch_size=2, method="Gray")

    assert [row["name"] for row in result.rows] == ["img0", "img1", "img2"]
    for item, row in zip(tiny_dataset, result.rows):
        pred = _gray_to_rgb(item["nir"][None])
        assert row["psnr"] == pytest.approx(psnr(pred, item["rgb"]))
        assert row["ssim"] == pytest.approx(ssim(pred, item["rgb"]))
        assert row["ae"] == pytest.approx(angular_error(pred, item["rgb"]))
        assert math.isnan(row["lpips"])
    psnrs = [row["psnr"] for row in result.rows]
    assert result.summary["psnr"] == pytest.approx((np.mean(psnrs), np.std(psnrs)))
    assert all(math.isnan(v) for v in result.summary["lpips"])

    with open(tmp_path / "out" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["name", "psnr", "ssim", "ae", "lpips"]
    assert float(rows[1]["ssim"]) == pytest.approx(result.rows[1]["ssim"])
    table = (tmp_path / "out" / "table.md").read_text(encoding="utf-8")
    assert table.splitlines()[0] == "| Methods | PSNR (↑) | SSIM (↑) | AE (↓) | LPIPS (↓) |"
    assert f"| Gray | {result.summary['psnr'][0]:.2f} ± {result.summary['psnr'][1]:.2f} |" in table
    assert "n/a" in table and "LPIPS unavailable" in table and "alexnet-owt-7be5be79.pth" in table


def test_evaluate_uses_last_output_eval_mode_and_restores_training(tiny_dataset):
    class MultiScale(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(()))
            self.modes = []

        def forward(self, nir):
            self.modes.append(self.training)
            rgb = (nir * self.scale).repeat(1, 3, 1, 1)
            return [rgb[..., ::2, ::2], rgb]

    model = MultiScale().train()
    result = evaluate(model, tiny_dataset, lpips=False, batch_size=4)
    assert model.training and model.modes == [False]
    nir, rgb = torch.stack([d["nir"] for d in tiny_dataset]), torch.stack([d["rgb"] for d in tiny_dataset])
    expected = psnr(_gray_to_rgb(nir), rgb)
    assert result.summary["psnr"][0] == pytest.approx(expected)


def test_evaluate_refuses_random_lpips_unless_allowed(tiny_dataset, random_lpips):
    with pytest.raises(ValueError, match="random"):
        evaluate(_gray_to_rgb, tiny_dataset, lpips=random_lpips)
    result = evaluate(_gray_to_rgb, tiny_dataset, lpips=random_lpips, allow_random_lpips=True)
    expected = random_lpips.per_image(
        to_uint8(_gray_to_rgb(tiny_dataset[0]["nir"][None])), to_uint8(tiny_dataset[0]["rgb"])
    )
    assert result.rows[0]["lpips"] == pytest.approx(expected[0])
    assert any("RANDOM" in note for note in result.notes)


def test_evaluate_rejects_wrong_output_shape(tiny_dataset):
    with pytest.raises(ValueError, match="model_or_fn"):
        evaluate(lambda nir: nir, tiny_dataset, lpips=False)


def test_format_table_has_one_row_per_method(tiny_dataset):
    a = evaluate(_gray_to_rgb, tiny_dataset, lpips=False, method="A")
    b = evaluate(lambda nir: _gray_to_rgb(nir) * 0.5, tiny_dataset, lpips=False, method="B")
    table = format_table({"Gray": a, "Half gray": b})
    lines = table.splitlines()
    assert lines[0].startswith("| Methods |")
    assert lines[2].startswith("| Gray |") and lines[3].startswith("| Half gray |")
    assert a.to_markdown("Gray").splitlines()[2] == lines[2]
    assert isinstance(a, EvaluationResult)


def test_evaluate_rejects_outputs_outside_model_range(tiny_dataset):
    with pytest.raises(ValueError, match="model_or_fn"):
        evaluate(lambda nir: _gray_to_rgb(nir) * 255, tiny_dataset, lpips=False)


def test_evaluate_indexes_map_style_datasets_by_length(tiny_dataset):
    class WrapAround(torch.utils.data.Dataset):  # never raises IndexError: iteration must use len()
        def __len__(self):
            return len(tiny_dataset)

        def __getitem__(self, i):
            return tiny_dataset[i % len(tiny_dataset)]

    result = evaluate(_gray_to_rgb, WrapAround(), lpips=False, batch_size=2)
    assert [row["name"] for row in result.rows] == ["img0", "img1", "img2"]


def test_reference_predictors_paint_the_mean_training_colour_and_copy_nir():
    from course_lib.metrics import reference_predictors

    a = torch.stack([torch.full((4, 6), 0.5), torch.full((4, 6), -0.5), torch.full((4, 6), 0.0)])
    b = torch.stack([torch.full((8, 2), -0.1), torch.full((8, 2), 0.3), torch.full((8, 2), 1.0)])
    refs = reference_predictors([{"rgb": a}, {"rgb": b}])  # each image weighs the same, whatever its size
    nir = torch.rand(2, 1, 9, 7) * 2 - 1
    painted = refs["mean training colour"](nir)
    assert painted.shape == (2, 3, 9, 7)
    assert torch.allclose(painted[1, :, 3, 4], torch.tensor([0.2, -0.1, 0.5]))
    copied = refs["NIR copied to RGB"](nir)
    assert torch.equal(copied[:, 0], nir[:, 0]) and torch.equal(copied[:, 2], nir[:, 0])
    # scored by evaluate as an independent PSNR formula says: MSE of the 8-bit mean colour against a test image
    target = torch.rand(3, 9, 7) * 2 - 1
    result = evaluate(refs["mean training colour"], [{"nir": nir[0], "rgb": target, "name": "t"}], lpips=False)
    p8 = np.round((painted[0].numpy() + 1) / 2 * 255).clip(0, 255)
    t8 = np.round((target.numpy() + 1) / 2 * 255).clip(0, 255)
    expected = 10 * np.log10(255 ** 2 / np.mean((p8 - t8) ** 2))
    assert result.summary["psnr"][0] == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match="at least one image"):
        reference_predictors([])
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        reference_predictors([{"rgb": torch.zeros(1, 4, 4)}])


def test_colourfulness_matches_hasler_susstrunk_by_hand():
    from course_lib.metrics import colourfulness

    gray = torch.rand(1, 12, 10).expand(3, -1, -1) * 2 - 1
    assert colourfulness(gray)[0] == pytest.approx(0.0, abs=1e-9)
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (2, 9, 11, 3), dtype=np.uint8)
    r, g, b = (img[..., k].astype(float) for k in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    expected = [np.hypot(rg[i].std(), yb[i].std()) + 0.3 * np.hypot(rg[i].mean(), yb[i].mean()) for i in range(2)]
    assert np.allclose(colourfulness(img), expected)
    as_tensor = torch.from_numpy(img).permute(0, 3, 1, 2).float() / 127.5 - 1  # the same images in [-1, 1]
    assert np.allclose(colourfulness(as_tensor), expected)
    red = torch.tensor([1.0, -1.0, -1.0]).view(3, 1, 1).expand(3, 8, 8)  # a flat pure red: 0.3 * |(255, 127.5)|
    assert colourfulness(red)[0] == pytest.approx(0.3 * np.hypot(255, 127.5))
    with pytest.raises(ValueError, match="3-channel"):
        colourfulness(torch.zeros(1, 1, 8, 8))
