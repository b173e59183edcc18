"""Does the pipeline learn real colour on a CPU budget? Trains the progressive route (translate -> pretrain ->
finetune) and the direct route on the VCIP 2020 training pairs and measures them, with diagnostics, on the 18
validation pairs at their stored 256 px.

    python benchmarks/vcip_cpu.py --root DIR                      # the `cpu` profile, seeds 0 1 2
    python benchmarks/vcip_cpu.py --root DIR --seeds 0 --fraction 0.5   # half the budget (the trend)
    python benchmarks/vcip_cpu.py --root DIR --report             # rewrite the report from the saved rows
    python benchmarks/vcip_cpu.py --root DIR --config colour_match=1   # a training-config field in every stage
    python benchmarks/vcip_cpu.py --root DIR --seeds 0 --set translator_width=16 --out runs/probe   # a variant
    python benchmarks/vcip_cpu.py --root DIR --seeds 0 --threads 2   # one run, two torch threads (slower here)
    python benchmarks/vcip_cpu.py --root DIR --seeds 0 --parallel-routes --points 1   # the 2-core laptop's
                                  # wall time: the direct route trains in a second process beside the progressive one
    python benchmarks/vcip_cpu.py --root DIR --routes direct --direct-budget seconds   # the direct route given the
                                                  # progressive route's CPU-seconds (joins the table of the same seeds)
    python benchmarks/vcip_cpu.py --root DIR --routes progressive --switch sccm=False   # the ablation: one part of
                                  # MPFNet switched off in every network of the route (course_lib.course.ablation)

What it records per seed (``runs/vcip_cpu/<profile>-f<fraction>-s<seed>/``, resumable; one JSON row per run in
``benchmarks/results/vcip_cpu/rows.jsonl``):

* the routes' PSNR / SSIM / AE on the validation pairs (``course_lib.metrics.evaluate``, 256 px, whole images);
* colourfulness (Hasler & Süsstrunk) of the outputs against the ground truth's;
* the translator's gray against the true gray of each pair (PSNR, correlation) after stage 1 and after stage 3,
  next to the NIR image itself taken as the gray;
* with ``--config colour_bins=W`` (F_G with a chroma-bin head), the progressive route also read at the
  annealed-mean temperatures ``READ_TEMPERATURES`` (``progressive_at_temperature``; the row's own scores are at the
  temperature it was trained with, ``bins_temperature``);
* the colouriser F_G on the *true* grays (an oracle for stage 2: what the progressive route could reach with a
  perfect translator), and the progressive route before fine-tuning (G_N2G of stage 1 + F_G of stage 2);
* learning curves: validation PSNR against steps and CPU-seconds, each stage paused at ``--points`` evenly spaced
  steps to measure it (a pause saves the stage's whole state, optimizers included, and the stage resumes from
  it: the pieces add up to one uninterrupted run);
* CPU and wall seconds per stage, and with ``--parallel-routes`` the wall time of the whole run: the direct route
  then trains in a second process (one thread each) while the progressive route's three stages train in this one,
  which is how two cores are best used at these sizes (measured on the idle 2-core AMD EPYC machine with
  ``benchmarks/speed.py --threads 1`` / ``--threads 2``: one torch thread per step is faster than two, 0.53 against
  0.74 s per translate step, 0.47 against 0.72 per direct step; ``results/vcip_cpu/threads_1_vs_2.md``).

The report (``benchmarks/results/vcip_cpu/report.md``, ``curves.png``, ``colorizations.png``) puts the mean ±
std over seeds next to the two predictors that learn nothing (mean training colour, NIR copied to RGB). No
thresholds: it prints and writes what it measured.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from course_lib.data import VCIP2020, to_gray
from course_lib.metrics import colourfulness, evaluate, psnr_per_image, reference_predictors
from course_lib.models import BinnedMPFNet
from course_lib.train import finetune, get_profile, measure_step_seconds, pretrain, train_direct, translate
from course_lib.train.inference import DirectColorizer, ProgressiveColorizer

RESULTS = Path(__file__).parent / "results" / "vcip_cpu"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {len(os.sched_getaffinity(0))} cores available, torch {torch.__version__} with "
            f"{torch.get_num_threads()} thread(s)")


class Held:
    """The validation pairs as stacked tensors, and the measurements made on them."""

    def __init__(self, root: Path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the stray Validation/test_options.py
            self.dataset = VCIP2020(root, "val")
        items = [self.dataset[i] for i in range(len(self.dataset))]
        self.nir = torch.stack([it["nir"] for it in items])
        self.rgb = torch.stack([it["rgb"] for it in items])
        self.gray = to_gray(self.rgb)

    def gray_stats(self, gray: torch.Tensor) -> dict:
        g = gray.clamp(-1, 1)
        psnr = float(psnr_per_image(g.expand(-1, 3, -1, -1), self.gray.expand(-1, 3, -1, -1)).mean())
        corr = float(torch.corrcoef(torch.stack([g.flatten(), self.gray.flatten()]))[0, 1])
        return {"psnr": psnr, "corr": corr}

    def oracles(self) -> dict[str, float]:
        """PSNR (dB, mean over pairs) of predictors that peek at each validation pair's own RGB image: what a
        per-image tone curve or a per-image colour could reach at best (context for the targets, not methods)."""
        def affine_fit(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            """Per image, the least-squares a * x + b to y (x: (N, 1, H, W), y: (N, C, H, W))."""
            xf, yf = x.flatten(2), y.flatten(2)
            xc, yc = xf - xf.mean(-1, keepdim=True), yf - yf.mean(-1, keepdim=True)
            a = (xc * yc).sum(-1, keepdim=True) / (xc * xc).sum(-1, keepdim=True).clamp_min(1e-12)
            return (a * xc + yf.mean(-1, keepdim=True)).view_as(y).clamp(-1, 1)

        def score(pred: torch.Tensor) -> float:
            return float(psnr_per_image(pred.expand(-1, 3, -1, -1), self.rgb).mean())

        return {"own mean colour": score(self.rgb.mean((2, 3), keepdim=True).expand_as(self.rgb)),
                "NIR, best affine map to the own gray": score(affine_fit(self.nir, self.gray)),
                "NIR, best affine map to each own RGB channel": score(affine_fit(self.nir, self.rgb)),
                "own gray copied to RGB": score(self.gray)}

    def scores(self, colorizer, name: str) -> dict:
        s = evaluate(colorizer, self.dataset, lpips=False, method=name, batch_size=6).summary
        with torch.no_grad():
            out = torch.cat([colorizer(self.nir[i:i + 6]) for i in range(0, len(self.nir), 6)])
        return {"psnr": s["psnr"][0], "ssim": s["ssim"][0], "ae": s["ae"][0],
                "colourfulness": float(colourfulness(out).mean())}

    def temperature_scores(self, colorizer) -> dict[str, dict]:
        """A progressive route whose F_G has a chroma-bin head, read at each of :data:`READ_TEMPERATURES` (the
        trained temperature is restored): ``{"T=1": scores, ...}``."""
        trained = colorizer.f_g.temperature
        try:
            out = {}
            for t in READ_TEMPERATURES:
                colorizer.f_g.temperature = t
                out[f"T={t:g}"] = self.scores(colorizer, f"progressive T={t:g}")
            return out
        finally:
            colorizer.f_g.temperature = trained


#: The temperatures a progressive route with a chroma-bin head (``--config colour_bins=...``) is also read at,
#: besides the one it was trained with (reading only: no training depends on them).
READ_TEMPERATURES = (1.0, 0.38, 0.1)


class _Pause(KeyboardInterrupt):
    """Raised by :func:`_in_pieces`' callback at a measuring point: the stage saves its whole state and stops."""


