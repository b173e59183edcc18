"""The figure helpers of course_lib/course/figures return figures with the expected axes and images (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib import patches  # noqa: E402

from course_lib.course import figures  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def n_images(fig):
    return sum(len(ax.images) for ax in fig.axes)


# ----------------------------------------------------------------------------------------------- conversion
def test_to_display_maps_model_range_to_unit_range():
    x = torch.tensor([[[-1.0, 0.0, 1.0]]])  # 1 x 1 x 3 (CHW, one channel)
    assert np.allclose(figures.to_display(x), [[0.0, 0.5, 1.0]])


def test_to_display_puts_channels_last_and_accepts_uint8():
    x = torch.zeros(1, 3, 4, 5)
    assert figures.to_display(x).shape == (4, 5, 3)
    assert figures.to_display(np.full((4, 5, 3), 255, np.uint8)).max() == 1.0


def test_to_display_rejects_a_batch_with_a_message():
    with pytest.raises(ValueError, match="batch of 2"):
        figures.to_display(torch.zeros(2, 3, 4, 4))


# ----------------------------------------------------------------------------------------------- images
def test_show_images_one_axes_per_image_from_a_batch():
    fig = figures.show_images(torch.rand(5, 3, 8, 8) * 2 - 1, ncols=3)
    assert len(fig.axes) == 5  # the sixth grid cell is removed
    assert n_images(fig) == 5


def test_show_images_gray_uses_fixed_range():
    fig = figures.show_images([torch.full((1, 8, 8), -0.5)], titles=["nir"])
    image = fig.axes[0].images[0]
    assert image.get_clim() == (0.0, 1.0)
    assert fig.axes[0].get_title() == "nir"


def test_show_images_checks_title_count():
    with pytest.raises(ValueError, match="titles"):
        figures.show_images([torch.zeros(3, 4, 4)] * 2, titles=["one"])


def test_show_item_draws_nir_rgb_gray_and_materials():
    item = {"nir": torch.zeros(1, 8, 8), "rgb": torch.zeros(3, 8, 8), "name": "x",
            "material": torch.randint(0, 3, (8, 8))}
    fig = figures.show_item(item, material_names=["a", "b", "c"])
    assert len(fig.axes) == 4
    assert n_images(fig) == 4
    legend = fig.axes[-1].get_legend()
    assert {t.get_text() for t in legend.get_texts()} <= {"a", "b", "c"}


def test_show_material_map_names_present_materials():
    labels = np.zeros((6, 6), dtype=np.int64)
    labels[3:] = 2
    fig = figures.show_material_map(labels, names={0: "sky", 2: "water"}, image=torch.zeros(3, 6, 6))
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == ["sky", "water"]


# ----------------------------------------------------------------------------------------------- spectra
def test_plot_spectra_one_line_per_curve():
    wl = np.arange(400, 1001, 10.0)
    fig = figures.plot_spectra(wl, {"a": np.ones_like(wl), "b": wl / 1000})
    assert len(fig.axes) == 1
    assert len(fig.axes[0].lines) == 2


def test_plot_spectra_rejects_misaligned_curves():
    with pytest.raises(ValueError, match="spectra\\['a'\\]"):
        figures.plot_spectra(np.arange(10.0), {"a": np.ones(9)})


def test_plot_material_swatches_two_patches_per_material():
    fig = figures.plot_material_swatches(["a", "b", "c"], np.full((3, 3), 0.5), np.array([0.1, 0.5, 0.9]))
    rects = [p for p in fig.axes[0].patches if isinstance(p, patches.Rectangle)]
    assert len(rects) == 6


def test_plot_nir_vs_rgb_scatters_a_subset():
    fig = figures.plot_nir_vs_rgb(torch.rand(1, 20, 20) * 2 - 1, torch.rand(3, 20, 20) * 2 - 1, max_points=50)
    assert len(fig.axes[0].collections[0].get_offsets()) == 50


# ----------------------------------------------------------------------------------------------- diagrams
def test_draw_pipeline_has_all_networks_of_fig1():
    fig = figures.draw_pipeline()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for name in ("G_{N2G}", "G_{G2N}", "F_G", "D_G^{feat}", "PatchGAN"):
        assert name in texts
    arrows = [p for p in fig.axes[0].patches if isinstance(p, patches.FancyArrowPatch)]
    assert len(arrows) == 11


@pytest.mark.parametrize("scales", [1, 2, 3])
def test_draw_mpfnet_one_row_per_scale(scales):
    fig = figures.draw_mpfnet(scales)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum(t == "SCCM" for t in texts) == scales


def test_draw_block_diagram_rejects_unknown_box():
    with pytest.raises(ValueError, match="'b'"):
        figures.draw_block_diagram({"a": figures.Box(0, 0, "a")}, [("a", "b", "k")])


def test_draw_coordinate_attention():
    fig = figures.draw_coordinate_attention()
    assert any("gate_w" in t.get_text() for t in fig.axes[0].texts)


# ----------------------------------------------------------------------------------------------- attention
def test_show_attention_gates_input_plus_one_axes_per_channel():
    fig = figures.show_attention_gates(torch.zeros(3, 8, 10), torch.rand(1, 4, 8, 1), torch.rand(1, 4, 1, 10),
                                   channels=(0, 2, 7))
    assert len(fig.axes) == 3  # input + channels 0 and 2 (7 does not exist)
    gate = fig.axes[1].images[0].get_array()
    assert gate.shape == (8, 10)


def test_show_attention_gates_checks_gate_shapes():
    with pytest.raises(ValueError, match="gate_h"):
        figures.show_attention_gates(torch.zeros(3, 8, 8), torch.rand(1, 4, 1, 8), torch.rand(1, 4, 1, 8))


# ----------------------------------------------------------------------------------------------- shapes
def test_record_shapes_in_call_order_and_hooks_removed():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), torch.nn.ReLU(),
                                torch.nn.Conv2d(4, 8, 3, stride=2, padding=1))
    rows = figures.record_shapes(model, torch.zeros(2, 1, 16, 16), types=(torch.nn.Conv2d,))
    assert [r["output"] for r in rows] == [(2, 4, 8, 8), (2, 8, 4, 4)]
    assert rows[0]["params"] == 4 * 9 + 4
    assert all(not m._forward_hooks for m in model.modules())


def test_record_shapes_by_name_and_unknown_name():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())
    rows = figures.record_shapes(model, torch.zeros(1, 1, 8, 8), names=["1"])
    assert [r["type"] for r in rows] == ["ReLU"]
    with pytest.raises(ValueError, match="names"):
        figures.record_shapes(model, torch.zeros(1, 1, 8, 8), names=["nope"])


def test_format_table_markdown():
    text = figures.format_table([{"name": "a", "output": (1, 2), "x": 0.5}])
    assert text.splitlines()[0] == "| name | output | x |"
    assert "1×2" in text and "0.5" in text


def test_plot_shape_profile_one_point_per_row():
    rows = [{"name": "a", "output": (1, 4, 16, 16)}, {"name": "b", "output": (1, 8, 8, 8)}]
    fig = figures.plot_shape_profile(rows)
    assert list(fig.axes[0].lines[0].get_ydata()) == [16, 8]


# ----------------------------------------------------------------------------------------------- stats, curves
def test_plot_channel_stats_bars_per_channel_and_tensor():
    fig = figures.plot_channel_stats({"a": torch.rand(1, 3, 8, 8), "b": torch.rand(3, 8, 8)})
    assert len(fig.axes) == 2
    assert len(fig.axes[0].patches) == 6


def test_show_scale_predictions_grid():
    preds = [torch.rand(1, 3, s, s) * 2 - 1 for s in (4, 8, 16)]
    fig = figures.show_scale_predictions({"a": preds, "b": preds}, target=torch.rand(1, 3, 16, 16) * 2 - 1)
    assert len(fig.axes) == 8
    assert n_images(fig) == 8


def test_plot_loss_curves_from_csv(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_text("step,loss_g,loss_d\n1,1.0,0.5\n2,0.8,0.4\n3,0.6,0.3\n")
    fig = figures.plot_loss_curves(path)
    assert [line.get_label() for line in fig.axes[0].lines] == ["loss_g", "loss_d"]
    assert list(fig.axes[0].lines[0].get_xdata()) == [1.0, 2.0, 3.0]


def test_plot_loss_curves_missing_file():
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        figures.plot_loss_curves("nowhere.csv")


def test_plot_loss_ranking_one_axes_per_loss():
    table = {"blur": {"L1": 0.1, "SSIM": 0.2}, "noise": {"L1": 0.1, "SSIM": 0.5}}
    fig = figures.plot_loss_ranking(table)
    assert len(fig.axes) == 2
    assert len(fig.axes[1].patches) == 2


def test_equal_l1_distortions_have_the_same_l1_and_stay_in_range():
    x = torch.rand(3, 32, 32) * 1.6 - 0.8
    out = figures.equal_l1_distortions(x, l1=0.02)
    assert set(out) == {"blur", "shift", "colour cast", "noise"}
    for d in out.values():
        assert d.shape == x.shape
        assert float((d - x).abs().mean()) / 2 == pytest.approx(0.02, rel=1e-4)
        assert d.min() >= -1 and d.max() <= 1


def test_equal_l1_distortions_refuses_unreachable_l1():
    with pytest.raises(ValueError, match="l1"):
        figures.equal_l1_distortions(torch.zeros(3, 16, 16), l1=0.9)


# ----------------------------------------------------------------------------------------------- source
def test_show_source_prints_outside_a_notebook(capsys):
    figures.show_source(figures.to_display)
    assert capsys.readouterr().out.startswith("def to_display")


def test_source_of_builtin_raises_with_a_message():
    with pytest.raises(ValueError, match="obj"):
        figures.source_of(len)


def test_show_colorizations_draws_each_method_on_each_item():
    from course_lib.course.figures import show_colorizations

    items = [{"nir": torch.full((1, 8, 10), -1.0), "rgb": torch.zeros(3, 8, 10), "name": f"pair{i}"} for i in range(2)]
    red = lambda nir: torch.stack([torch.ones_like(nir[:, 0]), -torch.ones_like(nir[:, 0]),  # noqa: E731
                                   -torch.ones_like(nir[:, 0])], 1)
    fig = show_colorizations({"red": red, "scales": lambda nir: [nir, red(nir)]}, items)
    axes = fig.axes
    assert len(axes) == 2 * 4 and [a.get_title() for a in axes[:4]] == ["NIR", "red", "scales", "ground truth"]
    assert axes[4].get_ylabel() == "pair1"
    red_pixels = axes[1].get_images()[0].get_array()
    assert np.allclose(red_pixels[..., 0], 1.0) and np.allclose(red_pixels[..., 1:], 0.0)  # drawn as computed
    assert np.allclose(axes[2].get_images()[0].get_array(), red_pixels)  # a list output uses its last element
    plt.close(fig)
    with pytest.raises(ValueError, match="'gray'.*\\(1, 3, 8, 10\\)"):
        show_colorizations({"gray": lambda nir: nir}, items)
    with pytest.raises(ValueError, match="items"):
        show_colorizations({"red": red}, [])


# ----------------------------------------------------------------------------------------------- text fallbacks
def test_text_fallbacks_outside_a_notebook(capsys, monkeypatch):
    from course_lib.course import frontend

    monkeypatch.delenv(frontend.NO_WIDGETS_ENV_VAR, raising=False)
    assert frontend.in_notebook() is False and frontend.live_frontend() is False
    figures.show_table([{"a": 1}])
    assert capsys.readouterr().out.startswith("| a |")
