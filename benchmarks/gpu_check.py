"""The GPU check of the course's training: step times, peak memory and the projected full run of a profile.

    python benchmarks/gpu_check.py                          # course profile, AMP, on the GPU (what gpu_check.sh runs)
    python benchmarks/gpu_check.py --steps 300 --max-stage-seconds 60
    python benchmarks/gpu_check.py --dry-run --out /tmp/gpu_check.txt   # the same code path on a CPU, in seconds

It is the Python half of ``benchmarks/gpu_check.sh`` (which also installs, prints ``nvidia-smi`` and runs the
notebooks under nbval). In one process and with one thread count it measures, with the timing code of
``benchmarks/speed.py`` (imported, not copied):

1. the ceiling: the best forward + backward MAC rate of a large 3x3 convolution, float16 autocast and float32;
2. every stage of the profile (``translate``, ``pretrain``, ``finetune``, ``direct``: the real stage functions,
   data, losses, discriminators, optimizer steps, logging) with mixed precision (the ``course`` profile's AMP):
   ``--steps`` steps after ``--warmup``, or as many as fit in ``--max-stage-seconds``; seconds per step, counted
   convolution MACs per step and their rate as a fraction of the float16 ceiling;
3. the peak GPU memory of each stage (``torch.cuda.max_memory_allocated``: what the caching allocator handed
   out, not what ``nvidia-smi`` shows);
4. the projected full run: the profile's steps of each stage x the measured seconds per step;
5. ``--extra-variants`` (default ``amp_channels_last``) with ``--extra-steps`` steps, beside the AMP run.

``--dry-run`` runs all of it on the CPU with the ``smoke`` profile, 2 warm-up steps + 1 timed step per stage and
a small ceiling convolution (AMP has no effect on a CPU): a check that the script works, not a measurement.
``--out FILE`` also writes everything printed to FILE. No thresholds: it only prints.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402  (benchmarks/speed.py: the shared timing code)

#: The sections gpu_check writes, in order (tests/test_benchmarks.py checks them).
SECTIONS = ("## Machine", "## Profile", "## Ceiling", "## Training steps", "## Peak GPU memory", "## Options",
            "## Projected full run", "## Against the course's targets")

#: What issue 13 asks of the course profile: a whole run in <= 30 min on a T4 and <= 12 GB of GPU memory.
TARGET_MINUTES, TARGET_GIB = 30.0, 12.0


class Tee:
    """Print to stdout and, when ``path`` is given, append to that file (flushed line by line, so a run that is
    stopped halfway still leaves what it measured)."""

    def __init__(self, path: str | None):
        self.file = None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "w", encoding="utf-8")

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        if self.file is not None:
            self.file.write(text + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=None, help="training profile (default course; --dry-run: smoke)")
    speed.add_profile_arguments(parser)
    parser.add_argument("--steps", type=int, default=None, help="timed steps per stage (default 200; dry run 1)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 5; dry run 2)")
    parser.add_argument("--max-stage-seconds", type=float, default=None,
                        help="stop timing a stage after this many seconds of timed steps (default 25; dry run: "
                             "no limit)")
    parser.add_argument("--stages", default=",".join(speed.STAGES), help="comma-separated stages to time")
    parser.add_argument("--extra-variants", default=None,
                        help="options timed beside AMP, comma-separated (default amp_channels_last; dry run "
                             "channels_last; '' for none)")
    parser.add_argument("--extra-steps", type=int, default=None, help="timed steps of the extra variants "
                                                                     "(default 30; dry run 1)")
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU, smoke profile, 2 + 1 steps per stage: checks the script, measures nothing")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)

    dry = args.dry_run
    if dry and args.device == "auto":
        args.device = "cpu"
    speed.set_threads(args.threads)
    device = speed.resolve(args.device)
    profile_name = args.profile or ("smoke" if dry else "course")
    steps = args.steps if args.steps is not None else (1 if dry else 200)
    warmup = args.warmup if args.warmup is not None else (2 if dry else 5)
    extra_steps = args.extra_steps if args.extra_steps is not None else (1 if dry else 30)
    max_seconds = args.max_stage_seconds if args.max_stage_seconds is not None else (None if dry else 25.0)
    extra_text = args.extra_variants if args.extra_variants is not None else (
        "channels_last" if dry else "amp_channels_last")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    bad = [s for s in stages if s not in speed.STAGES]
    if bad:
        raise SystemExit(f"--stages: unknown {bad}; known: {list(speed.STAGES)}")
    if warmup < 2:
        raise SystemExit("--warmup: at least 2 (step 2 is the counted one)")
    if device.type != "cuda" and not dry:
        print("gpu_check: no CUDA device here. This check is for a GPU machine; on a CPU run it with --dry-run "
              "(or use benchmarks/speed.py).", file=sys.stderr)
        return 2

    base = speed.build_profile(profile_name, args)
    main_variant = speed.VARIANTS["amp"]
    extra = [speed.VARIANTS[n] for n in (x.strip() for x in extra_text.split(",")) if n and n in speed.VARIANTS]
    unknown = [n for n in (x.strip() for x in extra_text.split(",")) if n and n not in speed.VARIANTS]
    if unknown:
        raise SystemExit(f"--extra-variants: unknown {unknown}; known: {sorted(speed.VARIANTS)}")
    extra = [v for v in extra if v.name != main_variant.name]

    out = Tee(args.out)
    try:
        out(f"# benchmarks/gpu_check.py {' '.join(sys.argv[1:] if argv is None else argv)}")
        out(time.strftime("# %Y-%m-%d %H:%M:%S %Z") + (" -- DRY RUN on the CPU: checks the script, measures "
                                                        "nothing" if dry else ""))
        out("\n## Machine")
        out(speed.machine_description(device))

        out("\n## Profile")
        out(speed.describe_profile(base))
        out(f"timed: {warmup} warm-up + {steps} steps per stage"
            + (f" (or {max_seconds:.0f} s of timed steps, whichever ends first)" if max_seconds else "")
            + f"; data: {args.root or f'{base.num_train} rendered spectral scenes'}; device {device}; "
              f"AMP {'float16 autocast + GradScaler' if device.type == 'cuda' else 'has no effect on a CPU'}")

        out("\n## Ceiling: large 3x3 convolution, forward + backward (3 x forward MACs)")
        shapes = [(64, 32, 1)] if dry else speed.QUICK_CEILING_SHAPES["cuda" if device.type == "cuda" else "cpu"]
        ceilings = {}
        precisions = ("float16", "float32") if device.type == "cuda" else ("float32",)
        for precision in precisions:
            rates = speed.conv_ceiling(device, shapes, amp=precision == "float16",
                                       min_seconds=0.05 if dry else 0.3)
            ceilings[precision] = rates[0]
            out(speed.ceiling_report(rates))

        out(f"\n## Training steps ({', '.join(stages)}); progress:")
        results = speed.time_variants([main_variant], base, device, stages, data=args.root, warmup=warmup,
                                      steps=steps, max_seconds=max_seconds, data_kind=args.data_kind, log=out)
        if extra:
            results.update(speed.time_variants(
                extra, base, device, stages, data=args.root, warmup=warmup, steps=extra_steps,
                max_seconds=max_seconds, data_kind=args.data_kind, log=out, count=False))

        out("\n## Peak GPU memory per stage (torch.cuda.max_memory_allocated, whole stage)")
        main_results = results[main_variant.name]
        if device.type == "cuda":
            for stage, t in main_results.items():
                gib = t.peak_memory / 2**30 if t.peak_memory is not None else float("nan")
                out(f"- {stage}: {gib:.2f} GiB at batch {base.batch_size}, {base.image_size} px")
            free, total = torch.cuda.mem_get_info(device)
            out(f"- device: {total / 2**30:.1f} GiB in all, {free / 2**30:.1f} GiB free now")
        else:
            out("- not measured: no GPU (dry run)")

        out("\n## Results (the Options and Projected full run sections follow the table)")
        out(speed.report(results, ceilings, base, device))

        out("\n## Against the course's targets (issue 13: the whole course run <= 30 min on a T4, <= 12 GB)")
        total, _ = speed.projected_seconds(main_results, base)
        peaks = [t.peak_memory for t in main_results.values() if t.peak_memory is not None]
        gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "no GPU (dry run)"
        out(f"- measured on: {gpu}")
        out(f"- projected full run with AMP: " + (f"{total / 60:.1f} min" if total is not None else "not measured")
            + f" (target {TARGET_MINUTES:.0f} min on a T4; a T4 is slower than most other GPUs)")
        out(f"- largest peak memory of a stage: " + (f"{max(peaks) / 2**30:.2f} GiB" if peaks else "not measured")
            + f" (target {TARGET_GIB:.0f} GB)")
        failed = [f"{v}/{s}" for v, per in results.items() for s, t in per.items() if t.error]
        out(f"- failed: {', '.join(failed) if failed else 'nothing'}")
        return 1 if any(t.error for t in main_results.values()) else 0
    finally:
        out.close()


if __name__ == "__main__":
    sys.exit(main())
