"""How fast the course's training steps run, as a fraction of what the machine can do, measured in one run.

    python benchmarks/speed.py                           # cpu profile on a CPU (course on CUDA), default options
    python benchmarks/speed.py --threads 1 --quick       # one thread, fewer ceiling shapes and steps
    python benchmarks/speed.py --profile smoke --threads 1 --repeats 2     # a shared machine: keep the faster
    python benchmarks/speed.py --profile smoke --variants baseline,compile --stages pretrain,direct
    python benchmarks/speed.py --profile course --device cuda        # float32, channels_last, compile, AMP
    python benchmarks/speed.py --root data/vcip2020      # real images instead of rendered spectral scenes

Everything runs in one process with one torch thread count (``--threads``, default torch's own), so the
numbers compare:

1. **The ceiling**: the best multiply-accumulate rate (MAC/s) the device reaches on a large 3x3 convolution,
   256 -> 256 channels at 64 and 128 px and a few batch sizes, contiguous and channels_last, forward + backward
   (counted as 3 x the forward MACs: the backward pass computes the gradients of the input and of the weights,
   each as many MACs as the forward). On CUDA also under float16 autocast (the AMP variants are compared with
   that ceiling, the float32 ones with the float32 ceiling).
2. **Each training stage's whole step**: the real stage functions ``course_lib.train.translate``, ``pretrain``,
   ``finetune`` (it starts from the checkpoints the first two leave) and ``train_direct`` run a few steps each:
   data batch, augmentation, every generator and discriminator pass, the losses, the optimizer steps, the loss
   log and the progress bar. The step's convolution work is counted, not estimated: MACs of every convolution
   the step runs, forward and backward, counted by ``torch.utils.flop_counter.FlopCounterMode`` over step 2
   (with our formula for the backward pass, see ``_conv_backward_flops``). The stage's ``callback(step,
   losses)`` timestamps the steps; warm-up steps are skipped and the stage is stopped (through the callback, as
   a Ctrl-C would) after the timed steps, so the checkpoint written at the end of a stage is outside the timed
   window. (Given a callback, the training loop reads the losses back at every step: on CUDA one host sync per
   step that a run without a callback makes only every ``log_every`` steps.) Seconds per step: the median step
   on a CPU, the mean over the window on CUDA; ``--repeats R`` times everything R times, taking turns, and keeps
   the fastest. Rate = counted MACs per step / seconds per step; fraction = rate / ceiling.
3. **Options**, each beside its reference: ``channels_last`` (every network built by the stage converted to
   channels-last memory format), ``compile`` (``nn.Module.compile()`` on every network: TorchInductor; on a CPU
   it needs a C++ compiler and minutes per network, so it is not in the CPU default; a failure is reported),
   and on CUDA ``amp`` (the profile's float16 autocast + GradScaler), ``amp_channels_last`` and ``amp_compile``.
   The training defaults are not changed here; the script says which option helps.

Profiles come from ``course_lib.train.profiles.get_profile``; ``--size``, ``--width``, ``--depth``, ``--batch``
and ``--set FIELD=VALUE`` override their fields. Without ``--root`` the stages train on a few rendered spectral
scenes (the number of images does not change a step's cost). No thresholds: it only prints.
``benchmarks/gpu_check.py`` imports the timing code from here.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[1]

#: The stages in the order they run (finetune starts from the checkpoints of translate and pretrain).
STAGES = ("translate", "pretrain", "finetune", "direct")
#: Stages another stage needs to have run first in the same run folder.
PREREQUISITES = {"finetune": ("translate", "pretrain")}
#: The Profile field holding each stage's number of steps.
STEP_FIELDS = {"translate": "translate_steps", "pretrain": "pretrain_steps", "finetune": "finetune_steps",
               "direct": "direct_steps"}


# ----------------------------------------------------------------------------------------------------------------
# the machine
# ----------------------------------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git_revision() -> str:
    """The commit of the working tree, with ``+changes`` when it differs from it (the numbers belong to it)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" +uncommitted changes" if dirty else "")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other processes on the cores make every time here longer)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_description(device: torch.device) -> str:
    """CPU model, cores, torch threads, load, torch / Python versions, and the GPU when one is used."""
    lines = [
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores, load average {load_average()}",
        f"torch threads: {torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), mkldnn "
        f"{'on' if torch.backends.mkldnn.is_available() else 'off'}",
        f"torch {torch.__version__}, Python {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}, code at {git_revision()}",
    ]
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        lines.append(f"GPU: {props.name}, {props.total_memory / 2**30:.1f} GiB, compute capability "
                     f"{props.major}.{props.minor}, {props.multi_processor_count} SMs, CUDA {torch.version.cuda}, "
                     f"cuDNN {torch.backends.cudnn.version()}")
        lines.append(f"TF32: matmul {torch.backends.cuda.matmul.allow_tf32}, cuDNN "
                     f"{torch.backends.cudnn.allow_tf32}; cudnn.benchmark {torch.backends.cudnn.benchmark} "
                     "(as the training code leaves it)")
    else:
        lines.append("GPU: none used" + (" (CUDA is available)" if torch.cuda.is_available() else ""))
    return "\n".join(lines)


