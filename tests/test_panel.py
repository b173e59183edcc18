"""Tests of course_lib/course/panel.py: the ablation panel's controls and callback, the text fallback, and the
result figures rendered off-screen."""

from __future__ import annotations

import functools
import math

import ipywidgets
import matplotlib
import pytest
import torch

from course_lib.course import panel as course_panel
from course_lib.course.ablation import AblationResult, AblationSwitches, run_ablation
from course_lib.train import get_profile

matplotlib.use("Agg")


def tiny_profile():
    return get_profile("smoke", verbose=False).replace(width=4, depth=2, batch_size=1, num_train=2,
                                                       num_test=2).with_steps(1)


class FakeRun:
    """Records the keyword arguments of each call; returns a small object with table() and figure()."""

    def __init__(self, error: Exception | None = None):
        self.calls: list[dict] = []
        self.error = error

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return types_result(kwargs)


def types_result(kwargs):
    class Result:
        def table(self):
            return f"| run | {kwargs['attention']} |"

        def figure(self):
            import matplotlib.pyplot as plt

            return plt.figure()

        def __str__(self):
            return f"fake result for {kwargs['attention']}"

    return Result()


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


@pytest.fixture
def panel(tmp_path):
    run = FakeRun()
    return course_panel.build_ablation_panel(run=run, profile=tiny_profile(), root=tmp_path), run


# --------------------------------------------------------------------------------------------------------------
# the panel
# --------------------------------------------------------------------------------------------------------------
def test_panel_has_one_control_per_switch_with_the_right_options(panel):
    p, _ = panel
    assert set(p.controls) == {"attention", "norm", "sccm", "scales", "route", "feat_disc"}
    assert isinstance(p.controls["attention"], ipywidgets.Dropdown)
    assert list(p.controls["attention"].options) == ["coordinate", "se", "none"]
    assert list(p.controls["norm"].options) == ["instance", "batch", "none"]
    assert isinstance(p.controls["scales"], ipywidgets.ToggleButtons)
    assert list(p.controls["scales"].options) == [3, 2, 1]
    assert list(p.controls["route"].options) == ["progressive", "direct", "direct_unet"]
    assert isinstance(p.controls["sccm"], ipywidgets.Checkbox) and isinstance(p.controls["feat_disc"],
                                                                             ipywidgets.Checkbox)
    assert p.values() == {"attention": "coordinate", "norm": "instance", "sccm": True, "scales": 3,
                          "route": "progressive", "feat_disc": True}        # the full model
    inside = list(walk(p.widget))
    assert isinstance(p.widget, ipywidgets.VBox)
    for part in (*p.controls.values(), p.button, p.output, p.retrain, p.status):
        assert any(part is w for w in inside)
    assert p.button.description == "Train / load"


def test_click_runs_the_ablation_function_with_the_switches(panel, tmp_path):
    p, run = panel
    p.set(attention="none", norm="batch", scales=1, sccm=False)
    p.button.click()                                             # what pressing the button does
    assert len(run.calls) == 1
    call = run.calls[0]
    assert {k: call[k] for k in ("attention", "norm", "scales", "sccm", "route", "feat_disc")} == {
        "attention": "none", "norm": "batch", "scales": 1, "sccm": False, "route": "progressive",
        "feat_disc": True}
    assert call["root"] == tmp_path and call["profile"] == tiny_profile() and call["retrain"] is False
    assert len(p.results) == 1 and p.last_error is None
    assert not p.button.disabled and p.button.description == "Train / load"


def test_retrain_checkbox_is_passed_once(panel):
    p, run = panel
    p.retrain.value = True
    p.click()
    p.click()
    assert [c["retrain"] for c in run.calls] == [True, False]


def test_failed_run_is_reported_not_raised(tmp_path):
    run = FakeRun(error=RuntimeError("out of memory"))
    p = course_panel.build_ablation_panel(run=run, profile=tiny_profile(), root=tmp_path)
    assert p.click() is None
    assert isinstance(p.last_error, RuntimeError) and p.results == []
    assert not p.button.disabled


