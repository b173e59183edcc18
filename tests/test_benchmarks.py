"""Tests of the speed benchmark and the GPU check (benchmarks/speed.py, gpu_check.py, gpu_check.sh) and of the
notebooks' step cap (COURSE_NOTEBOOK_STEPS in course_lib.course.runs.notebook_profile).

The GPU run itself is not tested here (CPU-only CI): gpu_check.sh must parse, and gpu_check.py's --dry-run must
run its whole code path on the CPU and write every section.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from vcip_tree import write_vcip_tree
import torch.nn as nn

from course_lib.course import runs
from course_lib.train import get_profile

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
STEP_FIELDS = ("translate_steps", "pretrain_steps", "finetune_steps", "direct_steps")


def load_benchmark(name: str):
    """Import benchmarks/<name>.py (the benchmarks folder is not a package); gpu_check imports speed by name."""
    if name in sys.modules and Path(getattr(sys.modules[name], "__file__", "")) == BENCHMARKS / f"{name}.py":
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def speed():
    return load_benchmark("speed")


# --------------------------------------------------------------------------------------------------------------
# the MAC counter, checked against arithmetic by hand
# --------------------------------------------------------------------------------------------------------------
def test_conv2d_macs_by_hand(speed):
    conv = nn.Conv2d(3, 8, 3, padding=1)
    x = torch.randn(2, 3, 10, 10, requires_grad=True)
    count = speed.count_conv_macs(lambda: conv(x).sum().backward())
    # every output element (2 x 8 x 10 x 10) gathers a 3 x 3 x 3 window: 1600 x 27 = 43,200 MACs
    assert count.forward == 2 * 8 * 10 * 10 * 3 * 3 * 3 == 43_200
    # backward: the input's gradient and the weight's gradient, as many MACs each
    assert count.backward == 2 * 43_200
    assert count.total == 3 * 43_200


def test_strided_grouped_conv2d_macs_by_hand(speed):
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    x = torch.randn(1, 4, 9, 9)  # no input gradient: the backward pass computes the weight's gradient only
    count = speed.count_conv_macs(lambda: conv(x).sum().backward())
    # output 5 x 5 (ceil(9 / 2)), each of its 6 x 25 elements gathers (4 / 2) x 3 x 3 = 18 inputs
    assert count.forward == 6 * 5 * 5 * 18 == 2_700
    assert count.backward == 2_700


def test_conv_transpose2d_macs_by_hand(speed):
    conv = nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1)
    x = torch.randn(1, 4, 5, 5, requires_grad=True)
    out = {}

    def run():
        out["y"] = conv(x)
        out["y"].sum().backward()

    count = speed.count_conv_macs(run)
    assert out["y"].shape == (1, 6, 10, 10)
    # every input element (4 x 5 x 5 = 100) is spread over a 4 x 4 window of 6 output channels: 100 x 96
    assert count.forward == 4 * 5 * 5 * 6 * 4 * 4 == 9_600
    assert count.backward == 2 * 9_600  # input gradient + weight gradient


def test_no_grad_forward_counts_no_backward(speed):
    conv = nn.Conv2d(2, 2, 1)
    with torch.no_grad():
        count = speed.count_conv_macs(lambda: conv(torch.randn(1, 2, 4, 4)))
    assert (count.forward, count.backward) == (2 * 4 * 4 * 2, 0)


def test_ceiling_conv_counts_three_forwards(speed):
    rate = speed.measure_conv(torch.device("cpu"), channels=8, size=8, batch=2, min_seconds=0.0)
    assert rate.macs == 3 * 2 * 8 * 8 * 8 * 8 * 9
    assert rate.seconds > 0 and rate.rate > 0


def test_profile_overrides_follow_the_field_types(speed):
    import argparse

    parser = argparse.ArgumentParser()
    speed.add_profile_arguments(parser)
    args = parser.parse_args(["--size", "48", "--depth", "2,3,4", "--batch", "3", "--set", "lr=0.01"])
    profile = speed.build_profile("smoke", args)
    assert (profile.image_size, profile.depth, profile.batch_size, profile.lr) == (48, (2, 3, 4), 3, 0.01)
    assert profile.num_train <= max(8, 2 * 3)  # a few rendered scenes without --root
    with pytest.raises(SystemExit, match="no such field"):
        speed.build_profile("smoke", parser.parse_args(["--set", "nonsense=1"]))


# --------------------------------------------------------------------------------------------------------------
# gpu_check: the shell script parses, the Python part dry-runs on the CPU
# --------------------------------------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_gpu_check_sh_parses_and_prints_its_usage():
    script = BENCHMARKS / "gpu_check.sh"
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    usage = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 0, usage.stderr
    assert "--dry-run" in usage.stdout and "--no-install" in usage.stdout
    bad = subprocess.run(["bash", str(script), "--no-such-option"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "unknown option" in bad.stderr


def test_gpu_check_dry_run_writes_every_section(tmp_path):
    out = tmp_path / "gpu.txt"
    # the smoke profile's code path at a smaller size, so the test stays short
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "gpu_check.py"), "--dry-run", "--out", str(out),
         "--size", "48", "--width", "4", "--batch", "1", "--threads", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.strip() == proc.stdout.strip()  # the file holds what was printed
    load_benchmark("speed")
    gpu_check = load_benchmark("gpu_check")
    positions = [text.find(section) for section in gpu_check.SECTIONS]
    assert all(p >= 0 for p in positions), [s for s, p in zip(gpu_check.SECTIONS, positions) if p < 0]
    assert positions == sorted(positions)
    assert "DRY RUN" in text and "profile smoke" in text
    for stage in ("translate", "pretrain", "finetune", "direct"):
        for variant in ("amp", "channels_last"):
            assert f"| {variant} | {stage} |" in text
    assert "failed" not in text.replace("- failed: nothing", "")
    assert "of ceiling" in text and "- amp:" in text


def test_gpu_check_refuses_to_run_without_cuda_unless_dry_run(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "gpu_check.py"), "--out", str(tmp_path / "x.txt")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--dry-run" in proc.stderr


# --------------------------------------------------------------------------------------------------------------
# COURSE_NOTEBOOK_STEPS
# --------------------------------------------------------------------------------------------------------------
def test_notebook_steps_variable_caps_every_stage(monkeypatch):
    monkeypatch.delenv("COURSE_NOTEBOOK_STEPS", raising=False)
    course = runs.notebook_profile("course", verbose=False)
    assert course == get_profile("course", verbose=False)
    smoke = runs.notebook_profile("smoke", verbose=False)

    monkeypatch.setenv("COURSE_NOTEBOOK_STEPS", "7")
    capped = runs.notebook_profile("course", verbose=False)
    for name in STEP_FIELDS:
        assert getattr(capped, name) == min(getattr(course, name), 7)
    assert capped.sample_every <= 7 and capped.checkpoint_every <= 7 and capped.log_every <= 7
    assert (capped.image_size, capped.width, capped.depth, capped.batch_size) == \
        (course.image_size, course.width, course.depth, course.batch_size)  # sizes untouched
    capped_smoke = runs.notebook_profile("smoke", verbose=False)
    for name in STEP_FIELDS:
        assert getattr(capped_smoke, name) == min(getattr(smoke, name), 7)

    monkeypatch.setenv("COURSE_NOTEBOOK_STEPS", " 100000 ")  # larger than every stage: nothing changes
    assert runs.notebook_profile("course", verbose=False) == course


def test_notebook_steps_variable_says_so_when_printing(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_NOTEBOOK_STEPS", "5")
    runs.notebook_profile("course")
    assert "COURSE_NOTEBOOK_STEPS" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["abc", "0", "-3", "2.5", "1e3"])
def test_notebook_steps_variable_rejects_bad_values(monkeypatch, value):
    monkeypatch.setenv("COURSE_NOTEBOOK_STEPS", value)
    with pytest.raises(ValueError, match="COURSE_NOTEBOOK_STEPS.*positive integer"):
        runs.notebook_profile("course", verbose=False)


def test_ablation_benchmark_uses_the_courses_runner_and_budget_rule(tmp_path, capsys):
    """benchmarks/ablation.py trains through course_lib.course.ablation (the panel's runner: same switches, run
    folders, configs) and sizes the direct route by the one budget rule (direct = pretrain + finetune)."""
    import csv

    from course_lib.course.ablation import AblationSwitches, run_folder

    ablation_benchmark = load_benchmark("ablation")
    out, work = tmp_path / "out", tmp_path / "runs"
    ablation_benchmark.main(["--quick", "--configs", "progressive,direct_unet", "--out", str(out), "--work",
                             str(work)])
    rows = list(csv.DictReader(open(out / "ablation.csv", encoding="utf-8")))
    assert [r["config"] for r in rows] == ["progressive", "direct_unet"]
    budget = {k: int(rows[0][k]) for k in STEP_FIELDS}
    assert budget["direct_steps"] == budget["pretrain_steps"] + budget["finetune_steps"]
    assert budget["finetune_steps"] == budget["pretrain_steps"] // 2
    args = ablation_benchmark.parse_args(["--quick", "--out", str(out), "--work", str(work)])
    profile = ablation_benchmark.make_profile(args)
    train_set, _ = ablation_benchmark.make_data(profile)
    for config, switches in (("progressive", AblationSwitches()), ("direct_unet", AblationSwitches(route="direct_unet"))):
        folder = run_folder(switches, profile, work, train_set)
        stage = "finetune" if config == "progressive" else "direct_unet"
        assert (folder / stage / "checkpoint.pt").is_file(), (config, sorted(p.name for p in work.iterdir()))
    assert "as many as the progressive route's colouriser F_G gets" in (out / "ablation.md").read_text()


# --------------------------------------------------------------------------------------------------------------
# benchmarks/vcip_cpu.py: its learning curves pause a stage without changing its training
# --------------------------------------------------------------------------------------------------------------
def test_vcip_cpu_set_takes_per_scale_depths_and_names_them_without_commas(tmp_path):
    vcip_cpu = load_benchmark("vcip_cpu")
    assert vcip_cpu._set_value("3x4x4") == (3, 4, 4) and vcip_cpu._set_value("16") == 16
    assert vcip_cpu._set_value("1e-4") == 1e-4 and vcip_cpu._shown((3, 4, 4)) == "3x4x4"
    for bad in ("3xa", "x", "abc"):
        with pytest.raises(ValueError):
            vcip_cpu._set_value(bad)
    # a value the profile refuses is a usage error naming the field, before anything is trained
    root = write_vcip_tree(tmp_path / "vcip")
    done = subprocess.run([sys.executable, str(BENCHMARKS / "vcip_cpu.py"), "--root", str(root), "--profile", "smoke",
                           "--seeds", "0", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out"),
                           "--set", "translator_depth=3x0x4"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "translator_depth" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_vcip_cpu_pieces_add_up_to_the_uninterrupted_run(tmp_path):
    """Measuring points pause the stage (whole state saved, Adam's moments too) and resume it: the weights at
    the end equal one uninterrupted run's, a point measures the networks at its step, and the warm-up (counted in
    the profile's steps) is the same in both."""
    from course_lib.train import PROFILES, TrainingInterrupted, load_stage, translate

    vcip_cpu = load_benchmark("vcip_cpu")
    profile = PROFILES["smoke"].replace(
        name="tiny", image_size=48, width=4, depth=2, batch_size=2, translate_steps=6, translate_warmup=3,
        pretrain_steps=2, finetune_steps=2, direct_steps=2, num_train=4, num_test=2, sample_every=100,
        checkpoint_every=100)
    straight = translate(profile, tmp_path / "straight", device="cpu")
    seen = []

    def measure(models):
        seen.append({k: v.detach().clone() for k, v in models["g_n2g"].state_dict().items()})
        return {"norm": float(sum(p.detach().abs().sum() for p in models["g_n2g"].parameters()))}

    out = tmp_path / "pieces"
    result, curve, cpu, wall = vcip_cpu._in_pieces(
        lambda cb: translate(profile, out, device="cpu", callback=cb), "translate", 6, 3, out, measure)
    assert [c["step"] for c in curve] == [2, 4, 6]
    assert cpu > 0 and wall > 0 and curve[0]["cpu_s"] < curve[1]["cpu_s"] < curve[2]["cpu_s"]
    for name, tensor in straight.models["g_n2g"].state_dict().items():
        assert torch.equal(tensor, result.models["g_n2g"].state_dict()[name]), name
        assert torch.equal(tensor, seen[-1][name]), name
    # the first point measured the networks after step 2: those of a run stopped there on its own
    def stop_at_2(step, losses):
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted):
        translate(profile, tmp_path / "at2", device="cpu", callback=stop_at_2)
    for name, tensor in load_stage(tmp_path / "at2", "translate")["g_n2g"].state_dict().items():
        assert torch.equal(tensor, seen[0][name]), name
    assert len({c["norm"] for c in curve}) == 3   # and training went on between the points
    # the losses of the pieces are the straight run's, warm-up rows first
    assert (out / "translate" / "losses.csv").read_text() == (tmp_path / "straight" / "translate" /
                                                              "losses.csv").read_text()