def resolve(device: str | None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {device}: CUDA is not available here")
    return dev


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ----------------------------------------------------------------------------------------------------------------
# counting convolution work
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class ConvCount:
    """Multiply-accumulates of the convolutions one piece of code ran: forward and backward (the gradients of the
    inputs and of the weights, as far as autograd computed them)."""

    forward: int = 0
    backward: int = 0

    @property
    def total(self) -> int:
        return self.forward + self.backward


def conv_count_from(counter: FlopCounterMode) -> ConvCount:
    """The convolution MACs a FlopCounterMode saw (FLOPs / 2; other ops, e.g. matrix products, are left out)."""
    count = ConvCount()
    for op, flops in counter.get_flop_counts().get("Global", {}).items():
        name = str(op)
        if "conv" not in name:
            continue
        if "backward" in name:
            count.backward += int(flops) // 2
        else:
            count.forward += int(flops) // 2
    return count


def _conv_backward_flops(grad_out_shape, x_shape, w_shape, bias, stride, padding, dilation, transposed,
                         output_padding, groups, output_mask, out_shape=None, **kwargs) -> int:
    """FLOPs (2 x MACs) of ``aten.convolution_backward``. The input's gradient is a transposed convolution of the
    output's gradient with the same weights, and each weight's gradient sums products over the same (image,
    position) pairs as the forward pass: each is exactly the forward's MACs, N * prod(weight shape) * prod(the
    spatial size the kernel slides over: the output's, or the input's for a transposed convolution); the weight
    shape already holds C_in / groups (or C_out / groups). Replaces torch's own formula, whose weight-gradient
    term ignores ``groups`` (torch 2.14 counts a grouped convolution's weight gradient ``groups`` times over)."""
    spatial = x_shape[2:] if transposed else grad_out_shape[2:]
    macs = x_shape[0] * math.prod(w_shape) * math.prod(spatial)
    return 2 * macs * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def conv_counter() -> FlopCounterMode:
    """A FlopCounterMode that counts convolutions (forward by torch's formula, backward by ours)."""
    return FlopCounterMode(display=False,
                           custom_mapping={torch.ops.aten.convolution_backward: _conv_backward_flops})


def count_conv_macs(fn: Callable[[], Any]) -> ConvCount:
    """Run ``fn()`` once and count the MACs of every convolution it runs, forward and backward.

    A ``Conv2d`` on an N x C_in x H x W input with a k x k kernel does N * C_out * H_out * W_out * (C_in / groups)
    * k * k forward MACs; a ``ConvTranspose2d`` spreads every input element over a k x k x C_out / groups window:
    N * C_in * H_in * W_in * (C_out / groups) * k * k. The backward pass does as many again for the gradient of
    the input (when it requires one) and for the gradient of the weight.
    """
    counter = conv_counter()
    with counter:
        fn()
    return conv_count_from(counter)


# ----------------------------------------------------------------------------------------------------------------
# the ceiling: one large 3x3 convolution
# ----------------------------------------------------------------------------------------------------------------
#: (channels, size px, batch) of the ceiling convolutions: 256 -> 256 channels, 3x3, at 64 and 128 px.
CEILING_SHAPES = {
    "cpu": [(256, 64, 1), (256, 64, 4), (256, 128, 1), (256, 128, 2)],
    "cuda": [(256, 64, 8), (256, 128, 1), (256, 128, 4), (256, 128, 8)],
}
QUICK_CEILING_SHAPES = {"cpu": [(256, 64, 1), (256, 64, 2)], "cuda": [(256, 64, 8), (256, 128, 8)]}


@dataclass
class ConvRate:
    channels: int
    size: int
    batch: int
    memory_format: str
    precision: str
    macs: int            # per forward + backward step
    seconds: float       # per step

    @property
    def rate(self) -> float:
        return self.macs / self.seconds

    def describe(self) -> str:
        return (f"3x3 conv {self.channels}->{self.channels} ch, {self.size} px, batch {self.batch}, "
                f"{self.memory_format}, {self.precision}")


def time_repeated(step: Callable[[], Any], device: torch.device, warmup: int = 1, min_seconds: float = 0.5,
                  min_iters: int = 2, max_iters: int = 1000) -> float:
    """Seconds per call of ``step()`` after ``warmup`` calls: at least ``min_iters`` calls and ``min_seconds``."""
    for _ in range(warmup):
        step()
    synchronize(device)
    iters, start = 0, time.perf_counter()
    while True:
        step()
        iters += 1
        if iters >= min_iters:
            synchronize(device)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds or iters >= max_iters:
                return elapsed / iters


def measure_conv(device: torch.device, channels: int, size: int, batch: int, channels_last: bool = False,
                 amp: bool = False, min_seconds: float = 0.5) -> ConvRate:
    """Forward + backward MAC rate of one 3x3 convolution (channels -> channels, no bias)."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(device).to(memory_format=fmt)
    x = torch.randn(batch, channels, size, size, device=device).to(memory_format=fmt).requires_grad_(True)
    amp = amp and device.type == "cuda"
    grad = {}

    def step():
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            y = conv(x)
        if "g" not in grad:
            grad["g"] = torch.ones_like(y)
        y.backward(grad["g"])

    macs = count_conv_macs(step).total  # forward + input gradient + weight gradient = 3 x forward
    seconds = time_repeated(step, device, warmup=1, min_seconds=min_seconds)
    return ConvRate(channels, size, batch, "channels_last" if channels_last else "contiguous",
                    "float16 autocast" if amp else "float32", macs, seconds)


def conv_ceiling(device: torch.device, shapes: Sequence[tuple[int, int, int]], amp: bool = False,
                 formats: Sequence[bool] = (False, True), min_seconds: float = 0.5) -> list[ConvRate]:
    """Every shape x memory format measured, best rate first. cudnn.benchmark is on while it runs (the ceiling is
    the best the device reaches) and restored after."""
    old = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        rates = [measure_conv(device, c, s, b, channels_last=cl, amp=amp, min_seconds=min_seconds)
                 for (c, s, b) in shapes for cl in formats]
    finally:
        torch.backends.cudnn.benchmark = old
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return sorted(rates, key=lambda r: r.rate, reverse=True)


def ceiling_report(rates: list[ConvRate]) -> str:
    lines = [f"  {r.describe():<62} {r.rate / 1e9:9.2f} GMAC/s  ({r.seconds * 1000:.1f} ms per fwd+bwd)"
             for r in rates]
    lines.append(f"  ceiling ({rates[0].precision}): {rates[0].rate / 1e9:.2f} GMAC/s = "
                 f"{2 * rates[0].rate / 1e12:.3f} TFLOP/s ({rates[0].describe()})")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# options (variants) of a training run
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    name: str
    channels_last: bool = False
    compile: bool = False
    amp: bool = False
    #: the variant a speed-up is measured against
    reference: str = "baseline"

    @property
    def precision(self) -> str:
        return "float16" if self.amp else "float32"


VARIANTS = {
    "baseline": Variant("baseline", reference=""),
    "channels_last": Variant("channels_last", channels_last=True),
    "compile": Variant("compile", compile=True),
    "amp": Variant("amp", amp=True),
    "amp_channels_last": Variant("amp_channels_last", amp=True, channels_last=True, reference="amp"),
    "amp_compile": Variant("amp_compile", amp=True, compile=True, reference="amp"),
}
CUDA_ONLY = ("amp", "amp_channels_last", "amp_compile")


def default_variants(device: torch.device, quick: bool = False) -> str:
    """CUDA: every option (no compile with ``quick``); CPU: baseline and channels_last (compiling on a CPU takes
    minutes per network: ask for ``compile`` explicitly)."""
    if device.type == "cuda":
        return "baseline,channels_last,amp,amp_channels_last" + ("" if quick else ",compile,amp_compile")
    return "baseline,channels_last"


def parse_variants(text: str, device: torch.device) -> tuple[list[Variant], list[str]]:
    """The variants named in ``text`` (comma-separated) that apply on ``device``, and notes on those skipped."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"--variants: unknown {unknown}; known: {sorted(VARIANTS)}")
    chosen, notes = [], []
    for n in names:
        if n in CUDA_ONLY and device.type != "cuda":
            notes.append(f"{n}: skipped, AMP only takes effect on CUDA (the training code ignores it on {device})")
        else:
            chosen.append(VARIANTS[n])
    return chosen, notes


@contextlib.contextmanager
def built_with(variant: Variant):
    """While active, every network a stage builds (``StageRun.build``) gets the variant's memory format and is
    compiled in place (``nn.Module.compile``: state-dict keys unchanged, so checkpoints load as usual)."""
    from course_lib.train.loop import StageRun

    original = StageRun.build
    if not (variant.channels_last or variant.compile):
        yield
        return

    def build(self, name, spec):
        model = original(self, name, spec)
        if variant.channels_last:
            model = model.to(memory_format=torch.channels_last)
        if variant.compile:
            model.compile()
        return model

    StageRun.build = build
    try:
        yield
    finally:
        StageRun.build = original


# ----------------------------------------------------------------------------------------------------------------
# timing a stage's whole training step
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class StageTiming:
    """One stage run of one variant. ``seconds`` covers ``steps`` steps after the warm-up; ``startup_s`` is from
    calling the stage to the end of its warm-up (networks built, data loaded, first steps, compilation)."""

    stage: str
    variant: str
    steps: int = 0
    seconds: float | None = None
    startup_s: float | None = None
    macs: ConvCount | None = None
    peak_memory: int | None = None
    error: str | None = None
    stopped_early: bool = False
    step_times: list[float] = field(default_factory=list)
    #: s/step of every repeat (``time_variants(repeats=...)``); this timing is the fastest of them
    repeats: list[float | None] = field(default_factory=list)

    #: True where each step's wall time is a real step time (CPU); on CUDA the steps run asynchronously and only
    #: the window's total is (the device is synchronised at its two ends)
    per_step_times: bool = True

    @property
    def mean_s_per_step(self) -> float | None:
        return self.seconds / self.steps if self.seconds is not None and self.steps else None

    @property
    def median_s_per_step(self) -> float | None:
        times = sorted(self.step_times)
        if not times:
            return None
        mid = len(times) // 2
        return times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2

    @property
    def s_per_step(self) -> float | None:
        """Seconds per step: the median of the steps on a CPU (robust to other processes taking the cores for a
        moment), the mean over the window on CUDA."""
        if self.error:
            return None
        if self.per_step_times and self.step_times:
            return self.median_s_per_step
        return self.mean_s_per_step

    @property
    def rate(self) -> float | None:
        s = self.s_per_step
        return self.macs.total / s if s and self.macs is not None else None


class _EnoughSteps(KeyboardInterrupt):
    """Raised from the stage callback to end the stage after the timed steps (the stage saves its checkpoint
    and raises TrainingInterrupted, as after a Ctrl-C)."""


def stage_function(stage: str) -> Callable:
    from course_lib import train

    if stage == "direct":
        return lambda *args, **kwargs: train.train_direct(*args, model="mpfnet", **kwargs)
    return {"translate": train.translate, "pretrain": train.pretrain, "finetune": train.finetune}[stage]


def time_stage(stage: str, profile, out_dir: str | os.PathLike, device: torch.device, data: Any = None,
               warmup: int = 2, steps: int = 5, count: bool = True, max_seconds: float | None = None,
               variant: Variant = VARIANTS["baseline"], data_kind: str = "auto") -> StageTiming:
    """Run the real stage function for ``warmup + steps`` steps (fewer if ``max_seconds`` of timed steps pass
    first) and time the steps after the warm-up.

    ``count``: count the convolution MACs of step 2 with FlopCounterMode (needs ``warmup >= 2``, so the counted
    step, slowed down by the counting, is not timed). The profile's step count for the stage is raised to at
    least ``warmup + steps + 1`` so the stage's end-of-run checkpoint and samples never fall in the window; its
    sampling, checkpoint and logging intervals are the profile's own. On CUDA the device is synchronised at the
    two ends of the window only (a step is timed as a real training loop runs it), and the peak memory
    (``torch.cuda.max_memory_allocated``) of the whole stage is recorded.
    """
    from course_lib.train import TrainingInterrupted

    if count and warmup < 2:
        raise ValueError("warmup: at least 2 when counting (step 2 is the counted one)")
    key = STEP_FIELDS[stage]
    total = max(getattr(profile, key), warmup + steps + 1)
    profile = profile.replace(**{key: total, "amp": variant.amp})
    result = StageTiming(stage, variant.name, per_step_times=device.type != "cuda")
    marks: dict[int, float] = {}
    state: dict[str, Any] = {"counter": None, "stopped": False}

    def callback(step: int, losses: dict) -> None:
        now = time.perf_counter()
        if count and step == 1:
            state["counter"] = conv_counter()
            state["counter"].__enter__()
        elif count and step == 2 and state["counter"] is not None:
            state["counter"].__exit__(None, None, None)
            result.macs = conv_count_from(state["counter"])
            state["counter"] = None
        if step >= warmup:
            if step == warmup or step == warmup + steps:
                synchronize(device)
                now = time.perf_counter()
            marks[step] = now
            timed = step - warmup
            over_time = max_seconds is not None and timed >= 1 and now - marks[warmup] >= max_seconds
            if timed >= steps or over_time:
                if over_time and timed < steps:
                    synchronize(device)
                    marks[step] = time.perf_counter()
                    result.stopped_early = True
                state["stopped"] = True
                raise _EnoughSteps(f"benchmark: {timed} timed steps done")

    gc.collect()  # the previous stage's networks, so that they count neither in time nor in memory
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output), built_with(variant):
            stage_function(stage)(profile, out_dir, data, None, device=device, data_kind=data_kind,
                                  callback=callback)
        result.error = f"the stage ended after {total} steps before the timed window closed"
    except TrainingInterrupted:
        if not state["stopped"]:
            raise
    except Exception as exc:  # noqa: BLE001 - a failing option (e.g. torch.compile) is reported, not fatal
        tail = [line for line in output.getvalue().replace("\r", "\n").splitlines()
                if line.strip() and not re.search(r"\d+/\d+ \[", line)][-3:]  # without progress bars
        result.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        if tail:
            result.error += " | output: " + " / ".join(line.strip()[:160] for line in tail)
    finally:
        if state["counter"] is not None:
            state["counter"].__exit__(None, None, None)
    if warmup in marks and len(marks) > 1:
        last = max(marks)
        result.steps = last - warmup
        result.seconds = marks[last] - marks[warmup]
        result.startup_s = marks[warmup] - start
        ordered = sorted(marks)
        result.step_times = [marks[b] - marks[a] for a, b in zip(ordered, ordered[1:])]
    if device.type == "cuda":
        result.peak_memory = torch.cuda.max_memory_allocated(device)
    return result