def _in_pieces(train_fn, stage: str, total: int, points: int, out: Path, measure) -> tuple[object, list, float, float]:
    """Train ``stage`` to its ``total`` steps, pausing at ``points`` evenly spaced steps to ``measure`` its networks.

    ``train_fn(callback)`` runs the stage with the profile's own step count (so anything scheduled over the stage,
    like the translator's warm-up, is unchanged); the callback interrupts it at each measuring point, where the
    stage saves everything (weights, optimizers, pools, random states) like a Ctrl-C, and the next call resumes
    from there: the pieces add up to the uninterrupted run, Adam's moments included. ``measure(models)`` gets
    the stage's networks by name.
    """
    from course_lib.train import TrainingInterrupted, load_stage

    marks = sorted({max(1, round(total * k / points)) for k in range(1, points + 1)})

    def pause(step: int, losses: dict) -> None:
        if step in marks and step < total:
            raise _Pause

    curve, cpu, wall = [], 0.0, 0.0
    result = None
    while result is None:
        c0, w0 = time.process_time(), time.time()
        try:
            result = train_fn(pause)
            step, models = total, result.models
        except TrainingInterrupted as stop:
            if stop.step not in marks:  # a real Ctrl-C: the stage saved its state; stop the benchmark
                raise
            step, models = stop.step, load_stage(out, stage)
        cpu += time.process_time() - c0
        wall += time.time() - w0
        with torch.no_grad():
            curve.append({"step": step, "cpu_s": cpu, **measure(models)})
    return result, curve, cpu, wall


def switch_overrides(items: list[str]) -> tuple[dict, str]:
    """``--switch NAME=VALUE`` items -> (the training-config overrides of those ablation switches, a label such as
    ``sccm=False``). Names and values are those of ``course_lib.course.ablation.SWITCH_CHOICES`` (the route is
    chosen with ``--routes``); a wrong one raises ValueError naming the item and what was expected."""
    from course_lib.course.ablation import FULL_MODEL, SWITCH_CHOICES, AblationSwitches

    values: dict = {}
    for item in items:
        name, sep, text = (part.strip() for part in item.partition("="))
        if not sep or name not in SWITCH_CHOICES or name == "route":
            choices = ", ".join(f"{k}={'|'.join(map(str, v))}" for k, v in SWITCH_CHOICES.items() if k != "route")
            raise ValueError(f"--switch {item}: expected NAME=VALUE with one of {choices}")
        parsed = {"True": True, "False": False}.get(text, int(text) if text.isdigit() else text)
        if parsed not in SWITCH_CHOICES[name]:
            raise ValueError(f"--switch {item}: {name} takes one of {list(SWITCH_CHOICES[name])}, got {text!r}")
        values[name] = parsed
    full, changed = FULL_MODEL.overrides(), AblationSwitches(**values).overrides()
    overrides = {k: v for k, v in changed.items() if k != "seed" and v != full[k]}
    return overrides, ",".join(f"{k}={v}" for k, v in values.items() if v != SWITCH_CHOICES[k][0])


