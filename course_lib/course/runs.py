"""Training runs in the notebooks (07-11): the profile they train, where runs go, a simulated disconnect, and
the sample grids a stage saved while it trained.

- :func:`train_default` - the notebooks' ``TRAIN`` switch: train here (a GPU) or show the shipped weights (a CPU);
  ``COURSE_TRAIN`` overrides.
- :func:`notebook_profile` - the profile every training notebook uses (the machine's profile; in ``smoke`` a
  few steps fewer, :data:`SMOKE_NOTEBOOK_STEPS`, so each notebook runs in about a minute on two CPU cores).
- :func:`default_run_dir` - ``./runs``, or a folder on Google Drive on Colab (checkpoints survive a disconnect);
  :func:`in_colab` (the ablation runner uses both).
- :func:`stop_after` - a training callback that "disconnects" after a given step, to show that training
  resumes from the stage checkpoint.
- :func:`stage_samples`, :func:`show_stage_samples`, :func:`samples_browser` - the sample grids a stage saved.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from .frontend import live_frontend

__all__ = [
    "train_default",
    "TRAIN_ENV_VAR",
    "notebook_profile",
    "SMOKE_NOTEBOOK_STEPS",
    "default_run_dir",
    "in_colab",
    "stop_after",
    "stage_samples",
    "show_stage_samples",
    "samples_browser",
]

#: Where runs go on Google Drive (Colab): they survive a disconnect of the Colab machine.
DRIVE_MOUNT = Path("/content/drive")
DRIVE_RUNS = DRIVE_MOUNT / "MyDrive" / "nir-course" / "runs"


def in_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


def default_run_dir(use_drive: bool = True) -> Path:
    """The root folder for training runs.

    On Colab with ``use_drive=True``: mounts Google Drive (asks for permission once) and returns
    ``/content/drive/MyDrive/nir-course/runs``, so checkpoints survive a disconnect of the Colab machine and the
    training functions resume from them. Elsewhere (or ``use_drive=False``): ``./runs`` (git-ignored). The
    folder is created.
    """
    if use_drive and in_colab():
        if not (DRIVE_MOUNT / "MyDrive").is_dir():
            from google.colab import drive  # type: ignore[import-not-found]

            drive.mount(str(DRIVE_MOUNT))
        path = DRIVE_RUNS
    else:
        path = Path("runs")
    path.mkdir(parents=True, exist_ok=True)
    return path

#: Step counts of the notebooks' ``smoke`` runs (CPU): enough to see every stage run, checkpoint and resume.
SMOKE_NOTEBOOK_STEPS = {"translate_steps": 4, "pretrain_steps": 8, "finetune_steps": 4, "direct_steps": 12}


# ----------------------------------------------------------------------------------------------------------------
# the notebooks' TRAIN switch
# ----------------------------------------------------------------------------------------------------------------
#: The environment variable that sets the notebooks' ``TRAIN`` switch (see :func:`train_default`).
TRAIN_ENV_VAR = "COURSE_TRAIN"
_TRAIN_VALUES = {"1": True, "true": True, "0": False, "false": False}


def train_default() -> bool:
    """The default of the ``TRAIN`` switch of notebooks 07-11: True when CUDA is available, else False.

    With ``TRAIN = False`` (a CPU) a notebook's result sections show the weights shipped with course_lib (trained
    on VCIP 2020, :mod:`course_lib.course.showcase`) on real NIR photos, while its training cells still run the
    procedure at the profile's size (``smoke`` on a CPU: seconds); with ``TRAIN = True`` they show the networks
    the notebook trained (the ``course`` profile on a GPU).

    The environment variable ``COURSE_TRAIN`` overrides the default: ``1`` or ``true`` trains, ``0`` or ``false``
    shows the shipped weights (case-insensitive, surrounding spaces ignored; empty counts as unset). Any other
    value raises ValueError naming the variable and the accepted values.
    """
    text = os.environ.get(TRAIN_ENV_VAR, "").strip()
    if text:
        value = _TRAIN_VALUES.get(text.lower())
        if value is None:
            raise ValueError(f"{TRAIN_ENV_VAR}: expected 1, 0, true or false (any case), got {text!r}; unset it to "
                             "train on a GPU and show the shipped weights on a CPU")
        return value
    import torch

    return bool(torch.cuda.is_available())


# ----------------------------------------------------------------------------------------------------------------
# the notebooks' profile
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

    from ..train import get_profile
    from ..train.profiles import PROFILE_ENV_VAR

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
