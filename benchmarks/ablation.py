"""Ablation of MPFNet at an equal training budget: does the progressive, gray-guided route beat direct NIR -> RGB
translation, and does each part of MPFNet (Fig. 2) help?

    OMP_NUM_THREADS=1 python benchmarks/ablation.py      # the full table: 9 configurations x 3 seeds, budget S = 32
    python benchmarks/ablation.py --quick                # a tiny smoke check (seconds per run; numbers mean nothing)
    python benchmarks/ablation.py --configs progressive,direct --seeds 0,1,2,3,4
    python benchmarks/ablation.py --speed                # seconds per training step of every stage, then exit
    python benchmarks/ablation.py --report-only          # rewrite ablation.md / ablation.png from the CSV
    python benchmarks/ablation.py --trend A.csv,B.csv    # progressive vs direct across budgets -> budget_trend.*

Configurations (``--configs``, default all):

====================  ==========================================================================================
``progressive``       the paper's route (Fig. 1): translate (Eq. 1) -> pretrain (Eq. 2) -> finetune (Eqs. 3-5)
``direct``            the same MPFNet (1 -> 3 channels) trained NIR -> RGB directly with the same L_mix
``direct_unet``       the pix2pix-style ``UNetBaseline`` trained NIR -> RGB directly (single-path predecessors)
``no_attention``      progressive, RCAB without attention (``attention="none"``)
``se_attention``      progressive, squeeze-excitation instead of coordinate attention (``attention="se"``)
``no_instancenorm``   progressive, FEB steps without normalisation (``norm="none"``)
``no_sccm``           progressive, no SCCM (``sccm=False``)
``one_scale``         progressive, a single scale (``scales=1``) instead of 3
``no_feat_disc``      progressive, fine-tuning without the feature discriminator D_G^feat (Eq. 4 dropped)
====================  ==========================================================================================

The architecture switches are applied to every MPFNet of the route (G_N2G, G_G2N and F_G), as the course's
``make_configs`` does, because the paper uses the same network for the translator and the colorizer.

**Equal budget** (the one budget rule of the course, ``course_lib.train.profiles.stage_budget``). One budget unit
is ``--steps S`` (the pre-training steps). The progressive route runs ``translate = round(0.75 S)``,
``pretrain = S``, ``finetune = S // 2`` steps (the base profile's fine-tuning share: S // 4 with ``--profile cpu``).
A direct route gets, with ``--direct-budget updates`` (the
default), ``direct = pretrain + finetune`` generator updates: as many as the progressive route's colouriser F_G
receives; with ``--direct-budget seconds``, as many steps as fit in the CPU-seconds of the whole progressive
route (step costs measured once on the machine, ``OUT/step_seconds.json``). Everything else is equal: batch size,
image size, width, depth, learning rate (``--lr``, default 1e-4 as in Section III.A, pinned by this script so the
table does not move when the base profile's lr changes), data and augmentation. Equal updates are not equal
compute: a translate or finetune step runs 6-7 generator passes plus discriminators, a direct step one pass (both
are recorded per run: ``wall_s``, ``cpu_s``).

**One ablation module.** Every configuration is a set of switches of ``course_lib.course.ablation`` (the runner
of notebook 10's panel), trained by its ``train_or_load``: the same configs (from the profile's recipe), run
folders (``--work``/<switches>-<hash>) and training code as the panel.

**Data.** Training: ``num_train`` rendered spectral scenes of seed 0 (``course_lib.data.SpectralScenes``), the
same for every configuration and seed. Test: ``num_test`` held-out scenes of another seed
(``open_dataset(None, split="test")``: seed 0 + 1_000_003), rendered at the training size, never trained on.
The seed of a run (``--seeds``) sets weight initialisation, data order, augmentation and image pools.

**Metrics.** ``course_lib.metrics.evaluate`` on the test scenes: PSNR, SSIM, AE (8-bit), LPIPS when the
AlexNet backbone weights are on disk (``course_lib.metrics.backbone_path("alex")``), else NaN and a note. The
summary is the mean and the sample standard deviation (ddof = 1) over seeds of each run's mean over test images.

**Files** (``--out``, default ``benchmarks/results``): ``ablation.csv`` (one row per configuration and seed,
rewritten atomically after every run), ``ablation.md`` (mean +- std table, machine, budget, command),
``ablation.png`` (bars of mean PSNR / SSIM / AE with std error bars, the progressive bar highlighted). Training
folders go to ``--work`` (default ``runs/ablation``, git-ignored). **Resumable**: a (config, seed) that already
has a row in the CSV is skipped; an interrupted run resumes its stages from their checkpoints (flagged in the
``resumed`` column: its times then cover only the last part). Rows of another budget in the same CSV are refused.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

#: Each configuration as the switches of the course's ablation module (``course_lib.course.ablation``, the runner
#: behind notebook 10's panel): the same switches, configs, run folders and training code.
CONFIGS: dict[str, dict] = {
    "progressive": {},
    "direct": {"route": "direct"},
    "direct_unet": {"route": "direct_unet"},
    "no_attention": {"attention": "none"},
    "se_attention": {"attention": "se"},
    "no_instancenorm": {"norm": "none"},
    "no_sccm": {"sccm": False},
    "one_scale": {"scales": 1},
    "no_feat_disc": {"feat_disc": False},
}

#: Columns that define the budget: rows of one CSV must agree on all of them.
BUDGET_COLUMNS = ("image_size", "width", "depth", "batch_size", "lr", "translate_steps", "pretrain_steps",
                  "finetune_steps", "direct_steps", "num_train", "num_test")
COLUMNS = ("config", "seed", "route", "steps", *BUDGET_COLUMNS, "wall_s", "cpu_s", "translate_s", "pretrain_s",
           "finetune_s", "direct_s", "eval_s", "threads", "resumed", "psnr", "ssim", "ae", "lpips",
           "machine")
METRICS = ("psnr", "ssim", "ae", "lpips")


# ----------------------------------------------------------------------------------------------------------------
# machine, budget
# ----------------------------------------------------------------------------------------------------------------
def machine_description() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    gpu = (f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU")
    return (f"CPU {cpu}, {cores} cores available, torch {torch.__version__} with {torch.get_num_threads()} "
            f"thread(s), Python {platform.python_version()}, {platform.system()}, {gpu}")


def make_profile(args):
    """The Profile every run of this table uses (see the module docstring for the budget rule)."""
    from course_lib.train import get_profile

    base = get_profile(args.profile, verbose=False)
    changes = {}
    if args.size is not None:
        changes["image_size"] = args.size
    if args.width is not None:
        changes["width"] = args.width
    if args.depth is not None:
        changes["depth"] = args.depth
    if args.batch is not None:
        changes["batch_size"] = args.batch
    changes["lr"] = args.lr  # pinned here: the base profile's lr is not part of this table's definition
    profile = base.replace(**changes, num_train=args.num_train, num_test=args.num_test, amp=False)
    s = args.steps
    # the one budget rule (course_lib.train.profiles.stage_budget), in updates or in measured CPU-seconds
    seconds = getattr(args, "step_seconds", None)   # set by main() once measured (--direct-budget seconds)
    profile = profile.with_budget(s, max(1, round(0.75 * s)), direct="seconds" if seconds else "updates",
                                  step_seconds=seconds)
    longest = max(profile.translate_steps, profile.pretrain_steps, profile.direct_steps, 1)
    return profile.replace(sample_every=longest, checkpoint_every=max(1, min(args.checkpoint_every, longest)),
                           log_every=max(1, min(10, longest)))


def step_seconds(args, profile, train_set) -> dict[str, float]:
    """Seconds per step of each stage for ``--direct-budget seconds``: measured once on this machine
    (``course_lib.train.measure_step_seconds``) and kept in ``OUT/step_seconds.json``, so a resumed table and
    ``--report-only`` use the same budget."""
    import json

    from course_lib.train import measure_step_seconds

    path = args.out / "step_seconds.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    if args.report_only or args.trend:
        raise SystemExit(f"error: {path} is missing: run the table with --direct-budget seconds first")
    seconds = measure_step_seconds(profile, train_set, device="cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(seconds, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return seconds


def budget_of(profile) -> dict:
    return {k: getattr(profile, k) for k in BUDGET_COLUMNS}


def same_value(a, b) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9)
    except (TypeError, ValueError):
        return str(a) == str(b)


# ----------------------------------------------------------------------------------------------------------------
# data, once per process
# ----------------------------------------------------------------------------------------------------------------
class RenderedScenes:
    """A list of rendered scene items (nir, rgb, name) that describes itself like the dataset it came from."""

    def __init__(self, dataset, desc: str):
        from tqdm.auto import tqdm

        self.items = [{"nir": it["nir"], "rgb": it["rgb"], "name": it["name"]}
                      for it in (dataset[i] for i in tqdm(range(len(dataset)), desc=f"rendering {desc}",
                                                          leave=False))]
        self.desc = desc

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]

    def __repr__(self) -> str:
        return self.desc


def make_data(profile):
    from course_lib.data import open_dataset
    from course_lib.train.loop import SPECTRAL_TRAIN_SEED

    train = open_dataset(None, split="train", size=profile.image_size, count=profile.num_train,
                         seed=SPECTRAL_TRAIN_SEED)
    test = open_dataset(None, split="test", size=profile.image_size, count=profile.num_test,
                        seed=SPECTRAL_TRAIN_SEED)
    if train.seed == test.seed:
        raise RuntimeError("test scenes must use another seed than the training scenes")
    return RenderedScenes(train, repr(train)), RenderedScenes(test, repr(test))


# ----------------------------------------------------------------------------------------------------------------
# one run
# ----------------------------------------------------------------------------------------------------------------
def lpips_setting():
    """'auto' when the LPIPS backbone file is on disk, else False (no download attempt) and the reason."""
    from course_lib.metrics import backbone_path

    path = backbone_path("alex")
    if path.is_file():
        return "auto", ""
    return False, f"LPIPS not measured: its AlexNet backbone weights are absent ({path}); the column is NaN."


class StepTimer:
    """Callback for the stages: wall time of every finished step (to report seconds per step)."""

    def __init__(self):
        self.times: list[float] = []

    def __call__(self, step, losses) -> None:
        self.times.append(time.perf_counter())


def switches_of(config: str, seed: int):
    """The course ablation module's switches of a configuration of this table."""
    from course_lib.course.ablation import AblationSwitches

    return AblationSwitches(seed=seed, **CONFIGS[config])