def _number(text: str) -> int | float:
    """A --set / --config value: an int when it is one (``16``), else a float (``1e-4``); ValueError otherwise."""
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _set_value(text: str) -> int | float | tuple[int, ...]:
    """A --set value: a number (``_number``), or per-scale integers joined by ``x`` (``3x4x4``, for the depth
    fields, coarsest scale first); ValueError otherwise."""
    if "x" in text:
        return tuple(int(part) for part in text.split("x"))
    return _number(text)


def _shown(value) -> str:
    """A --set value as it appears in a variant's name (a tuple as ``3x4x4``: commas separate the items)."""
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)


def config_overrides(items: list[str]) -> dict:
    """``--config FIELD=NUMBER`` items -> training-config overrides (fields of ``course_lib.train.make_configs``'s
    configs, e.g. ``colour_match``); a field no stage has, or a value that is not a number, raises ValueError
    naming the item."""
    from course_lib.train import make_configs

    values: dict = {}
    for item in items:
        name, _, text = (part.strip() for part in item.partition("="))
        try:
            values[name] = _number(text)
        except ValueError:
            raise ValueError(f"--config {item}: expected FIELD=NUMBER, e.g. colour_match=1") from None
    try:
        make_configs(**values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"--config {' '.join(items)}: {error}") from None
    return values


def _direct_elsewhere(root: Path, profile, seed: int, points: int, out: Path, threads: int,
                      overrides: dict | None = None) -> dict:
    """The direct route of one seed, in a process of its own (``--parallel-routes``): the row's direct fields."""
    from course_lib.train import make_configs

    torch.set_num_threads(threads)
    row: dict = {}
    _direct_route(row, {}, root, profile, points, out, make_configs(profile, seed=seed, **(overrides or {})),
                  Held(root))
    return row


def run_seed(root: Path, profile, seed: int, fraction: float, points: int, runs: Path, held: Held,
             variant: str = "", routes: str = "both", parallel: bool = False, overrides: dict | None = None) -> dict:
    """Train and measure one seed. ``routes``: ``both``, ``direct`` or ``progressive``; ``overrides``: training-config
    fields set in every stage (the ablation switches of ``--switch``, named in ``variant``)."""
    from course_lib.train import make_configs

    started = time.time()
    out = runs / f"{profile.name}-f{fraction:g}{'-' + variant if variant else ''}-s{seed}"
    # the profile's recipe (PROFILE_RECIPES, e.g. cpu: paired L1), then the switches
    configs = make_configs(profile, seed=seed, **(overrides or {}))
    row = {"profile": profile.name, "fraction": fraction, "seed": seed, "variant": variant, "points": points,
           "pauses_keep_optimizer": True, "budget": {
        k: getattr(profile, k) for k in ("translate_steps", "pretrain_steps", "finetune_steps", "direct_steps")},
        "run_dir": str(out)}
    timing = {}
    if routes == "direct":
        return _direct_route(row, timing, root, profile, points, out, configs, held)
    elsewhere = None
    if parallel and routes == "both":   # the direct route trains in a second process beside the progressive one
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        elsewhere = pool.submit(_direct_elsewhere, root, profile, seed, points, out, torch.get_num_threads(),
                                overrides)
        pool.shutdown(wait=False)

    t, row["curve_translate"], *timing["translate"] = _in_pieces(
        lambda cb: translate(profile, out, root, configs["translate"], callback=cb), "translate",
        profile.translate_steps, points, out,
        lambda m: held.gray_stats(torch.cat([m["g_n2g"](held.nir[i:i + 6])[-1] for i in range(0, len(held.nir), 6)])))
    row["translator_after_stage1"] = row["curve_translate"][-1]
    pre, row["curve_pretrain"], *timing["pretrain"] = _in_pieces(
        lambda cb: pretrain(profile, out, root, configs["pretrain"], callback=cb), "pretrain",
        profile.pretrain_steps, points, out,
        lambda m: {"oracle_psnr": float(psnr_per_image(torch.cat([m["f_g"](held.gray[i:i + 6])[-1]
                                                                   for i in range(0, len(held.gray), 6)]),
                                                        held.rgb).mean())})
    with torch.no_grad():
        oracle = torch.cat([pre.models["f_g"](held.gray[i:i + 6])[-1] for i in range(0, len(held.gray), 6)])
    row["oracle"] = {"psnr": float(psnr_per_image(oracle, held.rgb).mean()),
                     "colourfulness": float(colourfulness(oracle).mean())}
    row["before_finetune"] = held.scores(ProgressiveColorizer(t.models["g_n2g"], pre.models["f_g"]).eval(),
                                         "progressive before fine-tuning")
    fin, row["curve_finetune"], *timing["finetune"] = _in_pieces(
        lambda cb: finetune(profile, out, root, configs["finetune"], callback=cb), "finetune",
        profile.finetune_steps, points, out,
        lambda m: {"psnr": held.scores(ProgressiveColorizer(m["g_n2g"], m["f_g"]).eval(), "progressive")["psnr"]})
    row["progressive"] = held.scores(fin.colorizer, "progressive")
    if isinstance(fin.colorizer.f_g, BinnedMPFNet):   # colour_bins: the same route read at other temperatures
        row["bins_temperature"] = fin.colorizer.f_g.temperature
        row["progressive_at_temperature"] = held.temperature_scores(fin.colorizer)
    with torch.no_grad():
        row["translator_after_stage3"] = held.gray_stats(torch.cat([fin.colorizer.translate(held.nir[i:i + 6])
                                                                     for i in range(0, len(held.nir), 6)]))
    if routes == "progressive":
        row["timing"] = {k: {"cpu_s": v[0], "wall_s": v[1]} for k, v in timing.items()}
        row["machine"] = machine()
        return row
    if elsewhere is None:
        return _direct_route(row, timing, root, profile, points, out, configs, held)
    direct = elsewhere.result()
    row.update(curve_direct=direct["curve_direct"], direct=direct["direct"], parallel_routes=True,
               wall_total_s=time.time() - started)
    row["timing"] = {**{k: {"cpu_s": v[0], "wall_s": v[1]} for k, v in timing.items()},
                     "direct": direct["timing"]["direct"]}
    row["machine"] = machine()
    return row