def test_vcip_cpu_parallel_routes_train_the_same_direct_route_in_a_second_process(tmp_path):
    """--parallel-routes trains the direct route in another process beside the progressive route: the row records
    the whole run's wall time, and the direct network is the one the sequential run trains (same seed)."""
    root = write_vcip_tree(tmp_path / "vcip")
    sizes = ["--set", "image_size=48", "--set", "translate_steps=3", "--set", "translate_warmup=1", "--set",
             "pretrain_steps=2", "--set", "finetune_steps=2", "--set", "direct_steps=3"]
    rows = {}
    for mode in ([], ["--parallel-routes"]):
        out = tmp_path / ("parallel" if mode else "sequential")
        done = subprocess.run([sys.executable, str(BENCHMARKS / "vcip_cpu.py"), "--root", str(root), "--profile",
                               "smoke", "--seeds", "0", "--points", "1", "--threads", "1", "--runs",
                               str(tmp_path / "runs"), "--out", str(out), *sizes, *mode],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        rows[bool(mode)] = json.loads((out / "rows.jsonl").read_text().splitlines()[0])
    seq, par = rows[False], rows[True]
    assert par["parallel_routes"] is True and "parallel_routes" not in seq
    assert par["run_dir"] != seq["run_dir"] and par["run_dir"].endswith("threads=1,parallel-s0")
    assert par["wall_total_s"] >= max(t["wall_s"] for t in par["timing"].values()) > 0
    assert par["timing"]["direct"]["cpu_s"] > 0
    assert par["direct"] == seq["direct"] and par["progressive"] == seq["progressive"]
    from course_lib.train import load_stage

    a = load_stage(Path(seq["run_dir"]), "direct")["net"].state_dict()
    b = load_stage(Path(par["run_dir"]), "direct")["net"].state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    report = (tmp_path / "parallel" / "report.md").read_text()
    assert "min wall with the direct route in a second process beside the progressive one" in report


def test_vcip_cpu_switch_trains_the_ablated_network_and_reports_it_beside_the_full_model(tmp_path):
    """--routes progressive --switch sccm=False trains only the progressive route, with SCCM off in its networks
    (the checkpoint's F_G has no SCCM gates, the full model's has), in a run folder of its own; the report's
    ablation table puts it beside the full model of the same settings with the seed-by-seed PSNR difference."""
    from course_lib.train import load_stage

    root = write_vcip_tree(tmp_path / "vcip")
    sizes = ["--set", "image_size=48", "--set", "translate_steps=2", "--set", "translate_warmup=1", "--set",
             "pretrain_steps=2", "--set", "finetune_steps=1", "--set", "direct_steps=2"]
    out = tmp_path / "out"

    def run(*extra):
        return subprocess.run([sys.executable, str(BENCHMARKS / "vcip_cpu.py"), "--root", str(root), "--profile",
                               "smoke", "--seeds", "0", "--points", "1", "--threads", "1", "--runs",
                               str(tmp_path / "runs"), "--out", str(out), *sizes, *extra],
                              capture_output=True, text=True, timeout=600)

    bad = run("--switch", "sccm=maybe")
    assert bad.returncode != 0 and "--switch sccm=maybe: sccm takes one of [True, False]" in bad.stderr
    bad = run("--switch", "colour=True")
    assert bad.returncode != 0 and "expected NAME=VALUE with one of attention=" in bad.stderr
    bad = run("--config", "colour_match=much")
    assert bad.returncode != 0 and "--config colour_match=much: expected FIELD=NUMBER" in bad.stderr
    bad = run("--config", "colourfulness=1")
    assert bad.returncode != 0 and "unknown config field(s) ['colourfulness']" in bad.stderr
    for extra in ([], ["--routes", "progressive", "--switch", "sccm=False"],
                  ["--config", "colour_match=2"], ["--routes", "progressive", "--config", "colour_bins=1",
                                                   "--config", "bins_temperature=0.5"]):
        done = run(*extra)
        assert done.returncode == 0, done.stderr[-3000:]
    full, ablated, matched, binned = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    # --config colour_bins: F_G has a bin head; the route is also read at other temperatures, its own row at 0.5
    assert binned["bins_temperature"] == 0.5 and "colour_bins=1" in binned["run_dir"]
    assert set(binned["progressive_at_temperature"]) == {"T=1", "T=0.38", "T=0.1"}
    assert binned["progressive_at_temperature"]["T=1"]["psnr"] != binned["progressive"]["psnr"]
    assert load_stage(Path(binned["run_dir"]), "finetune")["f_g"].temperature == 0.5
    assert "progressive_at_temperature" not in full
    # --config sets a training-config field in every stage that has it, and names it in the run folder
    assert matched["variant"].startswith("colour_match=2") and "colour_match=2" in matched["run_dir"]
    for stage in ("pretrain", "finetune", "direct"):
        saved = torch.load(Path(matched["run_dir"]) / stage / "checkpoint.pt", weights_only=True)["config"]
        assert saved["colour_match"] == 2 and torch.load(
            Path(full["run_dir"]) / stage / "checkpoint.pt", weights_only=True)["config"]["colour_match"] == 0
    assert ablated["variant"].startswith("sccm=False") and "direct" not in ablated and "direct" in full
    assert ablated["run_dir"] != full["run_dir"] and not (Path(ablated["run_dir"]) / "direct").exists()
    keys = {name: set(load_stage(Path(r["run_dir"]), "finetune")["f_g"].state_dict())
            for name, r in (("full", full), ("ablated", ablated))}
    # the SCCM heads' gates (heads.N.gate) exist only with SCCM on
    assert any(".gate." in k for k in keys["full"]) and not any(".gate." in k for k in keys["ablated"])
    report = (out / "report.md").read_text()
    table = report[report.index("## Ablation: profile `smoke`"):]
    delta = ablated["progressive"]["psnr"] - full["progressive"]["psnr"]
    assert f"| sccm=False | 0 | {ablated['progressive']['psnr']:.2f} | {delta:.2f} |" in table
    assert f"| **full model** (progressive) | 0 | {full['progressive']['psnr']:.2f} |" in table
    # a figure of its own for the variant asked for (default: colorizations.png, the first run of both routes)
    figure = (out / "colorizations.png").read_bytes()
    done = run("--report", "--figure-variant", "colour_match=2")
    assert done.returncode == 0, done.stderr[-3000:]
    own = (out / "colorizations-colour_match-2.png").read_bytes()
    assert own != figure and (out / "colorizations.png").read_bytes() == figure
    bad = run("--report", "--figure-variant", "colour_match=3")
    assert bad.returncode != 0 and "--figure-variant colour_match=3: no run of the progressive route" in bad.stderr
    # a --routes progressive run (the ablated one) gets a figure without the direct column
    done = run("--report", "--figure-variant", "sccm=False")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "colorizations-sccm-False.png").read_bytes() not in (own, figure)
    # --report where the run folders are gone (they are not in git): the report is rewritten from rows.jsonl, the
    # colorization figure, which needs the networks, is left as it was and the run says why
    figure = (out / "colorizations.png").read_bytes()
    shutil.rmtree(tmp_path / "runs")
    (out / "report.md").unlink()
    done = subprocess.run([sys.executable, str(BENCHMARKS / "vcip_cpu.py"), "--root", str(root), "--out", str(out),
                           "--report"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "colorizations.png left as it was" in done.stdout and "finetune/checkpoint.pt" in done.stdout
    assert (out / "colorizations.png").read_bytes() == figure and "## Ablation: profile `smoke`" in \
        (out / "report.md").read_text()