def train_and_evaluate(config: str, seed: int, profile, train_set, test_set, work: Path, lpips) -> dict:
    """Train (or resume) one configuration with the course's ablation runner, evaluate it on the test scenes."""
    from course_lib.course.ablation import ROUTE_STAGES, run_folder, train_or_load
    from course_lib.metrics import evaluate

    switches = switches_of(config, seed)
    resumed = any(run_folder(switches, profile, work, train_set).glob("*/checkpoint.pt"))
    timings: dict = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    colorizer, run_dir, _ = train_or_load(switches, profile, work, train_set, device="cpu", verbose=False,
                                          timings=timings)
    stages = ROUTE_STAGES[switches.route]
    times = {f"{stage}_s": timings.get(f"{stage}_s", math.nan) for stage in ("translate", "pretrain", "finetune")}
    times["direct_s"] = timings.get(f"{stages[-1]}_s", math.nan) if switches.route != "progressive" else math.nan
    steps = (profile.translate_steps + profile.pretrain_steps + profile.finetune_steps
             if switches.route == "progressive" else profile.direct_steps)
    t = time.perf_counter()
    evaluation = evaluate(colorizer, test_set, batch_size=8, lpips=lpips, method=config)
    eval_s = time.perf_counter() - t
    route = "progressive" if switches.route == "progressive" else "direct"
    row = {"config": config, "seed": seed, "route": route, "steps": steps, **budget_of(profile),
           "wall_s": time.perf_counter() - wall0, "cpu_s": time.process_time() - cpu0, **times, "eval_s": eval_s,
           "threads": torch.get_num_threads(), "resumed": int(resumed)}
    row.update({k: evaluation.summary[k][0] for k in METRICS})
    row["machine"] = machine_description()
    return row