def needed_stages(stages: Sequence[str]) -> list[str]:
    """``stages`` plus the ones they start from, in running order."""
    want = set(stages)
    for s in stages:
        want.update(PREREQUISITES.get(s, ()))
    return [s for s in STAGES if s in want]


def time_variants(variants: Sequence[Variant], profile, device: torch.device, stages: Sequence[str],
                  data: Any = None, warmup: int = 2, steps: int = 5, count: bool = True,
                  max_seconds: float | None = None, work_dir: str | os.PathLike | None = None,
                  data_kind: str = "auto", log: Callable[[str], None] | None = None, repeats: int = 1
                  ) -> dict[str, dict[str, StageTiming]]:
    """Time ``stages`` of every variant, each variant (and each repeat) in its own fresh run folder.

    The variants take turns stage by stage and repeat by repeat (translate of every variant, again for the next
    repeat, then pretrain ...), so on a shared machine they are compared at nearly the same time. With
    ``repeats`` > 1 the fastest repeat of each (variant, stage) is kept: other processes only ever slow a step
    down, so the fastest is the closest to what the machine does alone (the start-up time is the first
    repeat's, the one that compiles). Stages that an asked-for stage starts from are run too (2 + 1 steps, not
    reported, when not asked for). The convolution MACs are counted in the first repeat of the first variant
    that is not compiled (the same work in every variant). Returns ``{variant: {stage: StageTiming}}``."""
    if repeats < 1:
        raise ValueError(f"repeats: expected a positive integer, got {repeats}")
    results: dict[str, dict[str, StageTiming]] = {v.name: {} for v in variants}
    counted = next((v.name for v in variants if not v.compile), None) if count else None
    with tempfile.TemporaryDirectory(prefix="speed_", dir=work_dir) as tmp:
        for stage in needed_stages(stages):
            asked = stage in stages
            for rep in range(repeats):
                for variant in variants:
                    if variant.compile:
                        torch._dynamo.reset()
                    # compile: step 1 compiles, step 2 may recompile (train/eval and requires_grad switches)
                    wu = (max(warmup, 3) if variant.compile else warmup) if asked else 2
                    folder = Path(tmp) / variant.name / f"repeat{rep}"
                    timing = time_stage(stage, profile, folder, device, data, warmup=wu,
                                        steps=steps if asked else 1,
                                        count=asked and variant.name == counted and rep == 0,
                                        max_seconds=max_seconds, variant=variant, data_kind=data_kind)
                    if variant.compile:
                        torch._dynamo.reset()
                    if log is not None and (asked or timing.error):
                        log(f"  {variant.name:<18} {stage:<10} " + (f"repeat {rep + 1}/{repeats} " if repeats > 1
                                                                   else "") + (
                            "(run for the next stage) " if not asked else "") + (
                            f"{timing.s_per_step:.3f} s/step over {timing.steps} steps" if timing.s_per_step
                            else f"failed: {timing.error}"))
                    if not asked:
                        continue
                    best = results[variant.name].get(stage)
                    timing.repeats = (best.repeats if best else []) + [timing.s_per_step]
                    if best is None:
                        results[variant.name][stage] = timing
                    elif timing.s_per_step is not None and (best.s_per_step is None
                                                            or timing.s_per_step < best.s_per_step):
                        timing.macs = timing.macs or best.macs
                        timing.startup_s = best.startup_s  # the first repeat's (compilation included)
                        results[variant.name][stage] = timing
                    else:
                        best.repeats = timing.repeats
    return results