def _direct_route(row: dict, timing: dict, root: Path, profile, points: int, out: Path, configs: dict,
                  held: Held) -> dict:
    d, row["curve_direct"], *timing["direct"] = _in_pieces(
        lambda cb: train_direct(profile, out, root, configs["direct"], callback=cb), "direct",
        profile.direct_steps, points, out,
        lambda m: {"psnr": held.scores(DirectColorizer(m["net"]).eval(), "direct")["psnr"]})
    row["direct"] = held.scores(d.colorizer, "direct")
    row["timing"] = {k: {"cpu_s": v[0], "wall_s": v[1]} for k, v in timing.items()}
    row["machine"] = machine()
    return row


def _group_variant(row: dict) -> str:
    """The row's variant without ``parallel`` (where the direct route trained changes no weight: tested), so that
    runs of one recipe share a table whichever way they were run."""
    return ",".join(v for v in (row.get("variant") or "").split(",") if v and v != "parallel")


def _recipe(row: dict) -> str:
    """The row's variant without how it was run (threads, ``parallel``, ``direct=seconds``): what was trained."""
    return ",".join(v for v in _group_variant(row).split(",")
                    if v and not v.startswith("threads=") and v != "direct=seconds")


def _switches_of(row: dict) -> str:
    """The ablation switches (``--switch``) in the row's variant, e.g. ``sccm=False``; "" for the full model."""
    from course_lib.course.ablation import SWITCH_CHOICES

    return ",".join(v for v in _group_variant(row).split(",") if v.partition("=")[0] in SWITCH_CHOICES)


def _without_switches(variant: str) -> str:
    from course_lib.course.ablation import SWITCH_CHOICES

    return ",".join(v for v in variant.split(",") if v and v.partition("=")[0] not in SWITCH_CHOICES)


def _loaded_stages(row: dict) -> list[str]:
    """Stages of a row that this invocation did not train (resumed finished: under 10 ms of CPU per step)."""
    steps = {"translate": "translate_steps", "pretrain": "pretrain_steps", "finetune": "finetune_steps",
             "direct": "direct_steps"}
    return [stage for stage, t in row.get("timing", {}).items()
            if stage in steps and t["cpu_s"] < 0.01 * row["budget"].get(steps[stage], 0)]


