"""Tests of course_lib/course/runs.py: the notebooks' profile, the simulated disconnect, and the sample grids a
stage saved (the step cap COURSE_NOTEBOOK_STEPS is tested in tests/test_benchmarks.py)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

from course_lib.course import runs
from course_lib.train import get_profile

matplotlib.use("Agg")


def test_notebook_profile_shortens_smoke_only():
    smoke, base = runs.notebook_profile("smoke", verbose=False), get_profile("smoke", verbose=False)
    assert (smoke.image_size, smoke.width, smoke.depth) == (base.image_size, base.width, base.depth)
    assert smoke.translate_steps == runs.SMOKE_NOTEBOOK_STEPS["translate_steps"]
    assert smoke.direct_steps == smoke.pretrain_steps + smoke.finetune_steps
    assert runs.notebook_profile("course", verbose=False) == get_profile("course", verbose=False)


def test_stop_after_interrupts_at_the_given_step():
    callback = runs.stop_after(3)
    callback(1, {})
    callback(2, {})
    with pytest.raises(KeyboardInterrupt):
        callback(3, {})
    with pytest.raises(ValueError, match="step"):
        runs.stop_after(0)


def test_stage_samples_are_found_sorted_and_drawn(tmp_path):
    samples = tmp_path / "translate" / "samples"
    samples.mkdir(parents=True)
    for step in (12, 2, 4, 8):
        Image.fromarray(np.full((10, 20, 3), step * 10, np.uint8)).save(samples / f"step_{step:06d}.png")
    (samples / "notes.txt").write_text("not a sample")
    found = runs.stage_samples(tmp_path / "translate")
    assert list(found) == [2, 4, 8, 12]
    fig = runs.show_stage_samples(tmp_path / "translate", max_steps=3)
    assert [ax.get_title() for ax in fig.axes] == ["step 2", "step 8", "step 12"]
    assert runs.samples_browser(tmp_path / "translate").axes  # no frontend: the figure
    with pytest.raises(FileNotFoundError, match="samples"):
        runs.stage_samples(tmp_path / "empty")


def test_run_folders_come_from_the_ablation_runner(tmp_path, monkeypatch):
    """runs.default_run_dir and runs.in_colab are the ones the ablation runner uses (one home for run folders)."""
    from course_lib.course import ablation

    assert runs.default_run_dir is ablation.default_run_dir and runs.in_colab is ablation.in_colab
    monkeypatch.chdir(tmp_path)
    assert runs.default_run_dir(use_drive=False) == Path("runs")
    assert (tmp_path / "runs").is_dir() and runs.in_colab() is False


def test_default_run_dir_off_colab_is_local_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path = runs.default_run_dir(use_drive=True)
    assert path == runs.Path("runs") and (tmp_path / "runs").is_dir()


def test_default_run_dir_on_colab_mounts_drive(tmp_path, monkeypatch):
    mounted = []
    drive = types.SimpleNamespace(mount=lambda where: (mounted.append(where),
                                                       (tmp_path / "drive" / "MyDrive").mkdir(parents=True)))
    colab = types.ModuleType("google.colab")
    colab.drive = drive
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(runs, "DRIVE_MOUNT", tmp_path / "drive")
    monkeypatch.setattr(runs, "DRIVE_RUNS", tmp_path / "drive" / "MyDrive" / "nir-course" / "runs")
    path = runs.default_run_dir(use_drive=True)
    assert mounted == [str(tmp_path / "drive")]
    assert path == tmp_path / "drive" / "MyDrive" / "nir-course" / "runs" and path.is_dir()
    monkeypatch.chdir(tmp_path)
    assert runs.default_run_dir(use_drive=False) == runs.Path("runs")