# ----------------------------------------------------------------------------------------------------------------
# reports
# ----------------------------------------------------------------------------------------------------------------
def describe_profile(profile) -> str:
    fields = profile.to_dict()
    sizes = ", ".join(f"{k} {fields[k]}" for k in fields
                      if k not in ("name",) and not k.endswith("_steps") and k not in ("lr",))
    steps = " / ".join(f"{s} {fields[STEP_FIELDS[s]]}" for s in STAGES if STEP_FIELDS[s] in fields)
    return f"profile {profile.name}: {sizes}, lr {fields.get('lr')}; steps {steps}"


def fmt(value: float | None, spec: str, missing: str = "-") -> str:
    return missing if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def stage_table(results: dict[str, dict[str, StageTiming]], ceilings: dict[str, ConvRate],
                stage_macs: dict[str, ConvCount], show_memory: bool = False) -> str:
    """One row per (variant, stage): s/step, counted GMAC/step, GMAC/s, fraction of the ceiling of the variant's
    precision, speed-up against the variant's reference."""
    head = ("| variant | stage | s/step | mean s/step | steps timed | start-up s | conv GMAC/step (fwd+bwd) | "
            "GMAC/s | of ceiling | speed-up vs reference |" + (" peak GPU GiB |" if show_memory else ""))
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for vname, per_stage in results.items():
        variant = VARIANTS.get(vname, Variant(vname))
        ceiling = ceilings.get(variant.precision) or ceilings.get("float32")
        ref = results.get(variant.reference, {})
        for stage, t in per_stage.items():
            macs = stage_macs.get(stage)
            s = t.s_per_step
            rate = macs.total / s if (macs and s) else None
            frac = rate / ceiling.rate if (rate and ceiling) else None
            ref_s = ref[stage].s_per_step if stage in ref else None
            speedup = ref_s / s if (ref_s and s) else None
            cells = [vname, stage, fmt(s, ".3f"), fmt(t.mean_s_per_step, ".3f"),
                     str(t.steps) + (f" x {len(t.repeats)}" if len(t.repeats) > 1 else "")
                     + (" (time cap)" if t.stopped_early else ""),
                     fmt(t.startup_s, ".1f"), fmt(macs.total / 1e9 if macs else None, ".2f"),
                     fmt(rate / 1e9 if rate else None, ".2f"), fmt(frac, ".3f"),
                     fmt(speedup, ".2f") + (f" (vs {variant.reference})" if speedup and variant.reference else "")]
            if show_memory:
                cells.append(fmt(t.peak_memory / 2**30 if t.peak_memory is not None else None, ".2f"))
            if t.error:
                cells[2] = "failed"
            lines.append("| " + " | ".join(cells) + " |")
    errors = [f"- {v} / {s}: {t.error}" for v, per in results.items() for s, t in per.items() if t.error]
    if errors:
        lines += ["", "Errors:", *errors]
    return "\n".join(lines)