def untrained_references(train_set, test_set) -> dict[str, dict]:
    """Scores of the two predictors that learn nothing (``course_lib.metrics.reference_predictors``: the NIR image
    copied to R, G and B, and the mean training colour everywhere), to read the table against."""
    from course_lib.metrics import evaluate, reference_predictors

    refs = reference_predictors(train_set.items)
    return {name: {k: evaluate(fn, test_set, lpips=False, method=name).summary[k][0] for k in ("psnr", "ssim", "ae")}
            for name, fn in refs.items()}


# ----------------------------------------------------------------------------------------------------------------
# CSV (atomic), summary, plot, markdown
# ----------------------------------------------------------------------------------------------------------------
def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows_atomic(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(COLUMNS), extrasaction="ignore")
            writer.writeheader()
            for r in rows:
                writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def check_budget(rows: list[dict], budget: dict, path: Path) -> None:
    for r in rows:
        diffs = [f"{k}: {r.get(k)} in the CSV, {budget[k]} now" for k in BUDGET_COLUMNS
                 if not same_value(r.get(k), budget[k])]
        if diffs:
            raise SystemExit(f"error: {path} holds rows of another budget ({'; '.join(diffs)}); "
                             "use another --out (or delete the file) to start a table with this budget")


def summarize(rows: list[dict]) -> dict[str, dict]:
    """config -> {n, seeds, metric: (mean, std over seeds, ddof=1), wall_s/cpu_s: mean}."""
    out = {}
    for config in CONFIGS:
        mine = [r for r in rows if r["config"] == config]
        if not mine:
            continue
        s = {"n": len(mine), "seeds": sorted(int(r["seed"]) for r in mine)}
        for k in (*METRICS, "wall_s", "cpu_s"):
            v = np.array([float(r[k]) for r in mine], dtype=float)
            if np.isnan(v).all():
                s[k] = (math.nan, math.nan)
            else:
                s[k] = (float(np.nanmean(v)), float(np.nanstd(v, ddof=1)) if len(v) > 1 else math.nan)
        out[config] = s
    return out


