"""Tests of ``python -m course_lib``: every command end to end on tiny settings, and one-line errors.

Commands run in-process through ``main([...])`` with the ``smoke`` profile shrunk to 48 px, width 4, depth 2
(monkeypatched), except two subprocess runs that check the real entry point prints no traceback.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
import torch
from PIL import Image

from course_lib.cli import main
from course_lib.data import save_image
from course_lib.train import PROFILES, load_checkpoint

TINY = PROFILES["smoke"].replace(
    image_size=48, width=4, depth=2, batch_size=2, translate_steps=2, pretrain_steps=2, finetune_steps=2,
    direct_steps=2, num_train=4, num_test=2, sample_every=2, checkpoint_every=2)


@pytest.fixture()
def tiny(monkeypatch):
    """The smoke profile, made tiny, chosen through the environment variable."""
    monkeypatch.setitem(PROFILES, "smoke", TINY)
    monkeypatch.setenv("COURSE_PROFILE", "smoke")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A run folder with every stage trained 2 steps by ``train --stage all``."""
    out = tmp_path_factory.mktemp("run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(PROFILES, "smoke", TINY)
        mp.setenv("COURSE_PROFILE", "smoke")
        assert main(["train", "--stage", "all", "--out", str(out), "--device", "cpu"]) == 0
    return out


def _one_error_line(capsys, *expected: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for word in expected:
        assert word in err, (word, err)
    return err


def test_train_all_writes_every_stage(trained_run):
    for stage in ("translate", "pretrain", "finetune", "direct"):
        assert load_checkpoint(trained_run / stage / "checkpoint.pt")["step"] == 2
        assert (trained_run / stage / "losses.csv").is_file()


def test_train_again_resumes_and_says_from_which_step(tiny, tmp_path, capsys):
    args = ["train", "--stage", "pretrain", "--out", str(tmp_path), "--device", "cpu"]
    assert main(args + ["--steps", "1"]) == 0
    capsys.readouterr()
    assert main(args + ["--steps", "2"]) == 0
    assert "resuming from step 1 of 2" in capsys.readouterr().out
    assert main(args + ["--steps", "2"]) == 0
    assert "already trained: step 2 of 2" in capsys.readouterr().out


def test_ctrl_c_during_train_saves_and_prints_how_to_resume(tiny, tmp_path, capsys, monkeypatch):
    from course_lib.train.loop import StageRun

    end_step = StageRun.end_step

    def interrupt_after_first_step(self, step, *args, **kwargs):
        end_step(self, step, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(StageRun, "end_step", interrupt_after_first_step)
    args = ["train", "--stage", "direct", "--model", "unet", "--out", str(tmp_path), "--device", "cpu"]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "stopped after step 1" in err and "Resume with the same command" in err and "--model unet" in err
    assert load_checkpoint(tmp_path / "direct_unet" / "checkpoint.pt")["step"] == 1


def test_evaluate_run_folder_writes_table(trained_run, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["evaluate", "--checkpoint-dir", str(trained_run), "--out", str(out), "--no-lpips"]) == 0
    table = (out / "table.md").read_text()
    assert "MPFNet progressive" in table and "MPFNet direct" in table and "PSNR" in table
    header = (out / "metrics.csv").read_text().splitlines()[0]
    assert header == "method,name,psnr,ssim,ae,lpips"
    assert main(["evaluate", "--checkpoint", str(trained_run / "direct" / "checkpoint.pt"), "--out",
                 str(tmp_path / "one"), "--no-lpips"]) == 0


def test_colorize_odd_size_image_keeps_its_size(trained_run, tmp_path):
    src = tmp_path / "in"
    save_image(torch.rand(1, 37, 53) * 2 - 1, src / "scene.png")
    save_image(torch.rand(3, 20, 31) * 2 - 1, src / "rgb_stored_nir.png")  # NIR saved with 3 channels
    out = tmp_path / "out"
    assert main(["colorize", str(src), "--checkpoint", str(trained_run), "--out", str(out), "--save-gray"]) == 0
    with Image.open(out / "scene.png") as im:
        assert im.size == (53, 37) and im.mode == "RGB"
    with Image.open(out / "scene_gray.png") as im:
        assert im.size == (53, 37)
    with Image.open(out / "rgb_stored_nir.png") as im:
        assert im.size == (31, 20)


def test_make_data_writes_train_and_test_pairs(tmp_path):
    assert main(["make-data", "--out", str(tmp_path), "--count", "3", "--test-count", "1", "--size", "24"]) == 0
    assert len(list((tmp_path / "train" / "nir").glob("*.png"))) == 3
    assert len(list((tmp_path / "train" / "rgb").glob("*.png"))) == 3
    assert len(list((tmp_path / "test" / "rgb").glob("*.png"))) == 1


def test_train_on_a_folder_dataset(tiny, tmp_path):
    main(["make-data", "--out", str(tmp_path / "data"), "--count", "2", "--test-count", "1", "--size", "40"])
    assert main(["train", "--stage", "pretrain", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
                 "--steps", "1", "--device", "cpu"]) == 0
    assert load_checkpoint(tmp_path / "run" / "pretrain" / "checkpoint.pt")["config"]["data"].endswith("data")


def test_demo_trains_both_routes_and_writes_the_comparison(tiny, tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--steps", "1", "--no-lpips", "--device", "cpu"]) == 0
    for name in ("comparison.png", "table.md", "metrics.csv"):
        assert (out / name).is_file(), name
    text = capsys.readouterr().out
    assert "not which route is better" in text and str(out / "comparison.png") in text
    rows = (out / "metrics.csv").read_text().splitlines()
    assert {r.split(",")[0] for r in rows[1:]} == {"MPFNet progressive", "MPFNet direct"}


# ---------------------------------------------------------------------------------------------------------------
# bad arguments: one line, nonzero exit, no traceback
# ---------------------------------------------------------------------------------------------------------------
def test_unknown_profile_is_one_line(tmp_path, capsys):
    assert main(["train", "--stage", "pretrain", "--out", str(tmp_path), "--profile", "huge"]) == 2
    _one_error_line(capsys, "profile", "huge", "smoke")


def test_unknown_stage_is_one_line(tmp_path, capsys):
    assert main(["train", "--stage", "colour", "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "--stage", "colour")


def test_missing_checkpoint_is_one_line(tmp_path, capsys):
    image = save_image(torch.zeros(1, 16, 16), tmp_path / "nir.png")
    assert main(["colorize", str(image), "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "--checkpoint", "nope.pt")
    assert main(["evaluate", "--checkpoint-dir", str(tmp_path)]) == 2
    _one_error_line(capsys, "--checkpoint-dir")


def test_unreadable_image_is_one_line(trained_run, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG not really")
    assert main(["colorize", str(bad), "--checkpoint", str(trained_run), "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, "broken.png")


def test_unwritable_output_folder_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["make-data", "--out", str(blocker / "sub"), "--count", "1"]) == 2
    _one_error_line(capsys, "--out", "a_file")


def test_corrupt_checkpoint_in_train_is_one_line(tiny, tmp_path, capsys):
    (tmp_path / "pretrain").mkdir()
    (tmp_path / "pretrain" / "checkpoint.pt").write_bytes(b"garbage")
    assert main(["train", "--stage", "pretrain", "--out", str(tmp_path), "--device", "cpu"]) == 2
    _one_error_line(capsys, "checkpoint.pt", "unreadable")
    assert (tmp_path / "pretrain" / "checkpoint.pt").read_bytes() == b"garbage"


def test_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "course_lib", "demo", "--profile", "nope"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "demo_output").exists()  # nothing written before the arguments were checked


def test_every_command_has_help(capsys):
    for command in ("demo", "make-data", "train", "evaluate", "colorize"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert "usage: python -m course_lib " + command in capsys.readouterr().out


def test_train_profile_overrides_and_what_it_trains_on(tiny, tmp_path, capsys):
    main(["make-data", "--out", str(tmp_path / "data"), "--count", "2", "--test-count", "1", "--size", "64"])
    capsys.readouterr()
    assert main(["train", "--stage", "direct", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
                 "--size", "48", "--width", "4", "--depth", "2", "--batch", "3", "--lr", "0.002", "--crop", "stored",
                 "--pretrain-steps", "2", "--translate-steps", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "random 48 px crops at the stored resolution" in out
    assert "translate 1 / pretrain 2 / finetune 1 / direct 3" in out  # the one budget rule
    ckpt = load_checkpoint(tmp_path / "run" / "direct" / "checkpoint.pt")
    assert ckpt["step"] == 3
    saved = ckpt["config"]["profile"]
    assert (saved["image_size"], saved["width"], saved["depth"], saved["batch_size"], saved["lr"], saved["crop"]) \
        == (48, 4, 2, 3, 0.002, "stored")
    assert main(["train", "--stage", "direct", "--out", str(tmp_path / "r2"), "--batch", "0", "--device", "cpu"]) == 2
    _one_error_line(capsys, "--batch", "positive")


def test_direct_budget_in_seconds_gives_direct_the_progressive_routes_seconds(tiny, tmp_path, capsys):
    args = ["train", "--stage", "direct", "--out", str(tmp_path), "--device", "cpu", "--pretrain-steps", "4",
            "--translate-steps", "2", "--direct-budget", "seconds"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "seconds per step: translate" in out, out
    line = next(x for x in out.splitlines() if x.startswith("steps: translate"))
    direct = int(line.split("direct ")[1].split(",")[0])
    # equal updates would give 4 + 2 = 6; a translate or finetune step costs several direct steps
    assert direct > 6, line
    assert load_checkpoint(tmp_path / "direct" / "checkpoint.pt")["step"] == direct
    assert main(args + ["--steps", "2"]) == 2
    _one_error_line(capsys, "--direct-budget seconds", "--steps")


def test_translate_warmup_option_starts_stage_1_with_supervised_steps(tiny, tmp_path, capsys):
    assert main(["train", "--stage", "translate", "--out", str(tmp_path / "run"), "--device", "cpu",
                 "--translate-steps", "3", "--translate-warmup", "2"]) == 0
    assert "steps: translate 3 (the first 2 supervised)" in capsys.readouterr().out
    with open(tmp_path / "run" / "translate" / "losses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [bool(r["warmup"]) for r in rows] == [True, True, False] and rows[2]["gan"]
    assert main(["train", "--stage", "translate", "--out", str(tmp_path / "r2"), "--device", "cpu",
                 "--translate-steps", "3", "--translate-warmup", "4"]) == 2
    _one_error_line(capsys, "--translate-warmup", "translate steps (3)")


def test_finetune_lr_option_and_lr_alone_setting_every_stage(capsys):
    import argparse

    from course_lib.cli import _profile

    def profile(**flags):
        return _profile(argparse.Namespace(profile="cpu", **{"lr": None, "finetune_lr": None, "translate_lr": None,
                                                             "device": "cpu", **flags}))

    def rates(p):
        return p.lr, p.finetune_lr, p.translate_lr

    assert rates(profile()) == (5e-4, 1e-4, None)
    out = capsys.readouterr().out
    assert "lr 0.0005 (fine-tuning 0.0001)" in out and "many hours" not in out   # the cpu profile is made for CPUs
    assert rates(profile(lr=1e-3)) == (1e-3, None, None)        # --lr alone: every optimizer, stages 1 and 3 too
    assert rates(profile(lr=1e-3, finetune_lr=2e-5)) == (1e-3, 2e-5, None)
    assert rates(profile(finetune_lr=3e-5)) == (5e-4, 3e-5, None)
    assert rates(profile(translate_lr=5e-5)) == (5e-4, 1e-4, 5e-5)
    assert "lr 0.0005 (translation 5e-05) (fine-tuning 0.0001)" in capsys.readouterr().out
    for flag in ("finetune", "translate"):
        with pytest.raises(ValueError, match=f"--{flag}-lr: expected a learning rate"):
            profile(**{f"{flag}_lr": 0.0})
    # stage 3's own crop and batch (Profile.finetune_image_size / finetune_batch_size); other stages keep theirs
    p = profile(finetune_size=256, finetune_batch=2)
    assert (p.image_size, p.batch_size, p.finetune_image_size, p.finetune_batch_size) == (128, 8, 256, 2)
    assert (p.stage_profile("finetune").image_size, p.stage_profile("finetune").batch_size) == (256, 2)
    with pytest.raises(ValueError, match="--finetune-size: expected a positive number"):
        profile(finetune_size=0)
    with pytest.raises(ValueError, match="--finetune-batch: expected a positive number"):
        profile(finetune_batch=-1)
    p = profile(pretrain_size=256, pretrain_batch=2)
    assert (p.stage_profile("pretrain").image_size, p.stage_profile("pretrain").batch_size) == (256, 2)
    assert p.stage_profile("finetune") is p and p.image_size == 128
    with pytest.raises(ValueError, match="--pretrain-size: expected a positive number"):
        profile(pretrain_size=-256)
    p = profile(translate_size=256, translate_batch=2)
    assert (p.stage_profile("translate").image_size, p.stage_profile("translate").batch_size) == (256, 2)
    assert p.stage_profile("pretrain") is p and (p.image_size, p.batch_size) == (128, 8)
    with pytest.raises(ValueError, match="--translate-batch: expected a positive number"):
        profile(translate_batch=0)