def findings(results: dict[str, dict[str, StageTiming]]) -> list[str]:
    """For each option: its speed-up over its reference in each stage and their geometric mean, and a plain
    reading: helps / hurts (the mean beyond +-5 %, no stage the other way by more than 5 %), mixed (stages both
    ways), or no clear change (within +-5 %, about the noise of a shared machine)."""
    out = []
    for vname, per_stage in results.items():
        variant = VARIANTS.get(vname)
        if variant is None or not variant.reference or variant.reference not in results:
            continue
        ref = results[variant.reference]
        ratios = {s: ref[s].s_per_step / t.s_per_step for s, t in per_stage.items()
                  if t.s_per_step and s in ref and ref[s].s_per_step}
        failed = [s for s, t in per_stage.items() if t.error]
        if not ratios:
            out.append(f"- {vname}: not measured" + (f" (failed in {', '.join(failed)})" if failed else ""))
            continue
        mean = math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
        faster = [r for r in ratios.values() if r > 1.05]
        slower = [r for r in ratios.values() if r < 0.95]
        if faster and slower:
            verdict = "mixed (faster in some stages, slower in others: on a shared machine, likely noise)"
        elif mean > 1.05 and not slower:
            verdict = "helps"
        elif mean < 0.95 and not faster:
            verdict = "hurts"
        else:
            verdict = "no clear change"
        per = ", ".join(f"{s} x{r:.2f}" for s, r in ratios.items())
        startup = [t.startup_s for t in per_stage.values() if t.startup_s is not None]
        ref_startup = [ref[s].startup_s for s in per_stage if s in ref and ref[s].startup_s is not None]
        extra = ""
        if variant.compile and startup and ref_startup:
            extra = f"; start-up {sum(startup):.0f} s in all vs {sum(ref_startup):.0f} s (compilation)"
        out.append(f"- {vname} vs {variant.reference}: {verdict}, geometric mean speed-up x{mean:.2f} ({per})"
                   + (f"; failed in {', '.join(failed)}" if failed else "") + extra)
    return out


