"""The ablation study behind notebook 10's panel: switches -> configs -> a short training run -> images + metrics.

The paper's claims rest on two kinds of comparison: the progressive, gray-guided route of Fig. 1 against direct
NIR -> RGB translation (Section II.A), and the parts of MPFNet (Fig. 2): coordinate attention in the RCAB
(Fig. 2(b)), InstanceNorm in the FEB (Fig. 2(c)), the SCCM and the number of scales (Fig. 2(a)), the feature
discriminator D_G^feat of Eq. (4). :class:`AblationSwitches` names one point of that space, and
:func:`run_ablation` trains it (or loads it: runs are cached by configuration under a root folder), evaluates it
with the metrics of Table I (``course_lib.metrics.evaluate``) and returns the colorized test images next to the
full model's, so a student sees what a switch changes.

    from course_lib.course.ablation import run_ablation
    result = run_ablation(attention="none", profile="smoke")      # trains once, loads afterwards
    print(result)                 # the Table-I-style rows: this configuration and the full model
    fig = result.figure()         # NIR | this configuration | full model | ground truth

The switches map onto the training configs of ``course_lib.train`` (``make_configs``) and are applied to every
MPFNet of the route (G_N2G, G_G2N and F_G), because the paper uses one network design for the translator and the
colorizer:

==============  ==========================================  ============================================
switch          values (first = the paper's model)          config field(s)
==============  ==========================================  ============================================
``attention``   ``"coordinate"``, ``"se"``, ``"none"``          ``attention`` (RCAB, Fig. 2(b))
``norm``        ``"instance"``, ``"batch"``, ``"none"``         ``norm`` (FEB steps, Fig. 2(c))
``sccm``        ``True``, ``False``                           ``sccm`` (Fig. 2(a); False: a plain head)
``scales``      ``3``, ``2``, ``1``                             ``scales`` (Fig. 2(a))
``route``       ``"progressive"``, ``"direct"``,                translate + pretrain + finetune, or
                ``"direct_unet"``                           ``train_direct(model="mpfnet")``, or the pix2pix
                                                            ``UNetBaseline`` (``train_direct(model="unet")``)
``feat_disc``   ``True``, ``False``                           ``use_feat_disc`` (Eq. (4)); progressive only
==============  ==========================================  ============================================

A run's folder is ``root/<slug>-<hash>``: the hash covers the switches, the seed, the profile's sizes and step
counts and the data, so the same switches with the same settings load the finished checkpoint instead of
training again, and an interrupted run resumes (the stages resume from their checkpoints).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from tqdm.auto import tqdm

from .runs import default_run_dir, in_colab  # where runs go (re-exported: the runner's default root)

__all__ = [
    "SWITCH_CHOICES",
    "AblationSwitches",
    "FULL_MODEL",
    "AblationResult",
    "default_run_dir",
    "short_profile",
    "switches_to_configs",
    "build_colorizer_network",
    "run_folder",
    "train_or_load",
    "run_ablation",
    "in_colab",
    "describe_switches",
]

#: The values each switch takes; the first value of each is the paper's full model.
SWITCH_CHOICES: dict[str, tuple] = {
    "attention": ("coordinate", "se", "none"),
    "norm": ("instance", "batch", "none"),
    "sccm": (True, False),
    "scales": (3, 2, 1),
    "route": ("progressive", "direct", "direct_unet"),
    "feat_disc": (True, False),
}

#: Stages a route trains, in order; the last one holds the colorizer.
ROUTE_STAGES = {"progressive": ("translate", "pretrain", "finetune"), "direct": ("direct",),
                "direct_unet": ("direct_unet",)}
#: The switches that shape an MPFNet; the UNet baseline (route ``"direct_unet"``) has none of them.
ARCHITECTURE_SWITCHES = ("attention", "norm", "sccm", "scales")


# ----------------------------------------------------------------------------------------------------------------
# switches
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AblationSwitches:
    """One configuration of the ablation study (defaults: the paper's MPFNet, trained progressively).

    Attributes: see the module docstring's table. ``feat_disc`` only exists on the progressive route (a direct
    route has no fine-tuning stage): it is stored as ``False`` there, so the two direct runs share one folder.
    Likewise the UNet baseline (``route="direct_unet"``) has no MPFNet switches: they are stored at the paper's
    values.
    Invalid values raise ValueError naming the switch and the valid values.
    """

    attention: str = "coordinate"
    norm: str = "instance"
    sccm: bool = True
    scales: int = 3
    route: str = "progressive"
    feat_disc: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for name, choices in SWITCH_CHOICES.items():
            value = getattr(self, name)
            # bool is an int subclass: keep True/False out of `scales` and 0/1 out of the boolean switches
            valid = any(value == c and type(value) is type(c) for c in choices)
            if not valid:
                raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed: expected an integer, got {self.seed!r}")
        if self.route != "progressive" and self.feat_disc:
            object.__setattr__(self, "feat_disc", False)  # no D_G^feat without the fine-tuning stage
        if self.route == "direct_unet":
            for name in ARCHITECTURE_SWITCHES:        # the UNet has no attention, SCCM or scales to switch
                object.__setattr__(self, name, SWITCH_CHOICES[name][0])

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def differences(self, other: "AblationSwitches" | None = None) -> dict[str, Any]:
        """The switches that differ from ``other`` (default: the full model), as name -> this value."""
        other = other or FULL_MODEL
        return {k: v for k, v in self.to_dict().items() if k != "seed" and v != getattr(other, k)
                and not (k == "feat_disc" and self.route != "progressive")}

    def is_full_model(self) -> bool:
        return not self.differences()

    def label(self) -> str:
        """A short name for tables: ``"full model"`` or the switches that differ, e.g. ``"attention=none"``."""
        diff = self.differences()
        if not diff:
            return "full model (MPFNet, progressive)"
        return ", ".join(f"{k}={v}" for k, v in diff.items())

    def slug(self) -> str:
        """A readable folder name, e.g. ``coordinate-instance-sccm-s3-progressive-fd``."""
        return "-".join([self.attention, self.norm, "sccm" if self.sccm else "nosccm", f"s{self.scales}",
                         self.route, "fd" if self.feat_disc else "nofd", f"seed{self.seed}"])

    def overrides(self) -> dict[str, Any]:
        """The fields of the training configs these switches set (``course_lib.train.make_configs``)."""
        return {"attention": self.attention, "norm": self.norm, "sccm": self.sccm, "scales": self.scales,
                "use_feat_disc": self.feat_disc, "seed": self.seed}


FULL_MODEL = AblationSwitches()


def _as_switches(switches: AblationSwitches | Mapping[str, Any] | None = None, **values: Any) -> AblationSwitches:
    if isinstance(switches, AblationSwitches):
        return dataclasses.replace(switches, **values) if values else switches
    merged = dict(switches or {})
    merged.update(values)
    known = {f.name for f in dataclasses.fields(AblationSwitches)}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ValueError(f"unknown switch(es) {unknown}; expected some of {sorted(known)}")
    return AblationSwitches(**merged)


def switches_to_configs(switches: AblationSwitches | Mapping[str, Any] | None = None, profile: Any = None,
                        **values: Any) -> dict:
    """The stage configs of a configuration: ``{"translate", "pretrain", "finetune", "direct"}`` ->
    ``TranslateConfig`` ... ``DirectConfig`` (``course_lib.train.make_configs`` with :meth:`overrides`, starting
    from ``profile``'s recipe when one is given, as the profile's own runs do)."""
    from ..train import make_configs

    return make_configs(profile, **_as_switches(switches, **values).overrides())


# ----------------------------------------------------------------------------------------------------------------
# profiles for short runs
# ----------------------------------------------------------------------------------------------------------------
def short_profile(profile: Any = None, fraction: float | None = None, steps: int | None = None):
    """A profile for the ablation's short runs: the same sizes, fewer steps.

    ``steps``: ``steps`` pre-training steps, the other stages by the one budget rule
    (:meth:`Profile.with_budget`, ``course_lib.train.profiles.stage_budget``: finetune = steps // 2 (// 12 in
    ``cpu``: the profile's ``finetune_share``), direct = pretrain + finetune, translate in the profile's
    proportion). Otherwise ``fraction`` of each stage's steps (default: 1/2 in ``smoke``, 1/5 in the other
    profiles) by :meth:`Profile.scaled`, the same rule.
    The name gets a ``-short`` suffix; checkpoints, samples and log intervals are clipped to the new lengths.
    """
    from ..train import get_profile

    base = get_profile(profile, verbose=False)
    if steps is not None:
        return base.with_budget(int(steps)).replace(name=f"{base.name}-short")
    if fraction is None:
        fraction = 0.5 if base.name.startswith("smoke") else 0.2
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    return base.scaled(fraction).replace(name=f"{base.name}-short")  # the one budget rule (profiles.stage_budget)


def build_colorizer_network(switches: AblationSwitches | Mapping[str, Any] | None = None, profile: Any = "smoke",
                            **values: Any) -> torch.nn.Module:
    """The (untrained) colorizer network a configuration trains: F_G (gray -> RGB) on the progressive route, the
    direct NIR -> RGB MPFNet on the direct route; built from the same spec the training stage uses."""
    from ..train import get_profile
    from ..train.configs import build_model, mpfnet_spec, unet_spec

    sw = _as_switches(switches, **values)
    configs = switches_to_configs(sw)
    profile = get_profile(profile, verbose=False)
    if sw.route == "direct_unet":
        return build_model(unet_spec(1, 3, profile, configs["direct"]))
    config = configs["pretrain"] if sw.route == "progressive" else configs["direct"]
    return build_model(mpfnet_spec(1, 3, profile, config))


# ----------------------------------------------------------------------------------------------------------------
# run folders, training, loading
# ----------------------------------------------------------------------------------------------------------------
_PROFILE_KEYS = ("image_size", "width", "depth", "batch_size", "lr", "num_train", "num_test", "translate_steps",
                 "pretrain_steps", "finetune_steps", "direct_steps")


def _data_description(data: Any) -> str:
    if data is None:
        return "spectral"
    if isinstance(data, (str, os.PathLike)):
        return str(Path(data).resolve())
    return type(data).__name__ + f"[{len(data)}]" if hasattr(data, "__len__") else type(data).__name__


def run_folder(switches: AblationSwitches, profile: Any, root: str | os.PathLike, data: Any = None) -> Path:
    """``root/<switches.slug()>-<hash>``: the hash covers the switches, the profile's sizes and step counts, and
    the data, so two runs share a folder exactly when they would train the same thing. (An in-memory dataset is
    identified by its type and length only: give different ones different roots, or pass a folder.)"""
    key = {"switches": switches.to_dict(), "profile": {k: getattr(profile, k) for k in _PROFILE_KEYS},
           "data": _data_description(data)}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]
    return Path(root) / f"{switches.slug()}-{digest}"


def _finished_checkpoint(path: Path) -> bool:
    from ..train import load_checkpoint

    if not path.is_file():
        return False
    try:
        ckpt = load_checkpoint(path)
    except Exception:  # noqa: BLE001 - unreadable or foreign file: train again (the stage reports it then)
        return False
    return bool(ckpt.get("finished", False))


def train_or_load(switches: AblationSwitches | Mapping[str, Any] | None = None, profile: Any = None,
                  root: str | os.PathLike | None = None, data: Any = None, *, data_kind: str = "auto",
                  retrain: bool = False, device: str | torch.device | None = None,
                  verbose: bool = True, timings: dict | None = None) -> tuple[torch.nn.Module, Path, bool]:
    """The trained colorizer of a configuration: loaded if its run folder holds a finished checkpoint, else
    trained there (resuming an interrupted run).

    Returns ``(colorizer, run_dir, cached)``: a NIR -> RGB module in eval mode (``ProgressiveColorizer`` or
    ``DirectColorizer``), the run folder, and whether it was loaded without training. ``retrain=True`` deletes
    the folder first. Training shows a ``tqdm.auto`` bar per stage (and one over the stages). ``timings``: a
    dict that receives ``<stage>_s`` (wall seconds) and ``<stage>_cpu_s`` (process CPU seconds) of every stage
    trained (what the benchmarks record).
    """
    from ..train import (finetune, get_profile, load_colorizer, pretrain, resolve_device, train_direct,
                         translate)

    sw = _as_switches(switches)
    profile = get_profile(profile, verbose=False)
    root = Path(root) if root is not None else default_run_dir() / "ablation"
    run_dir = run_folder(sw, profile, root, data)
    dev = resolve_device(device)
    last = ROUTE_STAGES[sw.route][-1]
    final = run_dir / last / "checkpoint.pt"
    if retrain and run_dir.exists():
        shutil.rmtree(run_dir)
    if _finished_checkpoint(final):
        if verbose:
            print(f"[ablation] {sw.label()}: loading the finished run {run_dir}")
        return load_colorizer(final, device=dev), run_dir, True

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "ablation.json").write_text(json.dumps(
        {"switches": sw.to_dict(), "label": sw.label(), "profile": profile.to_dict(),
         "data": _data_description(data)}, indent=2, default=str), encoding="utf-8")
    if verbose:
        print(f"[ablation] {sw.label()}: training ({sw.route} route, profile {profile.name}) in {run_dir}")
    configs = switches_to_configs(sw, profile)
    common = dict(device=dev, data_kind=data_kind)
    stages = ROUTE_STAGES[sw.route]
    result = None
    with tqdm(total=len(stages), desc=f"ablation: {sw.label()}", unit="stage") as bar:
        for stage in stages:
            bar.set_postfix_str(stage)
            wall, cpu = time.perf_counter(), time.process_time()
            if stage == "translate":
                translate(profile, run_dir, data, configs["translate"], **common)
            elif stage == "pretrain":
                pretrain(profile, run_dir, data, configs["pretrain"], **common)
            elif stage == "finetune":
                result = finetune(profile, run_dir, data, configs["finetune"], **common)
            else:
                model = "unet" if sw.route == "direct_unet" else "mpfnet"
                result = train_direct(profile, run_dir, data, configs["direct"], model=model, **common)
            if timings is not None:
                timings[f"{stage}_s"] = time.perf_counter() - wall
                timings[f"{stage}_cpu_s"] = time.process_time() - cpu
            bar.update(1)
    return result.colorizer.eval(), run_dir, False


# ----------------------------------------------------------------------------------------------------------------
# the result
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class AblationResult:
    """What :func:`run_ablation` returns.

    Attributes:
        switches: the configuration.
        run_dir: its run folder; ``cached``: loaded from there without training.
        evaluation: its ``course_lib.metrics.EvaluationResult`` on the held-out images.
        images: ``{"NIR": (n, 1, H, W), "ground truth": (n, 3, H, W), <label>: (n, 3, H, W)[, "full model": ...]}``
            (CPU, [-1, 1]), the first ``n`` held-out images.
        full: the full model's result (the comparison), or None (when this is the full model, or not asked).
        seconds: wall time of the call.
    """

    switches: AblationSwitches
    run_dir: Path
    cached: bool
    evaluation: Any
    images: dict[str, torch.Tensor]
    full: "AblationResult | None" = None
    seconds: float = 0.0
    profile_name: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.switches.label()

    @property
    def metrics(self) -> dict[str, float]:
        """Mean PSNR, SSIM, AE, LPIPS (NaN when LPIPS was not computed)."""
        return {k: float(v[0]) for k, v in self.evaluation.summary.items()}

    def evaluations(self) -> dict[str, Any]:
        """``{label: EvaluationResult}``: this configuration, then the full model (if compared)."""
        out = {self.label: self.evaluation}
        if self.full is not None:
            out[self.full.label] = self.full.evaluation
        return out

    def table(self) -> str:
        """The Table-I-style Markdown table (``course_lib.metrics.format_table``) of :meth:`evaluations`."""
        from ..metrics import format_table

        return format_table(self.evaluations())

    def delta(self) -> dict[str, float]:
        """This configuration minus the full model, per metric (empty without a comparison)."""
        if self.full is None:
            return {}
        return {k: self.metrics[k] - self.full.metrics[k] for k in self.metrics}

    def figure(self, max_images: int = 4, size: float = 1.8):
        """NIR | this configuration | full model | ground truth, one row per held-out image
        (``course_lib.course.figures.show_images``)."""
        from .figures import show_images

        columns = list(self.images)
        n = min(max_images, len(self.images["NIR"]))
        images, titles = [], []
        for i in range(n):
            for name in columns:
                images.append(self.images[name][i])
                titles.append(name if i == 0 else "")
        return show_images(images, titles=titles, ncols=len(columns), size=size,
                           suptitle=f"{self.label} ({'loaded' if self.cached else 'trained'}, "
                                    f"profile {self.profile_name})")

    def __str__(self) -> str:
        state = "loaded from" if self.cached else "trained in"
        lines = [f"Ablation: {self.label} ({state} {self.run_dir}, {self.seconds:.1f} s)", "", self.table().rstrip()]
        delta = self.delta()
        if delta:
            shown = ", ".join(f"{k} {v:+.3f}" for k, v in delta.items() if not math.isnan(v))
            lines += ["", f"change vs. the full model: {shown}"]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:  # a notebook shows the table as a table
        state = "loaded from" if self.cached else "trained in"
        return f"**Ablation:** {self.label} ({state} `{self.run_dir}`, {self.seconds:.1f} s)\n\n" + self.table()


# ----------------------------------------------------------------------------------------------------------------
# the experiment
# ----------------------------------------------------------------------------------------------------------------
def _lpips_setting(lpips: Any) -> Any:
    """``None`` -> "auto" where LPIPS can work (weights on disk, or Colab's network), else False: offline, the
    metric would first try a download that cannot succeed."""
    if lpips is not None:
        return lpips
    from ..metrics import backbone_path

    return "auto" if (backbone_path("alex").is_file() or in_colab()) else False


def _evaluate_one(switches: AblationSwitches, profile: Any, root: Path, data: Any, data_kind: str, retrain: bool,
                  device: Any, lpips: Any, num_images: int, verbose: bool, test_set: Any) -> AblationResult:
    from ..metrics import evaluate

    start = time.perf_counter()
    colorizer, run_dir, cached = train_or_load(switches, profile, root, data, data_kind=data_kind,
                                               retrain=retrain, device=device, verbose=verbose)
    evaluation = evaluate(colorizer, test_set, out_dir=run_dir / "evaluation", lpips=lpips,
                          method=switches.label())
    n = min(num_images, len(test_set))
    items = [test_set[i] for i in range(n)]
    nir = torch.stack([it["nir"] for it in items])
    rgb = torch.stack([it["rgb"] for it in items])
    dev = next(colorizer.parameters()).device
    with torch.no_grad():
        prediction = colorizer(nir.to(dev)).float().cpu().clamp(-1, 1)
    images = {"NIR": nir, switches.label(): prediction, "ground truth": rgb}
    return AblationResult(switches=switches, run_dir=run_dir, cached=cached, evaluation=evaluation, images=images,
                          seconds=time.perf_counter() - start, profile_name=profile.name,
                          notes=list(evaluation.notes))


def run_ablation(attention: str = "coordinate", norm: str = "instance", sccm: bool = True, scales: int = 3,
                 route: str = "progressive", feat_disc: bool = True, *, seed: int = 0, profile: Any = None,
                 root: str | os.PathLike | None = None, data: Any = None, data_kind: str = "auto",
                 compare_with_full: bool = True, retrain: bool = False, num_images: int = 4,
                 device: str | torch.device | None = None, lpips: Any = None,
                 verbose: bool = True) -> AblationResult:
    """Train (or load) one configuration of the ablation, evaluate it, and compare it with the full model.

    Args:
        attention, norm, sccm, scales, route, feat_disc, seed: the switches (:class:`AblationSwitches`).
        profile: a ``Profile`` or its name; default ``short_profile(get_profile())`` (the machine's profile with
            fewer steps). The same profile trains the full model for the comparison.
        root: the folder holding the cached runs (default :func:`default_run_dir` / ``"ablation"``).
        data: None (spectral scenes) or a dataset folder, as for the training stages.
        compare_with_full: also train/load the full model (same profile, same data) and put its images and
            metrics next to this configuration's.
        retrain: delete this configuration's run folder and train again (the full model's is kept).
        num_images: held-out images to return for display.
        lpips: passed to ``course_lib.metrics.evaluate``; None = "auto" where the AlexNet weights are available,
            else False (reported as n/a).
    Returns:
        :class:`AblationResult` (print it for the table; ``.figure()`` for the images).
    """
    from ..train import get_profile, test_data

    switches = AblationSwitches(attention=attention, norm=norm, sccm=sccm, scales=scales, route=route,
                                feat_disc=feat_disc, seed=seed)
    if not isinstance(num_images, int) or num_images < 1:
        raise ValueError(f"num_images: expected a positive integer, got {num_images!r}")
    if profile is None:
        profile = short_profile(get_profile(verbose=verbose))
    else:
        profile = get_profile(profile, verbose=False)
    root = Path(root) if root is not None else default_run_dir() / "ablation"
    lpips = _lpips_setting(lpips)
    test_set = test_data(data, profile, data_kind)
    common = dict(profile=profile, root=root, data=data, data_kind=data_kind, device=device, lpips=lpips,
                  num_images=num_images, verbose=verbose, test_set=test_set)
    start = time.perf_counter()
    result = _evaluate_one(switches, retrain=retrain, **common)
    if compare_with_full and not switches.is_full_model():
        full_switches = dataclasses.replace(FULL_MODEL, seed=seed)
        result.full = _evaluate_one(full_switches, retrain=False, **common)
        result.images = {"NIR": result.images["NIR"], switches.label(): result.images[switches.label()],
                         "full model": result.full.images[full_switches.label()],
                         "ground truth": result.images["ground truth"]}
    result.seconds = time.perf_counter() - start
    return result


def describe_switches() -> str:
    """The switches and their values as a Markdown list (for notebooks)."""
    return "\n".join(f"- `{name}`: " + ", ".join(f"`{v!r}`" for v in values) + " (first: the paper's)"
                     for name, values in SWITCH_CHOICES.items())