def ablation_table(groups: dict[tuple, list[dict]], references: dict) -> list[str]:
    """Markdown lines: every switched group (``--switch``) beside the full model of the same profile, fraction and
    other settings, with the per-seed PSNR difference (seeds both have), the diagnostics and the references."""
    lines: list[str] = []
    bases = sorted({(p, f, _without_switches(v)) for (p, f, v) in groups if v != _without_switches(v)})
    for profile, fraction, rest in bases:
        full = groups.get((profile, fraction, rest))
        if not full:
            continue
        full = sorted(full, key=lambda r: r["seed"])
        switched = {v: sorted(rs, key=lambda r: r["seed"]) for (p, f, v), rs in sorted(groups.items())
                    if (p, f) == (profile, fraction) and v != rest and _without_switches(v) == rest}
        lines += [f"## Ablation: profile `{profile}`, budget fraction {fraction:g}" + (f" ({rest})" if rest else ""),
                  "", "Each row switches one part of MPFNet off in every network of the progressive route "
                  "(`--routes progressive --switch NAME=VALUE`, `course_lib.course.ablation`); Δ PSNR is the mean ± "
                  "std over the seeds both rows have of (switched − full model), seed by seed.", "",
                  "| configuration | seeds | PSNR (↑) | Δ PSNR | SSIM (↑) | AE (↓) | colourfulness | translator gray "
                  "after stage 3 (dB) | F_G on true grays (dB) |", "|" + " --- |" * 9]
        by_seed = {r["seed"]: r for r in full}
        for label, rs in [("**full model** (progressive)", full)] + [(v.replace(rest, "").strip(","), rs)
                                                                     for v, rs in switched.items()]:
            deltas = [r["progressive"]["psnr"] - by_seed[r["seed"]]["progressive"]["psnr"] for r in rs
                      if r["seed"] in by_seed]
            lines.append(f"| {label} | {', '.join(str(r['seed']) for r in rs)} | " + " | ".join(
                [_mean_std([r["progressive"]["psnr"] for r in rs]),
                 "" if rs is full else (_mean_std(deltas) if deltas else "n/a"),
                 _mean_std([r["progressive"]["ssim"] for r in rs], 3),
                 _mean_std([r["progressive"]["ae"] for r in rs]),
                 _mean_std([r["progressive"]["colourfulness"] for r in rs], 1),
                 _mean_std([r["translator_after_stage3"]["psnr"] for r in rs]),
                 _mean_std([r["oracle"]["psnr"] for r in rs])]) + " |")
        if all("direct" in r for r in full):
            lines.append(f"| direct route, same MPFNet, equal updates | {', '.join(str(r['seed']) for r in full)} | "
                         + " | ".join([_mean_std([r["direct"]["psnr"] for r in full]), _mean_std(
                             [r["direct"]["psnr"] - r["progressive"]["psnr"] for r in full]),
                             _mean_std([r["direct"]["ssim"] for r in full], 3),
                             _mean_std([r["direct"]["ae"] for r in full]),
                             _mean_std([r["direct"]["colourfulness"] for r in full], 1), "", ""]) + " |")
        for name in ("mean training colour", "NIR copied to RGB"):
            ref = references[name]
            lines.append(f"| {name} (learns nothing) | | {ref['psnr']:.2f} | | {ref['ssim']:.3f} | {ref['ae']:.2f} "
                         f"| {ref['colourfulness']:.1f} | | |")
        lines.append("")
    return lines


def _mean_std(values: list[float], digits: int = 2) -> str:
    v = [x for x in values if x is not None and not math.isnan(x)]
    if not v:
        return "n/a"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{np.mean(v):.{digits}f} ± {np.std(v, ddof=1):.{digits}f}"


