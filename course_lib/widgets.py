"""Notebook helpers of the course's second half (notebooks 07-11): the interactive ablation panel, run folders
that survive a Colab disconnect, and the pictures of training as it goes.

- :func:`ablation_panel` - the ipywidgets panel of notebook 10: switch attention type, InstanceNorm, SCCM, number
  of scales, route and feature discriminator (DESIGN.md section 2), press *Train / load*, and see the images and
  the Table-I metrics next to the full model's. The logic lives in :mod:`course_lib.ablation`
  (:func:`~course_lib.ablation.run_ablation`); the panel only collects the switches and shows the result. Where a
  widget cannot render (a plain terminal or script) it runs the default configuration and prints the result.
- :func:`notebook_profile` - the profile every training notebook uses (the machine's profile; in ``smoke`` a
  few steps fewer, so each notebook runs in about a minute on two CPU cores).
- :func:`default_run_dir` - ``./runs``, or a folder on Google Drive on Colab (checkpoints survive a disconnect).
- :func:`stop_after` - a training callback that "disconnects" after a given step, to show that training
  resumes from the stage checkpoint.
- :func:`show_stage_samples`, :func:`samples_browser` - the sample grids a stage saved while it trained.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from .ablation import (SWITCH_CHOICES, AblationSwitches, _finished_checkpoint, default_run_dir, in_colab,
                       run_ablation, run_folder, short_profile)

__all__ = [
    "ablation_panel",
    "AblationPanel",
    "build_ablation_panel",
    "default_run_dir",
    "notebook_profile",
    "stop_after",
    "stage_samples",
    "show_stage_samples",
    "samples_browser",
    "live_frontend",
    "NO_WIDGETS_ENV_VAR",
    "PAPER_TABLES",
    "compare_with_paper",
]

#: Set this environment variable to any non-empty value to get the text fallback instead of widgets.
NO_WIDGETS_ENV_VAR = "COURSE_NO_WIDGETS"

#: Step counts of the notebooks' ``smoke`` runs (CPU): enough to see every stage run, checkpoint and resume.
SMOKE_NOTEBOOK_STEPS = {"translate_steps": 4, "pretrain_steps": 8, "finetune_steps": 4, "direct_steps": 12}


# ----------------------------------------------------------------------------------------------------------------
# profiles and run folders
# ----------------------------------------------------------------------------------------------------------------
def notebook_profile(profile: Any = None, verbose: bool = True):
    """The profile of notebooks 07-11: ``course_lib.train.get_profile(profile)``, unchanged on a GPU; the
    ``smoke`` profile keeps its sizes (64 px, width 8, depth 3) with fewer steps and 8 training scenes, so each
    notebook runs in about a minute on two CPU cores. Every notebook uses this same profile, so the run folder
    one notebook trains is the one the next notebook loads. ``verbose``: print which profile and why.

    The environment variable ``COURSE_NOTEBOOK_STEPS`` (a positive integer N), when set, caps every stage at N
    steps (translate, pretrain, finetune and direct each train ``min(their steps, N)``; sampling, checkpoint and
    log intervals are cut to at most N), whatever the profile: ``benchmarks/gpu_check.sh`` runs the notebooks
    under nbval at the ``course`` sizes this way. Any other value raises ValueError naming the variable."""
    import torch

    from .train import get_profile
    from .train.profiles import PROFILE_ENV_VAR

    base = get_profile(profile, verbose=False)
    if profile is not None:
        why = "as requested"
    elif os.environ.get(PROFILE_ENV_VAR, "").strip():
        why = f"from the {PROFILE_ENV_VAR} environment variable"
    else:
        why = "default on a CUDA machine" if torch.cuda.is_available() else "default without CUDA"
    chosen = base
    if base.name == "smoke":
        steps = SMOKE_NOTEBOOK_STEPS
        chosen = base.replace(num_train=8, num_test=4, sample_every=2, checkpoint_every=max(steps.values()),
                              **steps)
    steps_env = "COURSE_NOTEBOOK_STEPS"
    cap_text = os.environ.get(steps_env, "").strip()
    if cap_text:
        cap = int(cap_text) if cap_text.isdigit() else 0
        if cap < 1:
            raise ValueError(f"{steps_env}: expected a positive integer, the most steps any stage trains in the "
                             f"notebooks (e.g. {steps_env}=40), got {cap_text!r}; unset it to train the "
                             "profile's steps")
        fields = ("translate_steps", "pretrain_steps", "finetune_steps", "direct_steps")
        chosen = chosen.replace(**{k: min(getattr(chosen, k), cap) for k in fields},
                                sample_every=min(chosen.sample_every, cap),
                                checkpoint_every=min(chosen.checkpoint_every, cap),
                                log_every=min(chosen.log_every, cap))
    if verbose:
        note = " (the notebooks' short version)" if chosen.name == "smoke" and chosen is not base else ""
        if cap_text:
            note += f" (every stage at most {cap_text} steps: {steps_env})"
        print(f"Training profile: {chosen.name}{note} ({why}): {chosen.image_size} px, width {chosen.width}, depth "
              f"{chosen.depth}, batch {chosen.batch_size}, {chosen.num_train} training images, steps translate "
              f"{chosen.translate_steps} / pretrain {chosen.pretrain_steps} / finetune {chosen.finetune_steps} / "
              f"direct {chosen.direct_steps}")
    return chosen


def stop_after(step: int) -> Callable[[int, dict], None]:
    """A training callback that interrupts the stage after step ``step``, as a Colab disconnect would (the stage
    saves its checkpoint first and raises ``course_lib.train.TrainingInterrupted``). Calling the stage again
    resumes from that step."""
    if not isinstance(step, int) or step < 1:
        raise ValueError(f"step: expected a positive integer, got {step!r}")

    def callback(current: int, losses: dict) -> None:
        if current >= step:
            raise KeyboardInterrupt(f"simulated disconnect after step {current}")

    return callback


# ----------------------------------------------------------------------------------------------------------------
# samples saved during training
# ----------------------------------------------------------------------------------------------------------------
_STEP_FILE = re.compile(r"step_(\d+)\.png$")


def stage_samples(stage_dir: str | os.PathLike) -> dict[int, Path]:
    """The sample grids a stage saved: ``{step: path}`` from ``<stage_dir>/samples/step_*.png`` (or
    ``stage_dir`` itself when it is the samples folder), sorted by step. FileNotFoundError if there are none."""
    folder = Path(stage_dir)
    if (folder / "samples").is_dir():
        folder = folder / "samples"
    found = {}
    if folder.is_dir():
        for path in folder.iterdir():
            match = _STEP_FILE.search(path.name)
            if match:
                found[int(match.group(1))] = path
    if not found:
        raise FileNotFoundError(f"stage_dir: no samples/step_*.png under {stage_dir} (train the stage first)")
    return dict(sorted(found.items()))


def _pick(steps: list[int], count: int) -> list[int]:
    if count >= len(steps):
        return steps
    if count == 1:
        return [steps[-1]]
    index = [round(i * (len(steps) - 1) / (count - 1)) for i in range(count)]
    return [steps[i] for i in sorted(set(index))]


def show_stage_samples(stage_dir: str | os.PathLike, max_steps: int = 3, width: float = 7.0, dpi: int = 80):
    """Draw up to ``max_steps`` of a stage's saved sample grids (first, evenly spaced, last), one above the
    other, titled by step: the stage's images as training goes. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt
    from PIL import Image

    samples = stage_samples(stage_dir)
    chosen = _pick(list(samples), max(1, int(max_steps)))
    images = [Image.open(samples[s]).convert("RGB") for s in chosen]
    aspect = images[0].height / images[0].width
    fig, axes = plt.subplots(len(images), 1, figsize=(width, width * aspect * len(images) + 0.3 * len(images)),
                             dpi=dpi, squeeze=False)
    for ax, step, image in zip(axes[:, 0], chosen, images):
        ax.imshow(image)
        ax.set_title(f"step {step}", fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def samples_browser(stage_dir: str | os.PathLike):
    """A slider over a stage's saved sample grids (ipywidgets); in a terminal, the figure of
    :func:`show_stage_samples`."""
    samples = stage_samples(stage_dir)
    if not live_frontend():
        return show_stage_samples(stage_dir)
    import ipywidgets as widgets

    steps = list(samples)
    slider = widgets.SelectionSlider(options=steps, value=steps[-1], description="step",
                                     continuous_update=False)
    image = widgets.Image(value=samples[steps[-1]].read_bytes(), format="png")

    def update(change: Mapping) -> None:
        image.value = samples[change["new"]].read_bytes()

    slider.observe(update, names="value")
    return widgets.VBox([slider, image])


# ----------------------------------------------------------------------------------------------------------------
# the ablation panel
# ----------------------------------------------------------------------------------------------------------------
def live_frontend() -> bool:
    """True in a Jupyter kernel (notebook, lab, Colab) where widgets can render; False in a terminal, a script,
    or when the ``COURSE_NO_WIDGETS`` environment variable is set."""
    if os.environ.get(NO_WIDGETS_ENV_VAR):
        return False
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except AttributeError:
        return False
    if shell is None or type(shell).__name__ not in ("ZMQInteractiveShell", "Shell"):  # "Shell": Colab's
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


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
    "route": "progressive: NIR -> gray -> RGB (Fig. 1); direct: NIR -> RGB with the same network",
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
        results: every :class:`~course_lib.ablation.AblationResult` produced, in order; ``last_error``: the last
            exception raised by the run function (shown in the output, not raised).
    Args:
        run: the function called on *Train / load* with the switches as keyword arguments plus ``retrain``,
            ``profile``, ``root`` and ``data`` (default :func:`course_lib.ablation.run_ablation`).
        profile, root, data: passed to ``run`` (profile default: ``short_profile(get_profile())``; root default:
            ``default_run_dir() / "ablation"``).
        defaults: initial switch values (default: the full model).
    """

    def __init__(self, run: Callable[..., Any] = run_ablation, profile: Any = None,
                 root: str | os.PathLike | None = None, data: Any = None, **defaults: Any):
        import ipywidgets as widgets

        from .train import get_profile

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
        last = "finetune" if switches.route == "progressive" else "direct"
        return _finished_checkpoint(run_folder(switches, self.profile, self.root, self.data) / last
                                    / "checkpoint.pt")

    def _on_change(self, change: Mapping | None = None) -> None:
        self.controls["feat_disc"].disabled = self.controls["route"].value == "direct"
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
    SCCM, number of scales (1 / 2 / 3), route (progressive / direct) and the feature discriminator; the *Train /
    load* button calls ``run`` (:func:`course_lib.ablation.run_ablation`) with them, which trains a short run (a
    ``tqdm.auto`` bar per stage) or loads it from ``root`` when that configuration was trained before, and shows
    the images and metrics next to the full model's.

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


# ----------------------------------------------------------------------------------------------------------------
# the paper's tables, for comparison (notebook 11)
# ----------------------------------------------------------------------------------------------------------------
#: The paper's Table I (VCIP 2020 test set) and Table II (EPFL), typed in: method -> (PSNR, SSIM, AE, LPIPS);
#: None where the paper gives no value.
PAPER_TABLES: dict[str, dict[str, tuple]] = {
    "vcip2020": {
        "NIR-GNN [8]": (17.50, 0.60, 5.22, 0.384),
        "MF [9]": (17.39, 0.61, 4.69, 0.318),
        "SST [12]": (14.26, 0.57, 5.61, 0.361),
        "ATCycleGAN [7]": (19.59, 0.59, 4.33, 0.295),
        "MPFNet (paper)": (22.14, 0.63, 3.68, 0.253),
    },
    "epfl": {
        "ATCycleGAN [7]": (16.89, 0.53, 5.64, 0.382),
        "DualGAN [13]": (17.80, 0.62, None, None),
        "MPFNet (paper)": (20.61, 0.61, 4.16, 0.274),
    },
}
PAPER_TABLE_NAMES = {"vcip2020": "Table I (VCIP 2020)", "epfl": "Table II (EPFL RGB-NIR Scene)"}
_METRICS = ("psnr", "ssim", "ae", "lpips")
_DECIMALS = {"psnr": 2, "ssim": 2, "ae": 2, "lpips": 3}


def compare_with_paper(results: Mapping[str, Any], dataset: str = "vcip2020") -> str:
    """A Markdown table: the paper's rows of Table I (``dataset="vcip2020"``) or Table II (``"epfl"``), then our
    rows (``{method: course_lib.metrics.EvaluationResult}``, means; "n/a" where a metric is missing).
    ValueError for another dataset name."""
    import math

    if dataset not in PAPER_TABLES:
        raise ValueError(f"dataset: expected one of {sorted(PAPER_TABLES)}, got {dataset!r}")

    def cell(metric: str, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        return f"{value:.{_DECIMALS[metric]}f}"

    lines = ["| Methods | PSNR (↑) | SSIM (↑) | AE (↓) | LPIPS (↓) | source |", "| --- | --- | --- | --- | --- | --- |"]
    for method, values in PAPER_TABLES[dataset].items():
        lines.append(f"| {method} | " + " | ".join(cell(m, v) for m, v in zip(_METRICS, values))
                     + f" | paper, {PAPER_TABLE_NAMES[dataset]} |")
    for method, result in results.items():
        summary = result.summary
        lines.append(f"| {method} | " + " | ".join(cell(m, summary[m][0]) for m in _METRICS) + " | this run |")
    return "\n".join(lines) + "\n"
