"""Training profiles: image sizes, network widths and schedules, nothing else.

A profile never changes a model's design or a loss (DESIGN.md section 4): the same code trains the `smoke`
profile on a laptop CPU in a few minutes and the `paper` profile for days. Four are defined:

* ``smoke``  - CPU, 64 px, width 8, depth 3, a handful of steps per stage. What tests, CI and the notebooks on a
  CPU use. Its numbers show that the code runs, not which method is better. Its learning rate is 1e-3, ten
  times the paper's, so that a few dozen steps visibly change the networks (a schedule choice, like the steps).
* ``cpu``    - a laptop CPU on real data: 128 px crops at the stored resolution of VCIP 2020's 256 px images,
  width 8, depth 3, batch 8, all three stages and the direct route in under half an hour on 2 cores
  (``benchmarks/vcip_cpu.py --parallel-routes`` measures time and quality). Stage 1 is supervised steps of G_N2G
  only (NIR -> the pair's gray), 2400 pre-training steps, fine-tuning 200 (a twelfth) at the paper's lr 1e-4;
  its recipe gives F_G a chroma-bin head at a quarter resolution (``PROFILE_RECIPES``; not in the paper).
* ``course`` - one Colab T4-class GPU (16 GB): 256 px, mixed precision, batch 8. Sized for 372 training images
  and a free Colab session (``python benchmarks/course_sizes.py estimate`` prints the arithmetic): the colouriser
  F_G has width 24 (17.2 M parameters), the translators G_N2G / G_G2N width 16 (7.6 M each: a 1 -> 1 channel
  mapping needs less than colour), and the FEBs of the 1/4, 1/2 and 1 scales have depths 3, 4 and 5 so that
  each stops at 8 x 8 (a uniform depth 5 took the 64 px scale down to 2 x 2, where instance norm averages 4
  pixels; it also held 47 M parameters per network, 1.15 GB of finished checkpoints per run). Counted FLOPs
  (forward + backward, per image): translator 33.5 G, F_G 75.5 G; a translate step at batch 8 is 1.83 TFLOP, a
  finetune step 3.26, a pretrain or direct step 0.60; 3000 / 5000 / 2500 / 7500 steps are about 22 minutes at
  a quarter of the T4's 65 TFLOP/s float16 peak, and the largest step (finetune) keeps about 8.7 GB under
  autocast (activations measured on CPU). Estimates, not T4 measurements: ``benchmarks/gpu_check.sh`` measures.
* ``paper``  - Section III.A: 372 training images, batch 10, 400 epochs of translation and 250 of colorizer
  pre-training, lr 1e-4. One epoch is ceil(372 / 10) = 38 steps, so 400 epochs = 15200 steps, 250 = 9500.
  At batch 10 the translate and finetune steps need a GPU with more than 16 GB (about 24 GB is comfortable).

Step budgets, the same rule in every profile (our choices, the paper gives neither), in one function,
:func:`stage_budget`, which the profiles, the ablation panel and the benchmarks all use:

* ``finetune_steps`` = ``pretrain_steps // 2`` (``// 12`` in ``cpu``: ``Profile.finetune_share``): the
  fine-tuning stage starts from two trained networks and only has to adapt them to each other.
* ``direct_steps`` = ``pretrain_steps + finetune_steps`` (equal *updates*, the default): the direct NIR -> RGB
  network gets as many generator updates as the progressive route's colorizer F_G receives in total
  (pre-training + fine-tuning), so the comparison is between routes, not between budgets. (It does not get the
  translator's updates: those train two other 1 -> 1 networks.)
* or, with ``direct="seconds"`` (equal *CPU-seconds*), as many steps as fit in the CPU-seconds the whole
  progressive route takes, from per-step costs measured on the machine
  (:func:`course_lib.train.budget.measure_step_seconds`). A translate step costs about six direct steps and a
  finetune step seven, so this gives the direct route several times more updates.

The profile is chosen by :func:`get_profile`: an explicit name, else the ``COURSE_PROFILE`` environment variable,
else ``course`` when CUDA is available and ``smoke`` otherwise; the choice is printed.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import torch

__all__ = ["Profile", "PROFILES", "get_profile", "PROFILE_ENV_VAR", "CROP_MODES", "stage_budget", "BUDGET_MODES"]

PROFILE_ENV_VAR = "COURSE_PROFILE"
#: Profile.crop values (see Profile).
CROP_MODES = ("resize", "stored")
#: Profile fields that give one stage its own crop size and batch (:meth:`Profile.stage_profile`).
STAGE_SIZE_FIELDS = ("translate_image_size", "translate_batch_size", "pretrain_image_size", "pretrain_batch_size",
                     "finetune_image_size", "finetune_batch_size")


@dataclass(frozen=True)
class Profile:
    """Sizes and schedules of one training run (a frozen dataclass: derive variants with :meth:`replace`).

    Attributes:
        name: profile name.
        image_size: training crop size in pixels (square).
        width: base width of the colouriser F_G (channels of the first FEB level) and of the direct route's MPFNet;
            D_G^feat uses ``2 * width``.
        depth: number of down-sampling levels of each FEB (UNet depth): one number for every scale, or a tuple of
            three, one per scale coarsest first (``MPFNetConfig.depth``), so that every FEB stops at the same
            innermost size; a model with fewer scales uses the finest ones.
        translator_width: base width of the translators G_N2G and G_G2N (1 -> 1 channel); ``None``: ``width``.
            The PatchGANs D_N^img and D_G^img use ``2 * translator_width``.
        translator_depth: FEB depth of the translators (one number, or three per-scale depths as ``depth``);
            ``None``: ``depth``. A deeper translator adds capacity at low resolution, where it is cheap.
        batch_size: images per step.
        translate_steps, pretrain_steps, finetune_steps, direct_steps: optimizer steps of each stage.
        translate_warmup: how many of stage 1's first steps are supervised steps of G_N2G alone, NIR -> the gray
            of the pair's own RGB image with L_mix at every scale (Eq. (2)'s form), before Eq. (1)'s CycleGAN steps
            (our addition for paired data; 0 = the paper). One warm-up step runs one generator pass where a CycleGAN
            step runs six and two discriminators. A count of steps, not a fraction, so that a run trained in pieces
            (or extended later) keeps its schedule; the budget rules scale it with ``translate_steps``.
        lr: Adam learning rate of every optimizer (Section III.A: 1e-4).
        finetune_share: fine-tuning steps per pre-training step in the budget rule (:func:`stage_budget`):
            1/2 in every profile but ``cpu`` (1/12). :meth:`with_budget` and :meth:`scaled` size fine-tuning with it.
        finetune_lr: the learning rate of fine-tuning's optimizers (stage 3); ``None``: ``lr`` (the paper gives
            one rate, 1e-4, for every stage). Fine-tuning starts from two trained stages and adds three GAN
            terms; at the ``cpu`` profile's raised ``lr`` its validation PSNR swung by up to 1 dB between
            measurements 33 steps apart. A stage resumed at another rate takes the new one (``StageRun.track``).
        translate_lr: the learning rate of stage 1's optimizers (the translators and their discriminators);
            ``None``: ``lr``. Not compared when a finished stage is continued, so a stage trained at ``lr`` can be
            continued for a few steps at a lower rate (an annealing phase: measured on VCIP 2020 at × 4, no gain,
            ``benchmarks/results/vcip_cpu/probe_translator_x8.md``).
        amp: mixed precision (torch.autocast float16 + GradScaler); only takes effect on CUDA.
        num_train: training images (spectral scenes rendered, or the first images of a folder dataset).
        num_test: held-out images for evaluation.
        sample_every: write a sample grid every this many steps (and at the end).
        log_every: read the losses back from the device every this many steps (one transfer for all of them),
            and refresh the progress bar's read-out; the CSV still gets every step.
        checkpoint_every: write the stage checkpoint every this many steps (and at the end, and on Ctrl-C).
        crop: how a folder dataset's images become ``image_size`` px training crops. ``"resize"``: the whole image
            is scaled (shorter side) to ``image_size`` and centre-cropped, then augmented (a 256 px VCIP image
            trained at 64 px is seen at a quarter of its resolution, its sides never). ``"stored"``: images stay
            at their stored resolution and each step takes random ``image_size`` px crops of them (with the
            paper's zoom, mirror and contrast jitter), so training sees every part of every image at the scale
            it is evaluated at. Rendered spectral scenes are rendered at ``image_size`` either way.
        translate_image_size, translate_batch_size, pretrain_image_size, pretrain_batch_size, finetune_image_size,
            finetune_batch_size: crop size and batch of stage 1 (the translators), stage 2 (pre-training F_G) or
            stage 3 alone; ``None``: ``image_size`` and ``batch_size``. The networks
            are fully convolutional, so a stage may see other crops than the others: with ``crop="stored"`` and
            the images' stored size, whole images, the size they are evaluated at, where instance norm normalises
            by a whole image's statistics (``benchmarks/results/vcip_cpu/probe_stage3_terms.md``).
            :meth:`stage_profile` applies them.
    """

    name: str
    image_size: int
    width: int
    depth: int | tuple[int, ...]
    batch_size: int
    translate_steps: int
    pretrain_steps: int
    finetune_steps: int
    direct_steps: int
    lr: float = 1e-4
    amp: bool = False
    num_train: int = 16
    num_test: int = 8
    sample_every: int = 100
    log_every: int = 1
    checkpoint_every: int = 200
    crop: str = "resize"
    translator_width: int | None = None
    translator_depth: int | tuple[int, ...] | None = None
    translate_warmup: int = 0
    finetune_lr: float | None = None
    translate_lr: float | None = None
    finetune_share: float = 0.5
    translate_image_size: int | None = None
    translate_batch_size: int | None = None
    pretrain_image_size: int | None = None
    pretrain_batch_size: int | None = None
    finetune_image_size: int | None = None
    finetune_batch_size: int | None = None

    def __post_init__(self):
        if self.crop not in CROP_MODES:
            raise ValueError(f"Profile.crop: expected one of {list(CROP_MODES)}, got {self.crop!r}")
        if isinstance(self.translate_warmup, bool) or not isinstance(self.translate_warmup, int) \
                or self.translate_warmup < 0:
            raise ValueError(f"Profile.translate_warmup: expected an integer >= 0, got {self.translate_warmup!r}")
        _check_share(self.finetune_share, "Profile.finetune_share")
        if self.translator_depth is not None:
            depths = self.translator_depth if isinstance(self.translator_depth, (tuple, list)) \
                else (self.translator_depth,)
            if not depths or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in depths):
                raise ValueError(f"Profile.translator_depth: expected None, a positive integer or a list of them "
                                 f"(one per scale, coarsest first), got {self.translator_depth!r}")
            if isinstance(self.translator_depth, list):
                object.__setattr__(self, "translator_depth", tuple(self.translator_depth))
        for name in ("finetune_lr", "translate_lr"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not 0 < value < 1):
                raise ValueError(f"Profile.{name}: expected None or a learning rate in (0, 1), got {value!r}")
        for name in STAGE_SIZE_FIELDS:
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"Profile.{name}: expected None or a positive integer, got {value!r}")

    def stage_profile(self, stage: str) -> "Profile":
        """The profile one stage trains with: this one, but for ``"translate"`` / ``"pretrain"`` / ``"finetune"``
        with ``translate_image_size`` / ``pretrain_image_size`` / ``finetune_image_size`` and the matching
        ``*_batch_size`` (when set) as its ``image_size`` / ``batch_size``."""
        if stage not in STAGES:
            raise ValueError(f"stage: expected one of {list(STAGES)}, got {stage!r}")
        size, batch = {"translate": (self.translate_image_size, self.translate_batch_size),
                       "pretrain": (self.pretrain_image_size, self.pretrain_batch_size),
                       "finetune": (self.finetune_image_size, self.finetune_batch_size)}.get(stage, (None, None))
        if size is None and batch is None:
            return self
        return self.replace(image_size=size or self.image_size, batch_size=batch or self.batch_size)

    def stage_lr(self, stage: str) -> float:
        """The learning rate of one stage's optimizers: ``translate_lr`` / ``finetune_lr`` for ``"translate"`` /
        ``"finetune"`` when set, else ``lr``."""
        if stage not in STAGES:
            raise ValueError(f"stage: expected one of {list(STAGES)}, got {stage!r}")
        own = {"translate": self.translate_lr, "finetune": self.finetune_lr}.get(stage)
        return self.lr if own is None else own

    def replace(self, **changes) -> "Profile":
        """A copy with some fields changed, e.g. ``profile.replace(batch_size=2)``."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"Profile has no field(s) {unknown}; fields: {[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)

    def with_steps(self, steps: int) -> "Profile":
        """A copy where every stage trains ``steps`` steps (the CLI's ``--steps``, for tests and quick runs)."""
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps: expected a positive integer, got {steps!r}")
        return self.replace(
            translate_steps=steps, pretrain_steps=steps, finetune_steps=steps, direct_steps=steps,
            sample_every=min(self.sample_every, steps), checkpoint_every=min(self.checkpoint_every, steps),
            translate_warmup=self.warmup_for(steps),
        )

    def warmup_for(self, translate_steps: int) -> int:
        """The warm-up for ``translate_steps`` steps of stage 1: this profile's share of warm-up steps."""
        if not self.translate_warmup:
            return 0
        return min(translate_steps, round(translate_steps * self.translate_warmup / max(1, self.translate_steps)))

    def with_budget(self, pretrain_steps: int, translate_steps: int | None = None, direct: str = "updates",
                    step_seconds: dict[str, float] | None = None) -> "Profile":
        """A copy whose stage steps follow :func:`stage_budget` from ``pretrain_steps`` (``translate_steps``
        default: this profile's translate/pretrain ratio applied to ``pretrain_steps``; fine-tuning keeps this
        profile's :attr:`finetune_share`; ``direct`` and ``step_seconds``: how the direct route is sized, see
        :func:`stage_budget`)."""
        if translate_steps is None:
            translate_steps = max(1, round(pretrain_steps * self.translate_steps / max(1, self.pretrain_steps)))
        budget = stage_budget(pretrain_steps, translate_steps, direct, step_seconds,
                              finetune_share=self.finetune_share)
        longest = max(budget.values())
        return self.replace(**budget, sample_every=min(self.sample_every, longest),
                            checkpoint_every=min(self.checkpoint_every, longest),
                            translate_warmup=self.warmup_for(budget["translate_steps"]))

    def scaled(self, fraction: float, direct: str = "updates",
               step_seconds: dict[str, float] | None = None) -> "Profile":
        """The same profile with every stage's steps multiplied by ``fraction`` (rounded, at least 1), by the one
        budget rule (:func:`stage_budget`, whose ``direct`` / ``step_seconds`` size the direct route): the
        ablation panel's short runs and the benchmarks' budget trends."""
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction:
            raise ValueError(f"fraction: expected a positive number, got {fraction!r}")
        if fraction == 1 and direct == "updates" and step_seconds is None:
            return self
        return self.with_budget(max(2, round(self.pretrain_steps * fraction)),
                                max(1, round(self.translate_steps * fraction)), direct, step_seconds)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


#: How :func:`stage_budget` sizes the direct route: ``"updates"`` (as many generator updates as F_G gets in the
#: progressive route) or ``"seconds"`` (as many CPU-seconds as the whole progressive route, from measured step costs).
BUDGET_MODES = ("updates", "seconds")
STAGES = ("translate", "pretrain", "finetune", "direct")


def _check_share(value: object, what: str) -> None:
    """Fine-tuning steps per pre-training step: a number in (0, 10]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 10:
        raise ValueError(f"{what}: expected a number in (0, 10], got {value!r}")


def stage_budget(pretrain_steps: int, translate_steps: int, direct: str = "updates",
                 step_seconds: dict[str, float] | None = None, finetune_share: float = 0.5) -> dict[str, int]:
    """The one budget rule of every profile, the ablation panel and the benchmarks (our choice; the paper
    gives none). Returns the four ``*_steps`` fields of :class:`Profile`.

    * ``finetune = floor(pretrain * finetune_share)``, at least 1: fine-tuning adapts two trained networks to
      each other. ``finetune_share`` is 1/2 (``pretrain // 2``) in every profile but ``cpu`` (1/12: on a CPU a
      fine-tuning step costs about seven pre-training steps, and measured on VCIP 2020 the route gained more
      from pre-training longer than from fine-tuning longer, and the chroma-bin head needs pre-training steps
      to find its colours; see the ``cpu`` profile).
    * The translator's steps are set separately: they train two other 1 -> 1 networks.
    * ``direct="updates"`` (the default): ``direct = pretrain + finetune``, the direct network gets as many
      generator updates as the progressive route's colouriser F_G receives in all. Equal updates, not equal cost:
      a translate step runs six generator passes and a finetune step seven, so the progressive route costs
      several times more.
    * ``direct="seconds"``: the direct network gets as many CPU-seconds as the whole progressive route
      (translate + pretrain + finetune), from ``step_seconds`` = the seconds one step of each stage takes on this
      machine (keys ``translate``, ``pretrain``, ``finetune``, ``direct``; measure them with
      :func:`course_lib.train.budget.measure_step_seconds`): ``direct = round(sum(steps_s * seconds_s) /
      seconds_direct)``.
    """
    for name, value in (("pretrain_steps", pretrain_steps), ("translate_steps", translate_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    if direct not in BUDGET_MODES:
        raise ValueError(f"direct: expected one of {list(BUDGET_MODES)}, got {direct!r}")
    _check_share(finetune_share, "finetune_share")
    finetune = max(1, math.floor(pretrain_steps * finetune_share + 1e-9))
    steps = {"translate_steps": translate_steps, "pretrain_steps": pretrain_steps, "finetune_steps": finetune}
    if direct == "updates":
        if step_seconds is not None:
            raise ValueError('step_seconds: only used with direct="seconds"')
        return {**steps, "direct_steps": pretrain_steps + finetune}
    if not isinstance(step_seconds, dict) or sorted(step_seconds) != sorted(STAGES):
        raise ValueError(f'step_seconds: direct="seconds" needs the seconds per step of each of {list(STAGES)}, '
                         f"got {step_seconds!r}")
    for stage, value in step_seconds.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
            raise ValueError(f"step_seconds[{stage!r}]: expected a positive number of seconds, got {value!r}")
    spent = sum(steps[f"{stage}_steps"] * step_seconds[stage] for stage in ("translate", "pretrain", "finetune"))
    return {**steps, "direct_steps": max(1, round(spent / step_seconds["direct"]))}


def _paper_profile() -> Profile:
    steps_per_epoch = math.ceil(372 / 10)  # 372 VCIP2020 training pairs, batch 10 (Section III.A)
    pretrain = 250 * steps_per_epoch
    return Profile(
        name="paper", image_size=256, width=32, depth=5, batch_size=10,
        translate_steps=400 * steps_per_epoch, pretrain_steps=pretrain, finetune_steps=pretrain // 2,
        direct_steps=pretrain + pretrain // 2, lr=1e-4, amp=True, num_train=372, num_test=28,
        sample_every=1000, log_every=10, checkpoint_every=500,
    )


#: The ``cpu`` profile's fine-tuning steps per pre-training step (:func:`stage_budget`).
CPU_FINETUNE_SHARE = 1 / 12

PROFILES: dict[str, Profile] = {
    # CPU, every stage a few steps: runs the whole pipeline (and `python -m course_lib demo`) in minutes on
    # 2 cores. Tiny budget: the trained networks are barely past their initialisation.
    "smoke": Profile(
        name="smoke", image_size=64, width=8, depth=3, batch_size=4,
        translate_steps=16, pretrain_steps=40, finetune_steps=20, direct_steps=60,
        lr=1e-3, amp=False, num_train=16, num_test=8, sample_every=10, log_every=1, checkpoint_every=20,
    ),
    # One T4-class GPU (16 GB), mixed precision: about 22 minutes for the three stages and the direct route
    # (estimated from counted FLOPs, see the module docstring and benchmarks/course_sizes.py).
    "course": Profile(
        name="course", image_size=256, width=24, depth=(3, 4, 5), translator_width=16, batch_size=8,
        **stage_budget(5000, 3000),
        lr=1e-4, amp=True, num_train=372, num_test=28, sample_every=250, log_every=10, checkpoint_every=250,
    ),
    # A laptop CPU (2 cores) on real data (VCIP 2020): the three stages and the direct route in under half an
    # hour (measured: benchmarks/vcip_cpu.py --parallel-routes). 128 px crops at the stored 256 px resolution
    # (crop="stored"), batch 8, lr 5e-4 (5x the paper's, so that a few hundred steps move the networks; 2e-3 was no
    # better in a one-seed probe: `python benchmarks/probes.py direct --root DIR --lr 2e-3`). Stage 1 is 1800
    # supervised steps of G_N2G (NIR -> the pair's gray; no CycleGAN step before fine-tuning: the CycleGAN steps
    # at the end of stage 1 pulled the translator's gray away from the truth); 2400 pre-training steps, which
    # the chroma-bin head of the profile's recipe needs to find its colours (configs.PROFILE_RECIPES; at 800 the
    # bins' distribution was still flat); fine-tuning 200 steps, a twelfth (a finetune step costs about seven
    # pretrain steps), at the paper's lr 1e-4, where at 5e-4 its validation PSNR swung by up to 1 dB. Probes
    # behind each choice: benchmarks/results/vcip_cpu/probe_*.md and bins_cpu.md.
    "cpu": Profile(
        name="cpu", image_size=128, width=8, depth=3, batch_size=8,
        **stage_budget(2400, 1800, finetune_share=CPU_FINETUNE_SHARE), finetune_share=CPU_FINETUNE_SHARE,
        translate_warmup=1800, lr=5e-4, finetune_lr=1e-4, amp=False, num_train=372, num_test=18,
        sample_every=200, log_every=10, checkpoint_every=100, crop="stored",
    ),
    "paper": _paper_profile(),
}


def get_profile(name: str | Profile | None = None, verbose: bool = True) -> Profile:
    """Pick a training profile.

    Args:
        name: ``"smoke"``, ``"course"`` or ``"paper"`` (a :class:`Profile` is returned unchanged). ``None``: the
            ``COURSE_PROFILE`` environment variable if set, else ``"course"`` when CUDA is available, else
            ``"smoke"``.
        verbose: print which profile was chosen and why.
    Raises:
        ValueError: unknown profile name (the message lists the valid names).
    """
    if isinstance(name, Profile):
        return name
    if name is None:
        env = os.environ.get(PROFILE_ENV_VAR, "").strip()
        if env:
            name, why = env, f"from the {PROFILE_ENV_VAR} environment variable"
        elif torch.cuda.is_available():
            name, why = "course", "default on a CUDA machine"
        else:
            name, why = "smoke", "default without CUDA"
    else:
        why = "as requested"
    key = str(name).strip().lower()
    if key not in PROFILES:
        raise ValueError(f"profile: unknown profile {name!r}; expected one of {sorted(PROFILES)}")
    profile = PROFILES[key]
    if verbose:
        print(
            f"Training profile: {profile.name} ({why}): {profile.image_size} px, width {profile.width}, "
            f"depth {profile.depth}, batch {profile.batch_size}, steps translate {profile.translate_steps} / "
            f"pretrain {profile.pretrain_steps} / finetune {profile.finetune_steps} / direct {profile.direct_steps}"
        )
    return profile
