"""The interactive ablation panel of notebook 10 (ipywidgets).

:func:`ablation_panel`: switch attention type, InstanceNorm, SCCM, number of scales, route and feature
discriminator, press *Train / load*, and see the images and the Table-I metrics next to the full model's. The
logic lives in :mod:`course_lib.course.ablation` (:func:`~course_lib.course.ablation.run_ablation`); the panel
only collects the switches and shows the result. Where a widget cannot render (a plain terminal or script, or
``COURSE_NO_WIDGETS`` set: :func:`~course_lib.course.frontend.live_frontend`) it runs the default configuration and
prints the result. :class:`AblationPanel` is the panel itself (its controls, its results), :func:`build_ablation_panel`
builds one without a frontend (tests, scripts).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

from .ablation import (ARCHITECTURE_SWITCHES, ROUTE_STAGES, SWITCH_CHOICES, AblationSwitches, _finished_checkpoint,
                       default_run_dir, in_colab, run_ablation, run_folder, short_profile)
from .frontend import NO_WIDGETS_ENV_VAR, live_frontend

__all__ = ["ablation_panel", "AblationPanel", "build_ablation_panel", "live_frontend", "NO_WIDGETS_ENV_VAR"]

_LABELS = {
    "attention": "attention",
    "norm": "norm",
    "sccm": "SCCM",
    "scales": "scales",
    "route": "route",
    "feat_disc": "D_G^feat",
}
_HELP = {
    "attention": "RCAB's attention (Fig. 2(b)): coordinate (paper), squeeze-excitation, none",
    "norm": "normalisation of the FEB steps (Fig. 2(c)): instance (paper), batch, none",
    "sccm": "supervised colour-consistency module (Fig. 2(a)); off: a plain conv head",
    "scales": "number of scales of MPFNet (Fig. 2(a)); the paper uses 3",
    "route": ("progressive: NIR -> gray -> RGB (Fig. 1); direct: NIR -> RGB with the same network; direct_unet: "
              "NIR -> RGB with the pix2pix UNet baseline"),
    "feat_disc": "feature discriminator of Eq. (4) during fine-tuning (progressive route only)",
}


def _figure_as_png(make_figure: Callable[[], Any]) -> Any:
    """Draw a matplotlib figure off-screen and return it as an IPython PNG image.

    Inside a widget callback, JupyterLab 4 with ipykernel 7 may run the inline backend's end-of-cell flush on
    another thread (comms over subshells) while the callback is still building the figure; displaying the live
    figure then showed blank or misaligned panels. Rendering to PNG bytes with interactive mode off leaves no
    half-built figure for that flush to draw.
    """
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image

    with plt.ioff():
        fig = make_figure()
        buffer = io.BytesIO()
        try:
            fig.savefig(buffer, format="png", bbox_inches="tight")
        finally:
            plt.close(fig)
    return Image(data=buffer.getvalue(), format="png")


class AblationPanel:
    """The widgets of the ablation panel and what they run.

    Attributes:
        controls: switch name -> widget (``attention``, ``norm``: Dropdown; ``sccm``, ``feat_disc``: Checkbox;
            ``scales``, ``route``: ToggleButtons); ``retrain``: Checkbox; ``button``: the *Train / load* Button;
            ``status``: an HTML line (whether the current switches are cached); ``output``: the Output widget
            where results appear; ``widget``: the whole panel (a VBox) to display.
        results: every :class:`~course_lib.course.ablation.AblationResult` produced, in order; ``last_error``: the last
            exception raised by the run function (shown in the output, not raised).
    Args:
        run: the function called on *Train / load* with the switches as keyword arguments plus ``retrain``,
            ``profile``, ``root`` and ``data`` (default :func:`course_lib.course.ablation.run_ablation`).
        profile, root, data: passed to ``run`` (profile default: ``short_profile(get_profile())``; root default:
            ``default_run_dir() / "ablation"``).
        defaults: initial switch values (default: the full model).
    """

    def __init__(self, run: Callable[..., Any] = run_ablation, profile: Any = None,
                 root: str | os.PathLike | None = None, data: Any = None, **defaults: Any):
        import ipywidgets as widgets

        from ..train import get_profile

        start = AblationSwitches(**defaults)  # validates the defaults (ValueError naming the switch)
        self.run_function = run
        self.profile = short_profile(get_profile(verbose=False)) if profile is None else get_profile(
            profile, verbose=False)
        self.root = Path(root) if root is not None else default_run_dir() / "ablation"
        self.data = data
        self.results: list[Any] = []
        self.last_error: BaseException | None = None
        style = {"description_width": "80px"}
        self.controls = {
            "attention": widgets.Dropdown(options=list(SWITCH_CHOICES["attention"]), value=start.attention,
                                          description=_LABELS["attention"], style=style),
            "norm": widgets.Dropdown(options=list(SWITCH_CHOICES["norm"]), value=start.norm,
                                     description=_LABELS["norm"], style=style),
            "sccm": widgets.Checkbox(value=start.sccm, description=_LABELS["sccm"], indent=False),
            "scales": widgets.ToggleButtons(options=list(SWITCH_CHOICES["scales"]), value=start.scales,
                                            description=_LABELS["scales"], style=style),
            "route": widgets.ToggleButtons(options=list(SWITCH_CHOICES["route"]), value=start.route,
                                           description=_LABELS["route"], style=style),
            "feat_disc": widgets.Checkbox(value=start.feat_disc if start.route == "progressive" else True,
                                          description=_LABELS["feat_disc"], indent=False),
        }
        for name, control in self.controls.items():
            control.tooltip = _HELP[name]
            control.observe(self._on_change, names="value")
        self.retrain = widgets.Checkbox(value=False, description="retrain (ignore the cached run)", indent=False)
        self.button = widgets.Button(description="Train / load", button_style="primary", icon="play",
                                     tooltip="train this configuration (or load it if it was trained before) "
                                             "and compare it with the full model")
        self.button.on_click(self._on_click)
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.widget = widgets.VBox([
            widgets.HTML(f"<b>MPFNet ablation panel</b> (profile <code>{self.profile.name}</code>, "
                         f"runs cached in <code>{self.root}</code>)"),
            widgets.HBox([self.controls["attention"], self.controls["norm"]]),
            self.controls["scales"],
            self.controls["route"],
            widgets.HBox([self.controls["sccm"], self.controls["feat_disc"], self.retrain]),
            widgets.HBox([self.button, self.status]),
            self.output,
        ])
        self._on_change()

    # -- state ------------------------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The switches as set in the controls (keyword arguments of ``run_ablation``)."""
        return {name: control.value for name, control in self.controls.items()}

    def switches(self) -> AblationSwitches:
        return AblationSwitches(**self.values())

    def set(self, **values: Any) -> None:
        """Set controls programmatically (``panel.set(attention="none")``); ValueError on unknown names."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown switch(es) {unknown}; expected some of {sorted(self.controls)}")
        for name, value in values.items():
            self.controls[name].value = value

    def is_cached(self, switches: AblationSwitches | None = None) -> bool:
        """Whether the switches (default: the current ones) have a finished run under ``root`` (pressing the
        button loads it)."""
        switches = switches if switches is not None else self.switches()
        last = ROUTE_STAGES[switches.route][-1]
        return _finished_checkpoint(run_folder(switches, self.profile, self.root, self.data) / last
                                    / "checkpoint.pt")

    def _on_change(self, change: Mapping | None = None) -> None:
        route = self.controls["route"].value
        self.controls["feat_disc"].disabled = route != "progressive"
        for name in ARCHITECTURE_SWITCHES:            # the UNet baseline has no MPFNet switches
            self.controls[name].disabled = route == "direct_unet"
        # Read the controls once: label and cached flag must describe the same switches. Change handlers may run
        # on several threads (JupyterLab comms over subshells), so only a call whose switches are still current
        # when it finishes may write the status line.
        switches = self.switches()
        try:
            cached = self.is_cached(switches)
        except Exception:  # noqa: BLE001 - the status line is a hint, never an error
            cached = False
        if self.switches() != switches:
            return  # the controls changed meanwhile; the newer call writes the status
        self.status.value = (f"<i>{switches.label()}</i>: " + ("cached, will load" if cached else
                                                               "not trained yet, will train (a short run)"))

    # -- running ----------------------------------------------------------------------------------------------
    def _on_click(self, button: Any = None) -> None:
        from IPython.display import Markdown, display

        self.button.disabled = True
        self.button.description = "running..."
        self.last_error = None
        with self.output:
            self.output.clear_output(wait=True)
            try:
                result = self.run_function(**self.values(), retrain=self.retrain.value, profile=self.profile,
                                           root=self.root, data=self.data)
            except Exception as error:  # noqa: BLE001 - shown in the panel; the panel stays usable
                self.last_error = error
                print(f"The run failed: {type(error).__name__}: {error}")
            else:
                self.results.append(result)
                table = getattr(result, "table", None)
                display(Markdown(table()) if callable(table) else result)
                figure = getattr(result, "figure", None)
                if callable(figure):
                    display(_figure_as_png(figure))
        self.button.disabled = False
        self.button.description = "Train / load"
        self.retrain.value = False
        self._on_change()

    def click(self) -> Any:
        """Press *Train / load* from code; returns the new result (None if the run failed)."""
        count = len(self.results)
        self.button.click()
        return self.results[-1] if len(self.results) > count else None

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def build_ablation_panel(run: Callable[..., Any] = run_ablation, profile: Any = None,
                         root: str | os.PathLike | None = None, data: Any = None, **defaults: Any) -> AblationPanel:
    """Build the panel's widgets (always, also without a frontend: for tests and scripts). See
    :class:`AblationPanel`."""
    if in_colab():
        try:  # Colab renders ipywidgets 8 through its custom widget manager
            from google.colab import output  # type: ignore[import-not-found]

            output.enable_custom_widget_manager()
        except Exception:  # noqa: BLE001
            pass
    return AblationPanel(run=run, profile=profile, root=root, data=data, **defaults)


def ablation_panel(profile: Any = None, root: str | os.PathLike | None = None, data: Any = None, *,
                   run: Callable[..., Any] = run_ablation, **defaults: Any):
    """The interactive ablation panel of notebook 10.

    In a live Jupyter frontend (notebook, lab, Colab) it returns the panel's widget (an ipywidgets VBox whose
    ``.panel`` attribute is the :class:`AblationPanel`, e.g. ``.panel.results``):
    dropdowns and toggles for attention type (coordinate / se / none), InstanceNorm (instance / batch / none),
    SCCM, number of scales (1 / 2 / 3), route (progressive / direct / direct_unet) and the feature discriminator;
    the *Train / load* button calls ``run`` (:func:`course_lib.course.ablation.run_ablation`) with them, which
    trains a short run (a ``tqdm.auto`` bar per stage) or loads it from ``root`` when that configuration was
    trained before, and shows the images and metrics next to the full model's.

    Where no widget can render (a terminal, a script, or ``COURSE_NO_WIDGETS`` set) it calls ``run`` once with
    the default switches (or ``defaults``), prints the result and returns it.
    """
    if live_frontend():
        panel = build_ablation_panel(run=run, profile=profile, root=root, data=data, **defaults)
        panel.widget.panel = panel  # the AblationPanel behind the widget (its results, its controls)
        return panel.widget
    result = run(**defaults, profile=profile, root=root, data=data)
    print(result)
    return result