def test_feature_discriminator_control_is_disabled_on_the_direct_route(panel):
    p, _ = panel
    assert not p.controls["feat_disc"].disabled
    p.set(route="direct")
    assert p.controls["feat_disc"].disabled
    assert p.switches().feat_disc is False
    assert not any(p.controls[name].disabled for name in ("attention", "norm", "sccm", "scales"))


def test_unet_route_disables_the_mpfnet_switches(panel):
    p, _ = panel
    p.set(route="direct_unet")
    assert all(p.controls[name].disabled for name in ("attention", "norm", "sccm", "scales", "feat_disc"))
    assert p.switches() == AblationSwitches(route="direct_unet")
    p.set(route="progressive")
    assert not any(p.controls[name].disabled for name in ("attention", "norm", "sccm", "scales", "feat_disc"))


def test_status_line_says_whether_the_switches_are_cached(panel, monkeypatch):
    p, _ = panel
    assert "will train" in p.status.value
    monkeypatch.setattr(course_panel, "_finished_checkpoint", lambda path: True)
    p.set(attention="se")
    assert "cached" in p.status.value and "attention=se" in p.status.value


def test_invalid_defaults_and_unknown_controls_raise(tmp_path):
    with pytest.raises(ValueError, match="attention"):
        course_panel.build_ablation_panel(run=FakeRun(), profile=tiny_profile(), root=tmp_path, attention="spatial")
    p = course_panel.build_ablation_panel(run=FakeRun(), profile=tiny_profile(), root=tmp_path, scales=2)
    assert p.controls["scales"].value == 2
    with pytest.raises(ValueError, match="unknown switch"):
        p.set(width=3)


def test_click_with_the_real_ablation_function(tmp_path):
    g = torch.Generator().manual_seed(0)
    data = [{"nir": torch.rand(1, 64, 64, generator=g) * 2 - 1, "rgb": torch.rand(3, 64, 64, generator=g) * 2 - 1,
             "name": f"p{i}"} for i in range(2)]
    run = functools.partial(run_ablation, compare_with_full=False, num_images=1, verbose=False)
    p = course_panel.build_ablation_panel(run=run, profile=tiny_profile(), root=tmp_path, data=data)
    p.set(route="direct", attention="none")
    result = p.click()
    assert isinstance(result, AblationResult), p.last_error
    assert result.switches.route == "direct" and result.switches.attention == "none"
    assert list(result.images) == ["NIR", "attention=none, route=direct", "ground truth"]
    assert math.isfinite(result.metrics["psnr"])
    assert "cached" in p.status.value                          # the status line now offers to load it


def test_ablation_panel_prints_the_default_run_without_a_frontend(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(course_panel.NO_WIDGETS_ENV_VAR, "1")
    assert not course_panel.live_frontend()
    run = FakeRun()
    out = course_panel.ablation_panel(profile="smoke", root=tmp_path, run=run, attention="se")
    assert str(out) == "fake result for se"
    assert "fake result for se" in capsys.readouterr().out
    assert run.calls[0]["attention"] == "se" and run.calls[0]["root"] == tmp_path


def test_live_frontend_is_false_under_pytest(monkeypatch):
    monkeypatch.delenv(course_panel.NO_WIDGETS_ENV_VAR, raising=False)
    assert course_panel.live_frontend() is False


def test_panel_figures_are_rendered_off_screen_and_closed():
    """The panel shows result figures as finished PNGs (no live figure left for the inline backend to flush)."""
    import matplotlib.pyplot as plt

    from course_lib.course.panel import _figure_as_png

    before = set(plt.get_fignums())

    def make():
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.imshow([[0.0, 1.0]])
        return fig

    image = _figure_as_png(make)
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(plt.get_fignums()) == before