def projected_seconds(per_stage: dict[str, StageTiming], profile) -> tuple[float | None, list[str]]:
    """A full run of ``profile``: its steps of each stage x the measured seconds per step (only the stages
    measured; start-up, evaluation and the data set's loading are not in it)."""
    total, parts = 0.0, []
    for stage, t in per_stage.items():
        if t.s_per_step is None:
            return None, [f"{stage}: not measured"]
        n = getattr(profile, STEP_FIELDS[stage])
        total += n * t.s_per_step
        parts.append(f"{stage} {n} x {t.s_per_step:.3f} s = {n * t.s_per_step / 60:.1f} min")
    return total, parts


def counted_macs(results: dict[str, dict[str, StageTiming]]) -> dict[str, ConvCount]:
    """The MACs per step of each stage, from whichever variant counted them."""
    out: dict[str, ConvCount] = {}
    for per_stage in results.values():
        for stage, t in per_stage.items():
            if t.macs is not None and stage not in out:
                out[stage] = t.macs
    return out


def report(results: dict[str, dict[str, StageTiming]], ceilings: dict[str, ConvRate], profile,
           device: torch.device, notes: Sequence[str] = ()) -> str:
    """The MAC counts, the table, the options' findings and the projected full run, as text."""
    macs = counted_macs(results)
    lines = ["Convolution MACs per step (FlopCounterMode over step 2; the table has forward + backward): forward "
             + (", ".join(f"{s} {m.forward / 1e9:.3f}" for s, m in macs.items()) or "not counted") + " GMAC",
             "Ceilings: " + ", ".join(f"{p} {c.rate / 1e9:.2f} GMAC/s" for p, c in ceilings.items())
             + " (AMP variants are compared with the float16 one)" * ("float16" in ceilings),
             *(["The timing callback makes the stage read its losses back every step (course_lib's StageRun "
                "does so whenever a callback is given; without one, every log_every steps): on CUDA that is one "
                "host sync per step, so these steps can be slightly slower than in a run without a callback."]
               if device.type == "cuda" else []),
             "s/step: " + ("the mean over the timed steps (CUDA runs asynchronously: the device is synchronised "
                           "at the window's two ends only)" if device.type == "cuda" else
                           "the median of the timed steps' wall times (robust to other processes taking a core for "
                           "a moment); the mean is beside it") + "; rates, fractions, speed-ups and projections use it",
             "",
             stage_table(results, ceilings, macs, show_memory=device.type == "cuda"),
             "", "## Options (speed-up = reference s/step / variant s/step)"]
    lines += findings(results) or ["- (only one variant measured)"]
    lines += [f"- {note}" for note in notes]
    lines += ["", "## Projected full run of the profile (its steps x the measured s/step; start-up, evaluation "
                  "and data loading not included)"]
    for vname, per_stage in results.items():
        total, parts = projected_seconds(per_stage, profile)
        lines.append(f"- {vname}: " + (f"{total / 60:.1f} min ({'; '.join(parts)})" if total is not None
                                        else "; ".join(parts)))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------------------------