def fmt(mean: float, std: float, d: int) -> str:
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.{d}f} ± {std:.{d}f}" if not math.isnan(std) else f"{mean:.{d}f}"


def markdown(summary: dict, rows: list[dict], profile, args, machine: str, command: str, lpips_note: str,
             total_wall: float | None, references: dict | None = None) -> str:
    done = sum(s["n"] for s in summary.values())
    machines = sorted({r["machine"] for r in rows if r.get("machine")})
    if machines:
        machine = "; ".join(machines)
    wanted = len(args.config_list) * len(args.seed_list)
    lines = [
        "# Ablation of MPFNet at an equal training budget (measured)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine}.",
        "",
        f"Rows: {done} of {wanted} (configurations x seeds requested); "
        + ("complete." if done >= wanted else "**incomplete**: see the n column."),
        "",
        "## Budget",
        "",
        f"- Image size {profile.image_size} px, MPFNet width {profile.width}, depth {profile.depth}, batch "
        f"{profile.batch_size}, Adam lr {profile.lr}, betas (0.5, 0.999), float32, augmentation on "
        f"(PairAugment), same for every configuration.",
        f"- Progressive route: translate {profile.translate_steps} + pretrain {profile.pretrain_steps} + finetune "
        f"{profile.finetune_steps} = {profile.translate_steps + profile.pretrain_steps + profile.finetune_steps} "
        "optimizer steps.",
        (f"- Direct routes (`direct`, `direct_unet`): {profile.direct_steps} generator updates = pretrain + "
         "finetune steps, as many as the progressive route's colouriser F_G gets (the course's one budget rule, "
         "equal *updates* at equal batch and image size). Not equal in compute: a translate/finetune step runs 6-7 "
         "generator passes and the discriminators, a direct step one pass (see the time columns)."
         if args.direct_budget == "updates" else
         f"- Direct routes (`direct`, `direct_unet`): {profile.direct_steps} generator updates, as many as fit in "
         "the CPU-seconds of the whole progressive route (the course's one budget rule in seconds; step costs "
         "measured on this machine, `step_seconds.json`)."),
        f"- Data: {profile.num_train} training scenes (SpectralScenes seed 0, shared by all runs), "
        f"{profile.num_test} held-out test scenes (seed 1000003), {profile.image_size} px.",
        f"- Seeds: {', '.join(map(str, args.seed_list))} (weight init, data order, augmentation, pools).",
        "",
        "## Results (mean ± std over seeds of the per-run mean over test scenes; std with ddof = 1)",
        "",
        "| config | n | PSNR (↑) | SSIM (↑) | AE (↓) | LPIPS (↓) | PSNR − progressive | wall s / run "
        "| CPU s / run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    ref = summary.get("progressive", {}).get("psnr", (math.nan, math.nan))[0]
    for config, s in summary.items():
        delta = s["psnr"][0] - ref
        lines.append(
            f"| {'**' + config + '**' if config == 'progressive' else config} | {s['n']} | {fmt(*s['psnr'], 2)} | "
            f"{fmt(*s['ssim'], 3)} | {fmt(*s['ae'], 2)} | {fmt(*s['lpips'], 3)} | "
            f"{'-' if config == 'progressive' or math.isnan(delta) else f'{delta:+.2f} dB'} | "
            f"{s['wall_s'][0]:.0f} | {s['cpu_s'][0]:.0f} |")
    lines += ["", f"Note: {lpips_note}" if lpips_note else "Note: LPIPS with the AlexNet backbone.", ""]
    if references:
        lines += ["Untrained references on the same test scenes (no learning; to read the table against):", ""]
        lines += [f"- {name}: PSNR {v['psnr']:.2f}, SSIM {v['ssim']:.3f}, AE {v['ae']:.2f}"
                  for name, v in references.items()]
        best = max(references.items(), key=lambda kv: kv[1]["psnr"])
        above = [c for c, s in summary.items() if s["psnr"][0] > best[1]["psnr"]]
        below = [c for c, s in summary.items() if s["psnr"][0] <= best[1]["psnr"]]
        lines += ["", f"Mean PSNR above the best untrained reference ({best[0]}, {best[1]['psnr']:.2f} dB): "
                  f"{', '.join(above) or 'none'}; at or below it: {', '.join(below) or 'none'}. Configurations "
                  "at or below it have not learned more than the average colour under this budget, so their "
                  "differences say little about the methods.", ""]
    lines += ["## Reading", ""] + verdict(summary) + [""]
    total_runs = sum(float(r["wall_s"]) for r in rows)
    lines += [f"Sum of the per-run wall times (training + evaluation) of the {len(rows)} rows: "
              f"{total_runs / 60:.1f} min; CPU time {sum(float(r['cpu_s']) for r in rows) / 60:.1f} min.", ""]
    if total_wall is not None:
        lines += [f"Wall time of this invocation: {total_wall / 60:.1f} min (rows computed in earlier invocations "
                  "not included).", ""]
    lines += ["Per-run rows: `ablation.csv`; figure: `ablation.png`. Tiny CPU budget: these numbers compare "
              "configurations under this budget only; they are not the paper's Table I setting.", ""]
    return "\n".join(lines)


def verdict(summary: dict) -> list[str]:
    """Plain statements computed from the numbers (no judgement added by hand)."""
    if "progressive" not in summary:
        return ["- The progressive configuration has no rows yet."]
    p = summary["progressive"]
    out = []
    for other in summary:
        if other == "progressive":
            continue
        o = summary[other]
        d_psnr, d_ae = p["psnr"][0] - o["psnr"][0], p["ae"][0] - o["ae"][0]
        noise = math.sqrt(np.nansum([p["psnr"][1] ** 2, o["psnr"][1] ** 2]))
        better = "higher" if d_psnr > 0 else "lower"
        ae = "lower (better)" if d_ae < 0 else "higher (worse)"
        within = " (within one combined std)" if abs(d_psnr) <= noise else ""
        out.append(f"- progressive vs {other}: PSNR {abs(d_psnr):.2f} dB {better}{within}, "
                   f"AE {abs(d_ae):.2f}° {ae}.")
    return out


def plot(summary: dict, path: Path, title: str, references: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    panels = (("psnr", "PSNR (dB, ↑)"), ("ssim", "SSIM (↑)"), ("ae", "AE (degrees, ↓)"))
    for ax, (key, label) in zip(axes, panels):
        means = [summary[n][key][0] for n in names]
        stds = [0.0 if math.isnan(summary[n][key][1]) else summary[n][key][1] for n in names]
        colors = ["tab:red" if n == "progressive" else "tab:gray" if n.startswith("direct") else "tab:blue"
                  for n in names]
        ax.bar(range(len(names)), means, yerr=stds, color=colors, capsize=3, edgecolor="black", linewidth=0.5)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([f"{n}\n(n={summary[n]['n']})" for n in names], rotation=60, ha="right", fontsize=8)
        ax.set_title(label)
        lo = min(m - s for m, s in zip(means, stds))
        hi = max(m + s for m, s in zip(means, stds))
        if "progressive" in summary:
            ax.axhline(summary["progressive"][key][0], color="tab:red", linewidth=0.8, linestyle="--")
        for (name, values), style in zip((references or {}).items(), (":", "-.")):
            ax.axhline(values[key], color="black", linewidth=1.0, linestyle=style, label=f"untrained: {name}")
            lo, hi = min(lo, values[key]), max(hi, values[key])
        pad = 0.15 * (hi - lo + 1e-9)
        ax.set_ylim(lo - pad, hi + pad)
        if references:
            ax.legend(fontsize=7, loc="best")
    fig.suptitle(title + "\n(y axes do not start at 0: look at the numbers; dashed line: progressive)",
                 fontsize=9)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def write_reports(out: Path, rows, profile, args, machine, command, lpips_note, total_wall,
                  references: dict | None = None) -> dict:
    summary = summarize(rows)
    if not summary:
        return summary
    md = markdown(summary, rows, profile, args, machine, command, lpips_note, total_wall, references)
    tmp = out / "ablation.md.tmp"
    tmp.write_text(md, encoding="utf-8")
    os.replace(tmp, out / "ablation.md")
    plot(summary, out / "ablation.png",
         f"MPFNet ablation, {profile.image_size} px, width {profile.width}, progressive "
         f"{profile.translate_steps}+{profile.pretrain_steps}+{profile.finetune_steps} steps vs direct "
         f"{profile.direct_steps}; mean ± std over seeds (red: progressive)", references)
    return summary


def budget_trend(csv_paths: list[Path], out: Path, references: dict | None = None) -> str:
    """Mean ± std over seeds of the three routes at every (learning rate, budget) found in ``csv_paths``; writes
    ``budget_trend.md`` and ``budget_trend.png`` (PSNR, SSIM and AE against the budget unit S) to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    routes = ("progressive", "direct", "direct_unet")
    table: dict[tuple[str, float, int], dict] = {}
    info: dict[tuple[str, float, int], tuple[int, str]] = {}
    for path in csv_paths:
        rows = read_rows(path)
        groups: dict[tuple[str, float, int], list[dict]] = {}
        for r in rows:
            if r["config"] in routes:
                key = (r["config"], float(r.get("lr") or "nan"), int(r["pretrain_steps"]))
                groups.setdefault(key, []).append(r)
        for key, mine in groups.items():
            table[key] = summarize(mine)[key[0]]
            info[key] = (int(mine[0]["steps"]), path.parent.name)
    lrs = sorted({k[1] for k in table})
    budgets = sorted({k[2] for k in table})
    lines = ["# Progressive vs direct at several budgets (measured)", "",
             "S = pretrain steps; progressive = translate 0.75 S + pretrain S + finetune S/2 steps; each direct "
             "route gets the same total number of updates (2.25 S). 64 px, width 8, depth 3, batch 4, 32 training "
             "scenes, 16 held-out test scenes; mean ± std (ddof = 1) over seeds.", "",
             "| lr | S | updates | config | n | PSNR (↑) | SSIM (↑) | AE (↓) | CPU s / run | folder |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for lr in lrs:
        for steps in budgets:
            for config in routes:
                s = table.get((config, lr, steps))
                if s is None:
                    continue
                total, folder = info[(config, lr, steps)]
                lines.append(f"| {lr:g} | {steps} | {total} | {config} | {s['n']} | {fmt(*s['psnr'], 2)} | "
                             f"{fmt(*s['ssim'], 3)} | {fmt(*s['ae'], 2)} | {s['cpu_s'][0]:.0f} | `{folder}/` |")
    if references:
        lines += ["", "Untrained references: " + "; ".join(
            f"{name}: PSNR {v['psnr']:.2f}, SSIM {v['ssim']:.3f}, AE {v['ae']:.2f}" for name, v in references.items())]
    text = "\n".join(lines) + "\n"
    (out / "budget_trend.md").write_text(text, encoding="utf-8")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    colors = {"progressive": "tab:red", "direct": "tab:gray", "direct_unet": "black"}
    styles = ["-", "--", ":"]
    panels = (("psnr", "PSNR (dB, ↑)"), ("ssim", "SSIM (↑)"), ("ae", "AE (degrees, ↓)"))
    for ax, (key, label) in zip(axes, panels):
        for i, lr in enumerate(lrs):
            for config in routes:
                xs = [b for b in budgets if (config, lr, b) in table]
                if not xs:
                    continue
                ms = [table[(config, lr, b)][key][0] for b in xs]
                ss = [0.0 if math.isnan(table[(config, lr, b)][key][1]) else table[(config, lr, b)][key][1]
                      for b in xs]
                ax.errorbar(xs, ms, yerr=ss, marker="so^"[i % 3], capsize=3, color=colors[config],
                            linestyle=styles[i % len(styles)], label=f"{config}, lr {lr:g}")
        for (name, values), style in zip((references or {}).items(), (":", "-.")):
            ax.axhline(values[key], color="tab:green", linewidth=0.8, linestyle=style, label=f"untrained: {name}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(budgets)
        ax.set_xticklabels([str(b) for b in budgets])
        ax.set_xlabel("budget unit S (pretrain steps; 2.25 S updates per route)")
        ax.set_title(label)
        ax.legend(fontsize=6)
    fig.suptitle("Progressive vs direct NIR -> RGB at equal updates, 64 px spectral scenes, mean ± std over seeds",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "budget_trend.png", dpi=110)
    plt.close(fig)
    return text


# ----------------------------------------------------------------------------------------------------------------
# speed mode
# ----------------------------------------------------------------------------------------------------------------
def speed(profile, train_set, steps: int, machine: str) -> str:
    """Seconds per training step of each stage (median over ``steps`` steps after the first), at this profile."""
    from course_lib.train import finetune, make_configs, pretrain, train_direct, translate

    p = profile.replace(translate_steps=steps, pretrain_steps=steps, finetune_steps=steps, direct_steps=steps,
                        sample_every=10**9, checkpoint_every=10**9)
    configs = make_configs(seed=0)
    lines = [f"Training step time per stage ({machine})",
             f"setting: {p.image_size} px, width {p.width}, depth {p.depth}, batch {p.batch_size}, float32, "
             f"{steps} steps per stage, median of steps 2..{steps}"]
    with tempfile.TemporaryDirectory() as work:
        jobs = [("translate", translate, (configs["translate"],), {}),
                ("pretrain", pretrain, (configs["pretrain"],), {}),
                ("finetune", finetune, (configs["finetune"],), {}),
                ("direct (MPFNet)", train_direct, (configs["direct"],), {"model": "mpfnet"}),
                ("direct (UNet)", train_direct, (configs["direct"],), {"model": "unet"})]
        for name, fn, a, kw in jobs:
            timer = StepTimer()
            t0 = time.perf_counter()
            timer.times.append(t0)
            fn(p, work, train_set, *a, device="cpu", callback=timer, **kw)
            dt = np.diff(timer.times)
            per = float(np.median(dt[1:])) if len(dt) > 1 else float(dt[0])
            lines.append(f"  {name:16s}: {per:.3f} s/step, {p.batch_size / per:.2f} images/s "
                         f"(first step incl. setup {dt[0]:.2f} s)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configurations (default all)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--profile", default="smoke", help="base profile (default smoke: batch 4, width 8, depth 3)")
    parser.add_argument("--steps", type=int, default=None,
                        help="budget unit S = pretrain steps; translate 0.75 S, finetune S // 2 (S // 4 in cpu), "
                             "direct by --direct-budget (default 32: translate 24, pretrain 32, finetune 16, direct 48)")
    parser.add_argument("--direct-budget", default="updates", choices=["updates", "seconds"],
                        help="updates: direct = pretrain + finetune generator updates (default); seconds: as many "
                             "CPU-seconds as the whole progressive route, from step costs measured once and kept "
                             "in OUT/step_seconds.json (the one budget rule, course_lib.train.profiles.stage_budget)")
    parser.add_argument("--size", type=int, default=None, help="image size (default 64)")
    parser.add_argument("--width", type=int, default=None, help="MPFNet width (default: the profile's)")
    parser.add_argument("--depth", type=int, default=None, help="FEB depth (default: the profile's)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default: the profile's)")
    parser.add_argument("--lr", type=float, default=1e-4,
                        help="Adam learning rate of every optimizer (default 1e-4, Section III.A)")
    parser.add_argument("--num-train", type=int, default=32, help="training scenes (default 32)")
    parser.add_argument("--num-test", type=int, default=16, help="held-out test scenes (default 16)")
    parser.add_argument("--checkpoint-every", type=int, default=20, help="stage checkpoint interval (default 20)")
    parser.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    parser.add_argument("--work", default=None, help="training folders (default runs/ablation)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke check: 48 px, width 4, depth 2, S=2, 4/2 scenes, seed 0; "
                             "writes to /tmp/ablation_quick unless --out/--work are given")
    parser.add_argument("--speed", action="store_true", help="time training steps of every stage and exit")
    parser.add_argument("--speed-steps", type=int, default=4, help="steps per stage in --speed mode")
    parser.add_argument("--speed-out", default=None, help="append the --speed report to this file")
    parser.add_argument("--trend", default=None, metavar="CSV,CSV,...",
                        help="train nothing: compare progressive / direct / direct_unet across the budgets of these "
                             "ablation.csv files; writes budget_trend.md / .png to --out")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: rewrite ablation.md / ablation.png from the CSV (same other options)")
    args = parser.parse_args(argv)
    if args.quick:
        args.size = args.size or 48
        args.width = args.width or 4
        args.depth = args.depth or 2
        args.steps = args.steps or 2
        args.num_train, args.num_test = min(args.num_train, 4), min(args.num_test, 2)
        if args.seeds == "0,1,2":
            args.seeds = "0"
        args.out = args.out or "/tmp/ablation_quick"
        args.work = args.work or "/tmp/ablation_quick/runs"
    args.size = args.size or 64
    args.steps = args.steps or 32
    args.out = Path(args.out or Path(__file__).resolve().parent / "results")
    args.work = Path(args.work or "runs/ablation")
    args.config_list = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in args.config_list if c not in CONFIGS]
    if unknown:
        parser.error(f"--configs: unknown {unknown}; expected names from {list(CONFIGS)}")
    try:
        args.seed_list = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds: expected comma-separated integers, got {args.seeds!r}")
    if args.steps < 1 or args.size < 8:
        parser.error("--steps must be >= 1 and --size >= 8")
    return args


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    threads = os.environ.get("OMP_NUM_THREADS")
    command = ((f"OMP_NUM_THREADS={threads} " if threads else "") + "python benchmarks/ablation.py "
               + " ".join(shlex.quote(a) for a in argv if a != "--report-only")).strip()
    profile = make_profile(args)
    machine = machine_description()
    print(machine)
    print(f"budget: {profile.image_size} px, width {profile.width}, depth {profile.depth}, batch "
          f"{profile.batch_size}; progressive {profile.translate_steps}+{profile.pretrain_steps}+"
          f"{profile.finetune_steps} steps, direct {profile.direct_steps}; {profile.num_train} train / "
          f"{profile.num_test} test scenes")
    t0 = time.perf_counter()
    train_set, test_set = make_data(profile)
    if args.direct_budget == "seconds":
        args.step_seconds = step_seconds(args, profile, train_set)
        profile = make_profile(args)
        print(f"direct route by CPU-seconds ({args.out / 'step_seconds.json'}): {profile.direct_steps} steps")
    if args.trend:
        paths = [Path(p) for p in args.trend.split(",") if p.strip()]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise SystemExit(f"error: --trend: no such file(s) {missing}")
        args.out.mkdir(parents=True, exist_ok=True)
        print(budget_trend(paths, args.out, untrained_references(train_set, test_set)))
        return
    if args.report_only:
        rows = read_rows(args.out / "ablation.csv")
        check_budget(rows, budget_of(profile), args.out / "ablation.csv")
        summary = write_reports(args.out, rows, profile, args, machine, command, lpips_setting()[1], None,
                                untrained_references(train_set, test_set))
        if summary:
            print((args.out / "ablation.md").read_text(encoding="utf-8"))
        return
    print(f"data rendered in {time.perf_counter() - t0:.1f} s: train {train_set!r}, test {test_set!r}")

    if args.speed:
        report = speed(profile, train_set, args.speed_steps, machine)
        print(report)
        if args.speed_out:
            with open(args.speed_out, "a", encoding="utf-8") as f:
                f.write(report + "\n")
        return

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "ablation.csv"
    rows = read_rows(csv_path)
    budget = budget_of(profile)
    check_budget(rows, budget, csv_path)
    lpips, lpips_note = lpips_setting()
    if lpips_note:
        print(lpips_note)
    done = {(r["config"], int(r["seed"])) for r in rows}
    todo = [(c, s) for s in args.seed_list for c in args.config_list if (c, s) not in done]
    print(f"{len(done)} rows already in {csv_path}; {len(todo)} runs to do")
    for i, (config, seed) in enumerate(todo, 1):
        print(f"\n=== [{i}/{len(todo)}] {config} seed {seed} ({time.strftime('%H:%M:%S')}) ===", flush=True)
        row = train_and_evaluate(config, seed, profile, train_set, test_set, args.work, lpips)
        rows.append(row)
        write_rows_atomic(csv_path, rows)
        write_reports(out, rows, profile, args, machine, command, lpips_note, time.perf_counter() - t0)
        print(f"=== {config} seed {seed}: PSNR {row['psnr']:.2f} SSIM {row['ssim']:.3f} AE {row['ae']:.2f} "
              f"in {row['wall_s']:.0f} s wall, {row['cpu_s']:.0f} s CPU ===", flush=True)
    summary = write_reports(out, rows, profile, args, machine, command, lpips_note, time.perf_counter() - t0,
                            untrained_references(train_set, test_set))
    if summary:
        print((out / "ablation.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