def report(rows: list[dict], references: dict, out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = ["# Progressive vs direct on VCIP 2020, CPU budget", "",
             "Measured by `python benchmarks/vcip_cpu.py --root DIR` (see its docstring). Validation: the 18 pairs "
             "of `Validation/` at 256 px, whole images; mean ± std over seeds (ddof = 1).", ""]
    if "_oracles" in references:
        lines += ["What the ground truth allows: predictors that peek at each validation pair's own RGB image (not "
                  "methods; they bound what a per-image colour or a per-image tone curve of the NIR image can "
                  "score, so a method above them has learned *where* things are dark or coloured):", "",
                  "| oracle (uses the pair's own RGB) | PSNR (↑) |", "| --- | --- |"]
        lines += [f"| {name} | {value:.2f} |" for name, value in references["_oracles"].items()]
        lines.append("")
    groups: dict[tuple, list[dict]] = {}
    equal_seconds: dict[tuple, list[dict]] = {}   # direct-only rows (--routes direct --direct-budget seconds)
    for r in rows:
        if "progressive" in r:
            groups.setdefault((r["profile"], r["fraction"], _group_variant(r)), []).append(r)
        else:
            base = ",".join(v for v in _group_variant(r).split(",") if v != "direct=seconds")
            equal_seconds.setdefault((r["profile"], r["fraction"], base), []).append(r)
    for (profile, fraction, variant), rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: r["seed"])
        b = rs[0]["budget"]
        cpu = [sum(t["cpu_s"] for t in r["timing"].values()) / 60 for r in rs]
        walls = []   # one after the other, and with the routes in two processes (--parallel-routes)
        for together in (False, True):
            some = [r for r in rs if bool(r.get("parallel_routes")) == together]
            if some:
                minutes = _mean_std([r.get("wall_total_s", sum(t["wall_s"] for t in r["timing"].values())) / 60
                                     for r in some])
                if together:
                    how = (" with the direct route in a second process beside the progressive one, from start to "
                           "both finished")
                elif any("direct" in r for r in some):
                    how = " with the routes one after the other"
                else:
                    how = ""
                walls.append(f"{minutes} min wall{how} (seeds {', '.join(str(r['seed']) for r in some)})")
        changed = f", with {variant}" if variant else ""
        lines += [f"## profile `{profile}`{changed}, budget fraction {fraction:g} "
                  f"(seeds {', '.join(str(r['seed']) for r in rs)})",
                  "",
                  f"Steps: translate {b['translate_steps']}, pretrain {b['pretrain_steps']}, finetune "
                  f"{b['finetune_steps']}"
                  + (f", direct {b['direct_steps']}. Whole run (4 stages" if any("direct" in r for r in rs) else
                     " (the progressive route only). Whole run (3 stages")
                  + ", with the measurements): "
                  + f"{'; '.join(walls)}; {_mean_std(cpu)} CPU-min; machine: {rs[0]['machine']}."
                  + "".join(f" Seed {r['seed']}: {', '.join(_loaded_stages(r))} loaded finished from an earlier "
                            "run's checkpoints (copied into its folder), so its times cover only what this run "
                            "trained." for r in rs if _loaded_stages(r))
                  + ("" if all(r.get("pauses_keep_optimizer") or len(r.get("curve_finetune", [])) <= 1
                               for r in rs) else   # older rows: a stage trained in several pieces
                     " Measured before the benchmark paused stages at its measuring points: each of its pieces "
                     "restarted Adam, so these rows are slightly pessimistic against one uninterrupted run."), "",
                  "| route | PSNR (↑) | SSIM (↑) | AE (↓) | colourfulness |", "| --- | --- | --- | --- | --- |"]
        for key, label in (("progressive", "**progressive** (MPFNet, 3 stages)"), ("direct", "direct (same MPFNet)"),
                           ("before_finetune", "progressive before fine-tuning")):
            if all(key in r for r in rs):   # --routes progressive rows have no direct route
                lines.append(f"| {label} | " + " | ".join(_mean_std([r[key][m] for r in rs], 3 if m == "ssim" else 2)
                                                           for m in ("psnr", "ssim", "ae", "colourfulness")) + " |")
        fair = equal_seconds.get((profile, fraction, variant), [])
        if fair:
            steps = fair[0]["budget"]["direct_steps"]
            minutes = _mean_std([r["timing"]["direct"]["cpu_s"] / 60 for r in fair], 1)
            lines.append(f"| direct, equal CPU-seconds ({steps} steps, {minutes} CPU-min; seeds "
                         f"{', '.join(str(r['seed']) for r in fair)}) | " + " | ".join(
                             _mean_std([r["direct"][m] for r in fair], 3 if m == "ssim" else 2)
                             for m in ("psnr", "ssim", "ae", "colourfulness")) + " |")
        for name in ("mean training colour", "NIR copied to RGB"):
            ref = references[name]
            lines.append(f"| {name} (learns nothing) | {ref['psnr']:.2f} | {ref['ssim']:.3f} | {ref['ae']:.2f} | "
                         f"{ref['colourfulness']:.1f} |")
        lines.append(f"| ground truth | | | | {references['ground truth colourfulness']['colourfulness']:.1f} |"
                     if "ground truth colourfulness" in references else "")
        lines += ["", "Diagnostics:", "",
                  f"- translator gray vs true gray, PSNR / correlation: after stage 1 "
                  f"{_mean_std([r['translator_after_stage1']['psnr'] for r in rs])} dB / "
                  f"{_mean_std([r['translator_after_stage1']['corr'] for r in rs])}, after stage 3 "
                  f"{_mean_std([r['translator_after_stage3']['psnr'] for r in rs])} dB / "
                  f"{_mean_std([r['translator_after_stage3']['corr'] for r in rs])} (the NIR image itself: "
                  f"{references['_nir_as_gray']['psnr']:.2f} dB / {references['_nir_as_gray']['corr']:.2f}; the "
                  f"true gray copied to RGB scores {references['_gray_copy_psnr']:.2f} dB against the RGB image);",
                  f"- F_G on the true grays (oracle of stage 2): {_mean_std([r['oracle']['psnr'] for r in rs])} dB, "
                  f"colourfulness {_mean_std([r['oracle']['colourfulness'] for r in rs])};", ""]
    lines += ablation_table(groups, references)
    text = "\n".join(line for line in lines if line is not None) + "\n"
    (out / "report.md").write_text(text)

    fig, axes = plt.subplots(1, 2, figsize=(12, 7.5), dpi=100)
    labelled: set[str] = set()

    def once(label: str) -> str | None:
        """Each legend entry once, long variants wrapped (the legends sit below the plots)."""
        if label in labelled:
            return None
        labelled.add(label)
        return textwrap.fill(label, 75, subsequent_indent="  ")

    style = dict(alpha=0.8, marker="o", markersize=3)
    groups = sorted({(r["fraction"], _group_variant(r)) for r in rows if "progressive" in r and not _switches_of(r)})
    reds = dict(zip(groups, ("tab:red", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")))

    def group_name(r: dict) -> str:
        items = [i for i in _group_variant(r).split(",") if i and not i.startswith("threads=") and i != "parallel"]
        return f"x{r['fraction']:g}" + (f", {','.join(items)}" if items else "")

    for r in rows:
        if _switches_of(r):   # the ablation's rows are in its table, not in the curves
            continue
        direct_label = "direct" if "progressive" in r else "direct, equal CPU-seconds"
        colour = "tab:blue" if "progressive" in r else "tab:cyan"
        if "curve_direct" in r:   # not in a --routes progressive row
            axes[0].plot([c["step"] for c in r["curve_direct"]], [c["psnr"] for c in r["curve_direct"]],
                         color=colour, label=once(direct_label + " "), **style)
            axes[1].plot([c["cpu_s"] / 60 for c in r["curve_direct"]], [c["psnr"] for c in r["curve_direct"]],
                         color=colour, label=once(direct_label), **style)
        if "progressive" not in r:
            continue
        prog_x = [c["cpu_s"] / 60 for c in r["curve_finetune"]]
        offset = sum(r["timing"][k]["cpu_s"] for k in ("translate", "pretrain")) / 60
        red = reds.get((r["fraction"], _group_variant(r)), "tab:red")
        axes[0].plot([r["budget"]["pretrain_steps"] + c["step"] for c in r["curve_finetune"]],
                     [c["psnr"] for c in r["curve_finetune"]], color=red,
                     label=once(f"progressive {group_name(r)} (F_G updates)"), **style)
        axes[1].plot([offset + x for x in prog_x], [c["psnr"] for c in r["curve_finetune"]], color=red,
                     label=once(f"progressive {group_name(r)} (after stages 1-2)"), **style)
    for ax, xlabel in zip(axes, ("generator updates of the colouriser", "CPU-minutes (training + measurements)")):
        ax.axhline(references["mean training colour"]["psnr"], color="gray", ls="--", lw=1, label="mean colour")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("validation PSNR (dB)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.13))
    fig.tight_layout()
    fig.savefig(out / "curves.png")
    plt.close(fig)
    return text


def colorization_figure(root: Path, row: dict, references: dict, held: Held, out: Path,
                        equal_seconds: dict | None = None, name: str = "colorizations.png") -> None:
    """NIR | progressive | direct (equal updates) | direct (equal CPU-seconds, when ``equal_seconds``, a direct-only
    row of the same profile, fraction and seed, is given) | mean colour | ground truth, on four validation photos,
    saved as ``out / name``."""
    from course_lib.course.figures import show_colorizations
    from course_lib.train import load_colorizer

    run = Path(row["run_dir"])
    needed = ([run / "finetune"] + ([run / "direct"] if "direct" in row else [])
              + ([Path(equal_seconds["run_dir"]) / "direct"] if equal_seconds else []))
    missing = [str(stage / "checkpoint.pt") for stage in needed if not (stage / "checkpoint.pt").is_file()]
    if missing:   # e.g. --report on a machine that has rows.jsonl but not the runs
        print(f"{name} left as it was: it draws the networks of {run.name}, whose checkpoints are not "
              f"here (missing: {', '.join(missing)}; run folders are not in git; the report and curves.png are "
              "rewritten from rows.jsonl)")
        return
    methods = {"progressive": load_colorizer(run / "finetune")}
    if "direct" in row:   # not in a --routes progressive run
        methods["direct" + (", equal updates" if equal_seconds else "")] = load_colorizer(run / "direct")
    if equal_seconds:
        methods["direct, equal CPU-s"] = load_colorizer(Path(equal_seconds["run_dir"]) / "direct")
    methods["mean colour"] = references["_fns"]["mean training colour"]
    picks = [held.dataset[i] for i in (0, 6, 9, 16) if i < len(held.dataset)]
    budget = "" if row["fraction"] == 1 else f" x {row['fraction']:g}"
    fig = show_colorizations(methods, picks, suptitle=f"VCIP 2020 validation, profile {row['profile']}{budget}, "
                                                      f"seed {row['seed']}")
    fig.savefig(out / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="VCIP 2020 folder (NIR/, RGB-Registered/, Validation/)")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--fraction", type=float, default=1.0, help="scale every stage's steps (budget trend)")
    parser.add_argument("--points", type=int, default=3, help="measurements per stage (learning curves)")
    parser.add_argument("--runs", default="runs/vcip_cpu", help="where the run folders go (resumable)")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--report", action="store_true", help="only rewrite the report from rows.jsonl")
    parser.add_argument("--figure-variant", default=None, metavar="VARIANT",
                        help="draw colorizations-VARIANT.png (not colorizations.png) from the lowest seed's run "
                             "(fraction 1 first) whose variant has these items, e.g. colour_match=1 (threads and "
                             "parallel are ignored; a --routes progressive run has no direct column); default: "
                             "colorizations.png from the first run of both routes without switches")
    parser.add_argument("--direct-budget", default="updates", choices=["updates", "seconds"],
                        help="updates: the direct route gets F_G's updates (pretrain + finetune, the default); "
                             "seconds: as many CPU-seconds as the whole progressive route, from step costs "
                             "measured first (course_lib.train.measure_step_seconds); the run folder and report "
                             "say direct=seconds")
    parser.add_argument("--routes", default="both", choices=["both", "direct", "progressive"],
                        help="direct: train and measure only the direct route (with --direct-budget seconds its "
                             "row joins the table of the same profile, fraction and seeds as 'equal CPU-seconds'); "
                             "progressive: only the progressive route (the ablation's rows)")
    parser.add_argument("--switch", action="append", default=[], metavar="NAME=VALUE",
                        help="an ablation switch of course_lib.course.ablation applied to every network of the "
                             "routes, e.g. --switch sccm=False, --switch attention=none, --switch scales=1, --switch "
                             "norm=none, --switch feat_disc=False; the run folder and the report name it, and the "
                             "report's ablation table compares it with the full model of the same profile and "
                             "fraction")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per run (default: torch's, which OMP_NUM_THREADS sets). At the cpu "
                             "profile's sizes two threads are slower than one; --parallel-routes uses two cores. The "
                             "run folder and report say threads=N")
    parser.add_argument("--parallel-routes", action="store_true",
                        help="train the direct route in a second process (same threads) beside the progressive "
                             "route: the whole run's wall time on a 2-core machine (row: wall_total_s)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change one profile field (a number, or per-scale integers joined by x), e.g. --set "
                             "translator_width=16, --set translator_depth=3x4x4 or --set "
                             "finetune_lr=1e-4; the run folder and the report name the change")
    parser.add_argument("--config", action="append", default=[], metavar="FIELD=NUMBER",
                        help="set one training-config field (a number) in every stage that has it, e.g. --config "
                             "colour_match=1 (course_lib.train.StageConfig); the run folder and the report name it")
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads: expected a positive number of threads, got {args.threads}")
        torch.set_num_threads(args.threads)
    root, out = Path(args.root), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    held = Held(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train = VCIP2020(root, "train")
    fns = reference_predictors(train)
    references = {name: held.scores(fn, name) for name, fn in fns.items()}
    references["_fns"] = fns
    references["_nir_as_gray"] = held.gray_stats(held.nir)
    references["_gray_copy_psnr"] = float(psnr_per_image(held.gray.expand(-1, 3, -1, -1), held.rgb).mean())
    references["_oracles"] = held.oracles()
    references["ground truth colourfulness"] = {"colourfulness": float(colourfulness(held.rgb).mean())}
    rows_file = out / "rows.jsonl"
    if not args.report:
        profile = get_profile(args.profile, verbose=True).scaled(args.fraction)
        changes = {}
        for item in args.set:
            field, _, value = item.partition("=")
            try:
                changes[field.strip()] = _set_value(value.strip())
            except ValueError:
                parser.error(f"--set {item}: expected FIELD=NUMBER, e.g. translator_width=16 or finetune_lr=1e-4, "
                             f"or per-scale integers, e.g. translator_depth=3x4x4")
        try:
            profile = profile.replace(**changes)   # keeps the name: the profile's recipe still applies
        except ValueError as error:
            parser.error(f"--set: {error}")
        try:
            overrides, switched = switch_overrides(args.switch)
            fields = config_overrides(args.config)
        except ValueError as error:
            parser.error(str(error))
        overrides.update(fields)
        variant = ",".join(([switched] if switched else []) + [f"{k}={v}" for k, v in fields.items()]
                           + [f"{k}={_shown(v)}" for k, v in changes.items()]
                           + ([f"threads={args.threads}"] if args.threads is not None else [])
                           + (["parallel"] if args.parallel_routes else []))
        if args.direct_budget == "seconds":
            seconds = measure_step_seconds(profile, root, data_kind="vcip2020")
            print("seconds per step: " + json.dumps({k: round(v, 3) for k, v in seconds.items()}), flush=True)
            profile = profile.with_budget(profile.pretrain_steps, profile.translate_steps, direct="seconds",
                                          step_seconds=seconds)
            variant = ",".join(filter(None, [variant, "direct=seconds"]))
        for seed in args.seeds:
            row = run_seed(root, profile, seed, args.fraction, args.points, Path(args.runs), held, variant,
                           args.routes, parallel=args.parallel_routes, overrides=overrides)
            with open(rows_file, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps({k: row[k] for k in ("seed", "progressive", "direct", "oracle") if k in row}),
                  flush=True)
    rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
    refs_for_report = {k: v for k, v in references.items() if k != "_fns"}
    print(report(rows, refs_for_report, out))
    direct_only = [r for r in rows if "progressive" not in r]
    if args.figure_variant is None:
        rows = [r for r in rows if "progressive" in r and "direct" in r and not _switches_of(r)] or rows
    else:   # any run of the progressive route with these items (its direct column when it has one)
        asked = set(_recipe({"variant": args.figure_variant}).split(","))
        rows = [r for r in rows if "progressive" in r and asked <= set(_recipe(r).split(","))]
        if not rows:
            parser.error(f"--figure-variant {args.figure_variant}: no run of the progressive route with that "
                         f"variant in {rows_file}")
    full = sorted([r for r in rows if r["fraction"] == 1.0] or rows, key=lambda r: r["seed"])   # the lowest seed
    fair = [r for r in direct_only if (r["profile"], r["fraction"], r["seed"]) ==
            (full[0]["profile"], full[0]["fraction"], full[0]["seed"]) and _recipe(r) == _recipe(full[0])]
    name = ("colorizations.png" if args.figure_variant is None else
            "colorizations-" + re.sub(r"[^A-Za-z0-9_.]+", "-", args.figure_variant) + ".png")
    colorization_figure(root, full[0], references, held, out, fair[0] if fair else None, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
