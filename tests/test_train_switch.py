"""The ``TRAIN`` switch of notebooks 07-11: ``course_lib.course.runs.train_default`` (CUDA or ``COURSE_TRAIN``), the
``course_lib.course.showcase`` functions the notebooks' result sections call on either branch (the shipped weights
on the real sample photos, or networks a notebook trained on other pairs), and the notebooks' use of the switch.

The showcase tests of the default (shipped) branch on a temporary registry live in tests/test_pretrained.py; here
the trained-network branch uses tiny untrained MPFNets, and ``scores_table(items=...)`` reads the shipped registry
(read only) on the sample photos scaled down to 32 px.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest
import torch

from course_lib.course import runs, showcase
from course_lib.models import MPFNet

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
TRAINING_NOTEBOOKS = ("07_cyclegan_translator", "08_colorizer_pretraining", "09_progressive_finetuning",
                      "10_evaluation_and_ablations", "11_real_data")


# ---------------------------------------------------------------------------------------------------------------
# runs.train_default
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cuda", [True, False])
def test_train_default_follows_cuda_without_the_variable(monkeypatch, cuda):
    monkeypatch.delenv("COURSE_TRAIN", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert runs.train_default() is cuda
    monkeypatch.setenv("COURSE_TRAIN", "  ")                     # empty counts as unset
    assert runs.train_default() is cuda


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("TRUE", True), (" True ", True),
                                             ("0", False), ("false", False), ("False", False), (" 0\n", False)])
@pytest.mark.parametrize("cuda", [True, False])
def test_course_train_overrides_cuda(monkeypatch, value, expected, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setenv("COURSE_TRAIN", value)
    assert runs.train_default() is expected


@pytest.mark.parametrize("value", ["yes", "2", "on", "t", "-1", "truee"])
def test_course_train_refuses_other_values(monkeypatch, value):
    monkeypatch.setenv("COURSE_TRAIN", value)
    with pytest.raises(ValueError, match=r"COURSE_TRAIN: expected 1, 0, true or false") as info:
        runs.train_default()
    assert repr(value) in str(info.value)


def test_train_default_is_exported():
    assert "train_default" in runs.__all__ and runs.TRAIN_ENV_VAR == "COURSE_TRAIN"


# ---------------------------------------------------------------------------------------------------------------
# showcase with networks a notebook trained (TRAIN = True)
# ---------------------------------------------------------------------------------------------------------------
def _net(out_channels: int, seed: int) -> MPFNet:
    torch.manual_seed(seed)
    return MPFNet(1, out_channels, width=4, depth=2).eval()


def _items(count: int = 2, size: int = 32) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    return [{"nir": torch.rand(1, size, size, generator=generator) * 2 - 1,
             "rgb": torch.rand(3, size, size, generator=generator) * 2 - 1, "name": f"scene {i}"}
            for i in range(count)]


@pytest.fixture()
def no_registry(monkeypatch):
    """Fail a test that reaches for the shipped weights."""
    from course_lib import pretrained

    def refuse(*args, **kwargs):
        raise AssertionError("the shipped weights were loaded although networks were given")

    monkeypatch.setattr(pretrained, "load_pretrained", refuse)


def test_translator_figure_of_trained_networks_shows_the_cycle(no_registry):
    from course_lib.data import to_gray

    g_n2g, g_g2n, items = _net(1, 0), _net(1, 1), _items()
    fig, stats = showcase.translator_figure(models={"g_n2g": g_n2g, "g_g2n": g_g2n}, items=items)
    assert [ax.get_title() for ax in fig.axes[:4]][0::3] == ["NIR", "G_G2N(G_N2G(NIR))"]
    assert len(fig.axes) == 4 * len(items) and [s["name"] for s in stats] == ["scene 0", "scene 1"]
    with torch.no_grad():
        gray = g_n2g(items[1]["nir"][None])[-1].clamp(-1, 1)
        cycled = g_g2n(gray)[-1].clamp(-1, 1)
    true = to_gray(items[1]["rgb"])
    corr = float(torch.corrcoef(torch.stack([gray.flatten(), true.flatten()]))[0, 1])
    assert stats[1]["translated_corr"] == pytest.approx(corr, abs=1e-5)
    assert stats[1]["cycle_error"] == pytest.approx(float((cycled[0] - items[1]["nir"]).abs().mean()), abs=1e-6)
    # without G_G2N (as the shipped weights): three columns and no cycle error
    fig, stats = showcase.translator_figure(models={"g_n2g": g_n2g}, items=items[:1])
    assert len(fig.axes) == 3 and "cycle_error" not in stats[0]
    with pytest.raises(ValueError, match="g_n2g"):
        showcase.translator_figure(models={"f_g": g_n2g}, items=items)
    with pytest.raises(ValueError, match="at least one pair"):
        showcase.translator_figure(models={"g_n2g": g_n2g}, items=[])


def test_colouriser_figure_of_a_trained_f_g(no_registry):
    from course_lib.data import to_gray
    from course_lib.metrics import psnr_per_image

    f_g, items = _net(3, 2), _items()
    fig, rows = showcase.colouriser_figure(f_g=f_g, items=items)
    with torch.no_grad():
        from_nir = f_g(items[0]["nir"][None])[-1].clamp(-1, 1)
        from_gray = f_g(to_gray(items[0]["rgb"])[None])[-1].clamp(-1, 1)
    assert rows[0]["F_G(NIR) PSNR"] == pytest.approx(float(psnr_per_image(from_nir, items[0]["rgb"][None])[0]))
    assert rows[0]["F_G(gray) PSNR"] == pytest.approx(float(psnr_per_image(from_gray, items[0]["rgb"][None])[0]))
    assert rows[0]["F_G(gray) PSNR"] != pytest.approx(rows[0]["F_G(NIR) PSNR"])
    assert len(fig.axes) == 5 * len(items)


def test_routes_figure_of_trained_routes_with_the_gray(no_registry):
    from course_lib.train import DirectColorizer, ProgressiveColorizer

    progressive = ProgressiveColorizer(_net(1, 0), _net(3, 2)).eval()
    direct = DirectColorizer(_net(3, 3)).eval()
    items = _items(3)
    fig = showcase.routes_figure(colorizers={"progressive": progressive, "direct": direct}, items=items,
                                 with_gray=True)
    assert [ax.get_title() for ax in fig.axes[:5]] == ["NIR", "X_N2G (gray)", "progressive", "direct",
                                                       "ground truth"]
    assert len(fig.axes) == 5 * len(items)
    # the gray column is the progressive route's translation, shown in R, G and B
    shown = fig.axes[1].get_images()[0].get_array()
    with torch.no_grad():
        gray = progressive.translate(items[0]["nir"][None])[0, 0].clamp(-1, 1)
    assert shown.shape[:2] == tuple(gray.shape)
    assert torch.allclose(torch.as_tensor(shown[..., 0], dtype=torch.float32), (gray + 1) / 2, atol=1e-5)
    fig = showcase.routes_figure(colorizers={"direct": direct}, items=items[:1])
    assert [ax.get_title() for ax in fig.axes] == ["NIR", "direct", "ground truth"]
    with pytest.raises(ValueError, match="with_gray"):
        showcase.routes_figure(colorizers={"direct": direct}, items=items, with_gray=True)


def test_on_cpu_takes_the_finest_output_as_float32_on_the_cpu():
    class TwoScales(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor(2.0))
            self.seen = None

        def forward(self, x):
            self.seen = x.device
            return [x[..., ::2, ::2], (x * self.scale).double()]

    module = TwoScales()
    out = showcase._on_cpu(module)(torch.ones(1, 1, 4, 4))
    assert out.dtype == torch.float32 and out.device.type == "cpu" and out.shape == (1, 1, 4, 4)
    assert float(out.mean()) == 2.0 and module.seen.type == "cpu"
    assert showcase._on_cpu(lambda x: x + 1)(torch.zeros(1, 1, 2, 2)).eq(1).all()   # plain functions too
    elsewhere = torch.nn.Conv2d(1, 1, 1, device="meta")          # a module (or its method) on another device
    assert showcase._device(elsewhere) == showcase._device(elsewhere.forward) == torch.device("meta")


# ---------------------------------------------------------------------------------------------------------------
# showcase with the shipped weights (TRAIN = False), other pairs
# ---------------------------------------------------------------------------------------------------------------
def test_shipped_colorizers_hold_both_routes_and_nothing_else():
    from course_lib.train import DirectColorizer, ProgressiveColorizer

    routes = showcase.shipped_colorizers("vcip2020")
    assert list(routes) == ["progressive", "direct"]
    assert isinstance(routes["progressive"], ProgressiveColorizer) and isinstance(routes["direct"], DirectColorizer)
    assert not routes["progressive"].training and not hasattr(routes["progressive"], "g_g2n")
    assert any("G_G2N" in what for what in showcase.NOT_SHIPPED)


def test_scores_table_on_other_pairs_labels_its_rows():
    from course_lib.data import Resize, sample_pairs

    pairs = sample_pairs(transform=Resize(32))
    table = showcase.scores_table("vcip2020", items=pairs, label="val split, 3 pairs")
    for row in ("shipped progressive", "shipped direct", "mean training colour", "NIR copied to RGB"):
        assert f"| {row} (val split, 3 pairs) |" in table
    assert table.count("this run") == 4 and "MPFNet (paper)" in table
    assert "18 VCIP 2020 validation pairs" in table                # the registry's recorded scores follow
    assert "| shipped direct (2 pairs) |" in showcase.scores_table("vcip2020", items=[pairs[0], pairs[1]])
    assert "| shipped direct (3 sample pairs) |" in showcase.scores_table("vcip2020")


# ---------------------------------------------------------------------------------------------------------------
# the notebooks
# ---------------------------------------------------------------------------------------------------------------
def _cells(stem: str) -> list[tuple[str, str]]:
    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in cells]


@pytest.mark.parametrize("stem", TRAINING_NOTEBOOKS)
def test_training_notebooks_have_the_switch(stem):
    cells = _cells(stem)
    assert "`TRAIN`" in cells[0][1] and "TRAIN = False" in cells[0][1], f"{stem}: say what TRAIN does in the intro"
    setup = cells[2][1]
    assert "\nTRAIN = runs.train_default()\n" in setup and "showcase" in setup, f"{stem}: the setup cell"
    branches = [source for kind, source in cells[3:] if kind == "code" and "if TRAIN" in source]
    assert branches, f"{stem}: no result section reads TRAIN"
    assert all("showcase." in source for source in branches), f"{stem}: a TRAIN branch without the showcase"
    markdown = "\n".join(source for kind, source in cells if kind == "markdown")
    assert "toy size" in markdown, f"{stem}: label the toy-size training cells"
    assert markdown.count("## Summary") == 1 and "## Real NIR photos" not in markdown
    for kind, source in cells:
        if kind == "code":
            assert len(source.splitlines()) <= 25, f"{stem}: a code cell longer than 25 lines:\n{source}"