def _parse_like(current: Any, text: str, name: str) -> Any:
    """``text`` converted to the type of the profile field's current value (a tuple field takes ``3,4,5``)."""
    try:
        if isinstance(current, bool):
            return text.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(current, (tuple, list)) or "," in text:
            return tuple(int(x) for x in text.split(",") if x.strip())
        if isinstance(current, float):
            return float(text)
        if isinstance(current, int) or current is None:
            if text.strip().lower() == "none":
                return None
            return int(text)
        return text
    except ValueError:
        raise SystemExit(f"--set {name}={text}: cannot read it as the field's type "
                         f"({type(current).__name__})") from None


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared with gpu_check.py: the profile and overrides of its sizes."""
    parser.add_argument("--size", type=int, help="override the profile's image_size (px)")
    parser.add_argument("--width", type=int, help="override the profile's width")
    parser.add_argument("--depth", help="override the profile's depth: one number, or per scale, e.g. 3,4,5")
    parser.add_argument("--batch", type=int, help="override the profile's batch_size")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override any Profile field, e.g. --set translator_width=16 (repeatable)")
    parser.add_argument("--root", help="train on this dataset folder (e.g. a VCIP2020 copy) instead of rendered "
                                       "spectral scenes")
    parser.add_argument("--data-kind", default="auto", help="folder layout for --root (auto, vcip2020, ...)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    parser.add_argument("--threads", type=int, help="torch intra-op threads for everything (default: torch's)")


def build_profile(name: str, args: argparse.Namespace, small_data: bool = True):
    """The named profile with the command line's overrides; without ``--root``, ``num_train`` is cut to a few
    rendered scenes (rendering is not part of a step; the number of images does not change a step's cost)."""
    from course_lib.train.profiles import get_profile

    profile = get_profile(name, verbose=False)
    changes: dict[str, Any] = {}
    for key, value in (("image_size", args.size), ("width", args.width), ("batch_size", args.batch)):
        if value is not None:
            changes[key] = value
    if args.depth is not None:
        changes["depth"] = _parse_like(profile.depth, args.depth, "depth")
    fields = profile.to_dict()
    for item in args.set:
        if "=" not in item:
            raise SystemExit(f"--set {item}: expected FIELD=VALUE")
        key, text = item.split("=", 1)
        key = key.strip()
        if key not in fields:
            raise SystemExit(f"--set {key}: the Profile has no such field; fields: {sorted(fields)}")
        changes[key] = _parse_like(fields[key], text, key)
    if small_data and not args.root:
        changes["num_train"] = min(profile.num_train, max(8, 2 * changes.get("batch_size", profile.batch_size)))
    return profile.replace(**changes) if changes else profile


def set_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise SystemExit(f"--threads: expected a positive integer, got {threads}")
        torch.set_num_threads(threads)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", help="training profile (default: cpu on a CPU, course on CUDA)")
    add_profile_arguments(parser)
    parser.add_argument("--steps", type=int, help="timed steps per stage (default 5; --quick 3)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (>= 2; compile: >= 3)")
    parser.add_argument("--max-stage-seconds", type=float, default=None,
                        help="stop timing a stage after this many seconds of timed steps (at least one step)")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of {list(STAGES)}")
    parser.add_argument("--variants", default=None,
                        help=f"comma-separated, of {list(VARIANTS)} (default on CUDA: all, without the compile "
                             "ones with --quick; on a CPU: baseline,channels_last)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="time every (variant, stage) this many times, taking turns, and keep the fastest "
                             "(for a shared machine)")
    parser.add_argument("--quick", action="store_true", help="fewer ceiling shapes, 3 timed steps (CUDA: no compile)")
    args = parser.parse_args(argv)

    set_threads(args.threads)
    device = resolve(args.device)
    name = args.profile or ("course" if device.type == "cuda" else "cpu")
    profile = build_profile(name, args)
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise SystemExit(f"--stages: unknown {bad}; known: {list(STAGES)}")
    steps = args.steps or (3 if args.quick else 5)
    variants, notes = parse_variants(args.variants or default_variants(device, args.quick), device)
    if args.variants is None and device.type != "cuda":
        notes.append("compile: not in the CPU default (TorchInductor compiled one smoke-profile MPFNet for about 4 "
                     "minutes on 2 cores here, each network of a stage separately); ask with --variants "
                     "baseline,compile")
    if args.warmup < 2:
        raise SystemExit("--warmup: at least 2 (step 2 is the counted one)")

    print(f"# benchmarks/speed.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(time.strftime("# %Y-%m-%d %H:%M:%S %Z"))
    print(machine_description(device))
    print(describe_profile(profile))
    print(f"data: {args.root or f'{profile.num_train} rendered spectral scenes'}; device {device}; "
          f"{args.warmup} warm-up + {steps} timed steps per stage"
          + (f", {args.repeats} repeats taking turns (the fastest kept)" if args.repeats > 1 else ""))
    for note in notes:
        print(f"note: {note}")
    sys.stdout.flush()

    shapes = (QUICK_CEILING_SHAPES if args.quick else CEILING_SHAPES)["cuda" if device.type == "cuda" else "cpu"]
    ceilings: dict[str, ConvRate] = {}
    print("\n## Ceiling: large 3x3 convolutions, forward + backward (3 x forward MACs)")
    precisions = sorted({v.precision for v in variants}, reverse=True) or ["float32"]
    for precision in precisions:
        rates = conv_ceiling(device, shapes, amp=precision == "float16", min_seconds=0.3 if args.quick else 0.6)
        ceilings[precision] = rates[0]
        print(ceiling_report(rates))
        sys.stdout.flush()

    print(f"\n## Training steps ({', '.join(stages)}); progress:")
    results = time_variants(variants, profile, device, stages, data=args.root, warmup=args.warmup, steps=steps,
                            max_seconds=args.max_stage_seconds, data_kind=args.data_kind,
                            log=lambda line: (print(line), sys.stdout.flush()), repeats=args.repeats)
    print()
    print(report(results, ceilings, profile, device, notes))
    print(f"\n(load average at the end: {load_average()})")

if __name__ == "__main__":
    main()
