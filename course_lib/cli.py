"""Command line: ``python -m course_lib {demo,make-data,train,evaluate,colorize,download}`` (``--help`` on each).

* ``demo``      trains the progressive route (translate -> pretrain -> finetune) and the direct route on
                rendered spectral scenes, evaluates both on held-out scenes, writes ``comparison.png``,
                ``table.md`` and ``metrics.csv`` (default folder ``./demo_output``).
* ``make-data`` renders spectral scenes to PNG files (``train/`` and ``test/`` folders, or one flat folder).
* ``train``     one stage or all of them into ``--out DIR``; run again, it resumes from DIR's checkpoints.
* ``evaluate``  scores the colorizers of a run folder (or one checkpoint) on the held-out set (Table I metrics).
* ``colorize``  NIR image(s) of any size -> RGB PNGs with a trained colorizer (``--checkpoint``) or shipped
                weights (``--pretrained NAME --route {progressive,direct}``).
* ``download``  fetches the VCIP 2020 (file by file, checked against the shipped manifest) or EPFL RGB-NIR Scene
                (one zip, resumable) dataset into ``--root DIR``; run again, it resumes.

User errors (unknown profile, missing checkpoint, unreadable image, unwritable folder, unreachable or
mismatching download...) print one line
``error: ...`` and exit with status 2; Ctrl-C during training saves a checkpoint and prints how to resume
(exit status 130).
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Sequence

__all__ = ["main", "build_parser"]

DEMO_ROWS = 4


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error becomes one ``error: ...`` line (printed by ``main``) instead of usage + exit."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise _UsageError(f"{message} (see: {self.prog} --help)")


# ----------------------------------------------------------------------------------------------------------------
# the parser
# ----------------------------------------------------------------------------------------------------------------
def _add_common(p: argparse.ArgumentParser, data: bool = True) -> None:
    if data:
        p.add_argument("--data", default=None, metavar="FOLDER",
                       help="dataset folder (PairedFolder, VCIP2020 or EPFL layout); default: rendered spectral scenes")
        p.add_argument("--dataset", default="auto", choices=["auto", "paired", "vcip2020", "epfl", "spectral"],
                       help="layout of --data (default: detected)")
    p.add_argument("--profile", default=None, metavar="NAME",
                   help="smoke, cpu, course or paper (default: $COURSE_PROFILE, else course with CUDA, smoke "
                        "without)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1... (default: cuda if available)")


def _add_training(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="train every stage N steps instead of the profile's schedule (quick runs, tests)")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, data order, augmentation")
    o = p.add_argument_group("profile overrides (default: the profile's)")
    o.add_argument("--size", type=int, default=None, metavar="PX", help="training crop size in px")
    o.add_argument("--width", type=int, default=None, help="MPFNet base width")
    o.add_argument("--depth", type=int, default=None, help="FEB depth (down-sampling levels)")
    o.add_argument("--batch", type=int, default=None, help="images per step")
    # Profile.<stage>_image_size / <stage>_batch_size
    for stage, number in (("translate", 1), ("pretrain", 2), ("finetune", 3)):
        o.add_argument(f"--{stage}-size", type=int, default=None, metavar="PX",
                       help=f"stage {number}'s crop size in px, if not --size (with --crop stored and the images' "
                            "stored size: whole images)")
        o.add_argument(f"--{stage}-batch", type=int, default=None, metavar="N",
                       help=f"stage {number}'s batch, if not --batch")
    o.add_argument("--lr", type=float, default=None,
                   help="Adam learning rate of every optimizer (stages 1 and 3 too, unless --translate-lr / --finetune-lr "
                        "is given)")
    o.add_argument("--finetune-lr", type=float, default=None,
                   help="learning rate of fine-tuning's optimizers (default: the profile's; cpu: 0.0001)")
    o.add_argument("--translate-lr", type=float, default=None,
                   help="learning rate of stage 1's optimizers (default: --lr); a finished translate stage asked "
                        "for more steps continues at this rate (an annealing phase)")
    o.add_argument("--crop", default=None, choices=["resize", "stored"],
                   help="resize: each whole image scaled to --size; stored: random --size crops at the stored "
                        "resolution (evaluation then at the stored resolution too)")
    o.add_argument("--pretrain-steps", type=int, default=None, metavar="N",
                   help="pretrain steps; finetune (N // 2; N // 12 in cpu) and direct = N + finetune follow "
                        "(the one budget rule)")
    o.add_argument("--translate-steps", type=int, default=None, metavar="N", help="translate steps")
    o.add_argument("--translate-warmup", type=int, default=None, metavar="N",
                   help="how many of the first translate steps are supervised warm-up steps of G_N2G (NIR -> the "
                        "pair's gray, L_mix) before the CycleGAN steps of Eq. (1); 0 = the paper")
    o.add_argument("--direct-budget", default="updates", choices=["updates", "seconds"],
                   help="size of the direct route: updates = as many as F_G gets (pretrain + finetune, default); "
                        "seconds = as many CPU-seconds as the whole progressive route, from step costs measured "
                        "first on this machine (a few steps of each stage)")
    g = p.add_argument_group("ablations (DESIGN.md section 2; defaults are the paper's model)")
    g.add_argument("--attention", default="coordinate", choices=["coordinate", "se", "none"],
                   help="attention inside each RCAB")
    g.add_argument("--norm", default="instance", choices=["instance", "batch", "none"], help="FEB normalisation")
    g.add_argument("--scales", type=int, default=3, choices=[1, 2, 3], help="number of MPFNet scales")
    g.add_argument("--no-sccm", action="store_true", help="replace the SCCM by a plain output head")
    g.add_argument("--no-feat-disc", action="store_true", help="fine-tune without D_G^feat (Eq. 4)")
    g.add_argument("--feat-source", default="outputs", choices=["outputs", "features"],
                   help="what D_G^feat sees: F_G's multi-scale outputs or its finest features")
    b = p.add_argument_group("colour as a distribution over chroma bins (not in the paper; course_lib.colour_bins)")
    b.add_argument("--colour-bins", type=float, default=None, metavar="WEIGHT",
                   help="weight of the chroma-bin cross-entropy; > 0 gives F_G (and the direct MPFNet) a bin head "
                        "whose annealed mean colours the output, 0 the paper's network (default: the profile's; "
                        "1 in cpu, 0 elsewhere)")
    b.add_argument("--bins-temperature", type=float, default=None, metavar="T",
                   help="the annealed mean's temperature (1: the mean; 0.38: Zhang et al.'s; default: the "
                        "profile's, 0.38 in cpu, 1 elsewhere)")
    b.add_argument("--bins-stride", type=int, default=None, metavar="S",
                   help="score the bins on S x S blocks and upsample the colour (4: Zhang et al.'s quarter "
                        "resolution, about S^2 times cheaper; default: the profile's, 4 in cpu, 1 elsewhere)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m course_lib",
                     description="NIR -> RGB colorization (MPFNet): train, evaluate, colorize, demo.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("demo", help="train both routes on spectral scenes and compare them",
                       description="Train the progressive route (translate, pretrain, finetune) and the direct "
                                   "route in the profile this machine allows, evaluate both on held-out scenes, "
                                   "write comparison.png, table.md and metrics.csv.")
    p.add_argument("--out", default="demo_output", help="output folder (default: ./demo_output)")
    p.add_argument("--unet", action="store_true", help="also train the pix2pix UNet baseline directly")
    p.add_argument("--no-lpips", action="store_true", help="skip LPIPS (it needs AlexNet weights)")
    _add_common(p)
    _add_training(p)

    p = sub.add_parser("make-data", help="render spectral scenes to PNG pairs",
                       description="Render NIR/RGB spectral scenes to OUT/train/{nir,rgb}/ and OUT/test/{nir,rgb}/ "
                                   "(the VCIP2020 layout; --test-count 0: one flat OUT/{nir,rgb}/ folder).")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--count", type=int, default=64, help="training scenes (default 64)")
    p.add_argument("--test-count", type=int, default=None, help="test scenes (default count // 4, at least 1)")
    p.add_argument("--size", type=int, default=256, help="image size in px (default 256)")
    p.add_argument("--seed", type=int, default=0, help="scene seed (default 0)")

    p = sub.add_parser("train", help="train one stage or all of them (resumes from --out)",
                       description="Train a stage into OUT/<stage>/ (checkpoint.pt, losses.csv, samples/). The "
                                   "same command run again resumes from the checkpoint.")
    p.add_argument("--stage", required=True, choices=["translate", "pretrain", "finetune", "direct", "all"])
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--model", default="mpfnet", choices=["mpfnet", "unet"], help="network of the direct route")
    _add_common(p)
    _add_training(p)

    p = sub.add_parser("evaluate", help="score trained colorizers on the test split (Table I metrics)",
                       description="Evaluate the progressive (finetune) and direct checkpoints of a run folder, "
                                   "or one checkpoint, with PSNR, SSIM, AE and LPIPS on the held-out data.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint-dir", default=None, metavar="DIR", help="run folder (as train --out)")
    src.add_argument("--checkpoint", default=None, metavar="FILE", help="one finetune/direct checkpoint.pt")
    p.add_argument("--out", default=None, help="where to write table.md and metrics.csv "
                                               "(default: <run folder>/evaluation)")
    p.add_argument("--count", type=int, default=None, help="held-out spectral scenes (default: the profile's)")
    p.add_argument("--no-lpips", action="store_true", help="skip LPIPS")
    _add_common(p)

    p = sub.add_parser("colorize", help="colorize NIR images with a trained checkpoint or shipped weights",
                       description="Colorize one NIR image or every image of a folder (any size) and write "
                                   "RGB PNGs of the same size, OUT/<input name>.png. The colorizer comes from "
                                   "--checkpoint (a run of yours) or --pretrained (weights shipped with "
                                   "course_lib, SHA-256-checked before loading); exactly one of the two.")
    p.add_argument("input", metavar="NIR_IMAGE_OR_FOLDER")
    p.add_argument("--checkpoint", default=None, help="finetune or direct checkpoint.pt, or a run folder")
    p.add_argument("--pretrained", default=None, metavar="NAME",
                   help="shipped weights by name (course_lib/weights/registry.json), e.g. vcip2020")
    p.add_argument("--route", default=None, choices=["progressive", "direct"],
                   help="with --pretrained: the paper's NIR -> gray -> RGB route (default) or the direct one")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--save-gray", action="store_true", help="also write the translated gray (progressive only)")
    p.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="colourisers with a chroma-bin head only: the annealed mean's temperature (default: the one "
                        "they were trained with; lower = more saturated)")
    p.add_argument("--device", default=None, help="cpu, cuda... (default: cuda if available)")

    p = sub.add_parser("download", help="fetch the VCIP 2020 or EPFL RGB-NIR Scene dataset, verified",
                       description="vcip2020: every file of the MCFNet mirror (pinned commit) checked against the "
                                   "shipped manifest (size + SHA-256), into DIR/NIR, DIR/RGB-Registered, "
                                   "DIR/Validation, DIR/Testing. epfl: nirscene1.zip (952 MB, resumable), size-"
                                   "checked, unpacked to DIR/nirscene1. Run again: verified files are kept and "
                                   "an interrupted download resumes.")
    p.add_argument("name", choices=["vcip2020", "epfl"], help="which dataset")
    p.add_argument("--root", required=True, metavar="DIR", help="folder to put the dataset in")
    p.add_argument("--splits", default=None, metavar="LIST",
                   help="vcip2020 only: comma-separated subset of train,val,test (default: all)")
    p.add_argument("--url", default=None,
                   help="another source: vcip2020 the base URL of a copy of the datasets/ folder, epfl the zip")
    p.add_argument("--sha256", default=None, metavar="HEX", help="epfl only: require this SHA-256 of the zip")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="vcip2020 only: parallel downloads (default 8)")
    return parser


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------
def _writable_folder(path: str | os.PathLike, arg: str) -> Path:
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write_test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OSError(f"{arg}: cannot write to the folder {folder} ({exc.strerror or exc})") from None
    return folder


def _profile(args):
    from .train import get_profile

    profile = get_profile(args.profile)
    if getattr(args, "steps", None) is not None:
        if args.steps < 1:
            raise ValueError(f"--steps: expected a positive number of steps, got {args.steps}")
        profile = profile.with_steps(args.steps)
        print(f"--steps {args.steps}: every stage trains {args.steps} steps")
    flags = {"size": "image_size", "width": "width", "depth": "depth", "batch": "batch_size", "lr": "lr",
             "crop": "crop", **{f"{stage}_{flag}": f"{stage}_{field}_size"   # --<stage>-size / --<stage>-batch
                                for stage in ("translate", "pretrain", "finetune")
                                for flag, field in (("size", "image"), ("batch", "batch"))}}
    changes = {field: getattr(args, name) for name, field in flags.items() if getattr(args, name, None) is not None}
    for name, field in flags.items():
        if field in changes and name != "crop" and not changes[field] > 0:
            raise ValueError(f"--{name.replace('_', '-')}: expected a positive number, got {changes[field]}")
    for stage in ("finetune", "translate"):   # Profile.finetune_lr / translate_lr
        stage_lr = getattr(args, f"{stage}_lr", None)
        if stage_lr is not None and not 0 < stage_lr < 1:
            raise ValueError(f"--{stage}-lr: expected a learning rate in (0, 1), got {stage_lr}")
        if stage_lr is not None or "lr" in changes:   # --lr alone: every optimizer, stages 1 and 3 included
            changes[f"{stage}_lr"] = stage_lr
    if changes:
        profile = profile.replace(**changes)
    pretrain_steps, translate_steps = getattr(args, "pretrain_steps", None), getattr(args, "translate_steps", None)
    if pretrain_steps is not None or translate_steps is not None:
        for flag, value in (("--pretrain-steps", pretrain_steps), ("--translate-steps", translate_steps)):
            if value is not None and value < 1:
                raise ValueError(f"{flag}: expected a positive number of steps, got {value}")
        profile = profile.with_budget(pretrain_steps or profile.pretrain_steps, translate_steps)
    warmup = getattr(args, "translate_warmup", None)
    if warmup is not None:
        if not 0 <= warmup <= profile.translate_steps:
            raise ValueError(f"--translate-warmup: expected 0 to the translate steps ({profile.translate_steps}), "
                             f"got {warmup}")
        profile = profile.replace(translate_warmup=warmup)
    if getattr(args, "direct_budget", "updates") == "seconds":
        if getattr(args, "steps", None) is not None:
            raise ValueError("--direct-budget seconds: not with --steps (which gives every stage the same steps); "
                             "use --pretrain-steps / --translate-steps")
        from .train.budget import measure_step_seconds

        print("--direct-budget seconds: measuring one step of each stage on this machine ...")
        seconds = measure_step_seconds(profile, getattr(args, "data", None), device=getattr(args, "device", None),
                                       data_kind=_data_kind(args) if hasattr(args, "dataset") else "auto")
        print("seconds per step: " + ", ".join(f"{k} {v:.3f}" for k, v in seconds.items()))
        profile = profile.with_budget(profile.pretrain_steps, profile.translate_steps, direct="seconds",
                                      step_seconds=seconds)
    if getattr(args, "data", None) is not None:
        where = ("random {0} px crops at the stored resolution; evaluation on whole images at the stored resolution"
                 if profile.crop == "stored" else
                 "each whole image scaled (shorter side) and centre-cropped to {0} px, for training and evaluation")
        own = [f"{label}: {p.image_size} px, batch {p.batch_size}"
               for label, p in (("translation", profile.stage_profile("translate")),
                                ("pre-training", profile.stage_profile("pretrain")),
                                ("fine-tuning", profile.stage_profile("finetune"))) if p is not profile]
        print(f"data: {where.format(profile.image_size)}" + (f" ({'; '.join(own)})" if own else ""))
    warm = f" (the first {profile.translate_warmup} supervised)" if profile.translate_warmup else ""
    print(f"steps: translate {profile.translate_steps}{warm} / pretrain {profile.pretrain_steps} / finetune "
          f"{profile.finetune_steps} / direct {profile.direct_steps}, batch {profile.batch_size}, lr {profile.lr:g}"
          + "".join(f" ({label} {rate:g})" for label, rate in (("translation", profile.translate_lr),
                                                                  ("fine-tuning", profile.finetune_lr))
                    if rate is not None))
    import torch

    on_gpu = (args.device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda")
    if profile.name not in ("smoke", "cpu") and not on_gpu:
        print(f"note: profile {profile.name} on a CPU will take many hours; the smoke and cpu profiles are made "
              "for CPUs")
    if not on_gpu and profile.image_size <= 64 and "OMP_NUM_THREADS" not in os.environ \
            and torch.get_num_threads() > 1:
        # The smoke networks are too small for intra-op threads to pay off, and on a CPU shared with other
        # processes OpenMP threads waiting for each other made a step 10x slower (measured on 2 busy cores).
        torch.set_num_threads(1)
        print("CPU: training with 1 thread (small networks; set OMP_NUM_THREADS to choose)")
    return profile


def _configs(args) -> dict:
    from .train import get_profile, make_configs

    profile = get_profile(getattr(args, "profile", None), verbose=False)  # its recipe (PROFILE_RECIPES) applies
    bins = {k: v for k, v in (("colour_bins", args.colour_bins), ("bins_temperature", args.bins_temperature),
                              ("bins_stride", args.bins_stride)) if v is not None}   # else the profile's recipe
    return make_configs(profile, seed=args.seed, attention=args.attention, norm=args.norm, scales=args.scales,
                        sccm=not args.no_sccm, use_feat_disc=not args.no_feat_disc, feat_source=args.feat_source,
                        **bins)


def _data_kind(args) -> str:
    return args.dataset if args.data is not None or args.dataset == "spectral" else "auto"


def _evaluate(colorizers: dict, test_set, out: Path | None, lpips, device):
    """Evaluate each colorizer; write table.md and metrics.csv (a ``method`` column first) into ``out``."""
    from .metrics import METRIC_COLUMNS, evaluate, format_table

    results = {name: evaluate(c, test_set, lpips=lpips, device=device, method=name) for name, c in colorizers.items()}
    table = format_table(results)
    if out is not None:
        (out / "table.md").write_text(table, encoding="utf-8")
        with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=["method", *METRIC_COLUMNS])
            writer.writeheader()
            for name, result in results.items():
                writer.writerows({"method": name, **row} for row in result.rows)
    return results, table


def _comparison_figure(colorizers: dict, test_set, path: Path, rows: int = DEMO_ROWS) -> Path:
    """Columns NIR | translated gray | each colorizer | ground truth; one row per held-out image."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import torch

    from .metrics import to_uint8
    from .train import ProgressiveColorizer

    items = [test_set[i] for i in range(min(rows, len(test_set)))]
    nir = torch.stack([it["nir"] for it in items])
    columns = [("NIR input", nir)]
    for name, colorizer in colorizers.items():
        if isinstance(colorizer, ProgressiveColorizer):
            rgb, gray = colorizer.colorize(nir, return_gray=True)
            columns.append(("translated gray\nG_N2G(NIR)", gray))
            columns.append((name, rgb))
        else:
            columns.append((name, colorizer.colorize(nir)))
    columns.append(("ground truth", torch.stack([it["rgb"] for it in items])))
    fig, axes = plt.subplots(len(items), len(columns), figsize=(2.2 * len(columns), 2.2 * len(items)),
                             squeeze=False)
    for c, (title, images) in enumerate(columns):
        images = images.clamp(-1, 1)
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        for r, image in enumerate(to_uint8(images)):
            ax = axes[r][c]
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from .train import resolve_device, run_all, test_data

    started = time.time()
    profile = _profile(args)
    device = resolve_device(args.device)
    out = _writable_folder(args.out, "--out")
    configs = _configs(args)
    source = f"the dataset in {args.data}" if args.data else f"{profile.num_train} rendered spectral scenes"
    print(f"Demo: training the progressive route (translate {profile.translate_steps} steps -> pretrain "
          f"{profile.pretrain_steps} -> finetune {profile.finetune_steps}) and the direct route (the same MPFNet, "
          f"NIR -> RGB, {profile.direct_steps} steps) on {source}, {profile.image_size} px, on {device}.")
    models = ("mpfnet", "unet") if args.unet else ("mpfnet",)
    results = run_all(profile, out / "runs", args.data, translate_config=configs["translate"],
                      pretrain_config=configs["pretrain"], finetune_config=configs["finetune"],
                      direct_config=configs["direct"], direct_models=models, device=device,
                      data_kind=_data_kind(args))
    colorizers = {"MPFNet progressive": results["finetune"].colorizer, "MPFNet direct": results["direct"].colorizer}
    if args.unet:
        colorizers["UNet direct"] = results["direct_unet"].colorizer
    test_set = test_data(args.data, profile, _data_kind(args))
    _, table = _evaluate(colorizers, test_set, out, lpips=False if args.no_lpips else "auto", device=device)
    figure = _comparison_figure(colorizers, test_set, out / "comparison.png")
    minutes = (time.time() - started) / 60
    held_out = "held-out spectral scenes (another seed)" if args.data is None else "the test split"
    print()
    print(f"Demo finished in {minutes:.1f} min (profile {profile.name}). What it did:")
    print(f"  1. trained the progressive route translate -> pretrain -> finetune: checkpoints, losses.csv and "
          f"sample grids in {out / 'runs'}/<stage>/")
    print(f"  2. trained the direct route (same network and loss, NIR -> RGB): {out / 'runs' / 'direct'}/")
    print(f"  3. evaluated both on {len(test_set)} {held_out} with PSNR, SSIM, AE, LPIPS:")
    print()
    print(table)
    print(f"Results: {figure} (NIR | translated gray | progressive | direct | ground truth), "
          f"{out / 'table.md'}, {out / 'metrics.csv'}")
    if profile.name == "smoke" or args.steps is not None:
        print("Note: this was a tiny training budget (smoke profile / --steps): the networks are barely trained, "
              "so these numbers show that the pipeline runs, not which route is better. On a GPU, run with "
              "--profile course for a meaningful comparison.")
    return 0


def cmd_make_data(args) -> int:
    from .data import make_data

    if args.count < 1:
        raise ValueError(f"--count: expected a positive number of scenes, got {args.count}")
    if args.size < 8:
        raise ValueError(f"--size: expected at least 8 px, got {args.size}")
    out = _writable_folder(args.out, "--out")
    test_count = max(1, args.count // 4) if args.test_count is None else args.test_count
    if test_count < 0:
        raise ValueError(f"--test-count: expected >= 0, got {test_count}")
    if test_count == 0:
        written = make_data(out, count=args.count, size=args.size, seed=args.seed)
    else:
        written = make_data(out, count={"train": args.count, "test": test_count}, size=args.size, seed=args.seed,
                            split_names=("train", "test"))
    summary = ", ".join(f"{n} {split}" for split, n in written.items())
    print(f"Wrote {summary} NIR/RGB pairs of {args.size} px to {out} "
          f"(train with: python -m course_lib train --stage all --data {out} --out runs)")
    return 0


def cmd_train(args) -> int:
    from .train import finetune, pretrain, run_all, train_direct, translate

    profile = _profile(args)
    configs = _configs(args)
    common = dict(device=args.device, data_kind=_data_kind(args))
    out = _writable_folder(args.out, "--out")
    if args.stage == "all":
        results = run_all(profile, out, args.data, translate_config=configs["translate"],
                          pretrain_config=configs["pretrain"], finetune_config=configs["finetune"],
                          direct_config=configs["direct"], direct_models=(args.model,), **common)
    elif args.stage == "direct":
        results = {"direct": train_direct(profile, out, args.data, configs["direct"], model=args.model, **common)}
    else:
        stage_fn = {"translate": translate, "pretrain": pretrain, "finetune": finetune}[args.stage]
        results = {args.stage: stage_fn(profile, out, args.data, configs[args.stage], **common)}
    for name, result in results.items():
        print(f"[{result.stage}] step {result.step} of {result.total_steps}: checkpoint {result.checkpoint}, "
              f"losses {result.log}, samples {result.samples}/")
    return 0


def _checkpoint_profile(path: Path):
    from .train import Profile, load_checkpoint

    saved = load_checkpoint(path).get("profile")
    return Profile(**saved) if isinstance(saved, dict) else None


def cmd_evaluate(args) -> int:
    from .train import find_colorizer_checkpoints, get_profile, load_colorizer, resolve_device, test_data

    if args.checkpoint_dir is not None:
        folder = Path(args.checkpoint_dir)
        if not folder.is_dir():
            raise FileNotFoundError(f"--checkpoint-dir: no such folder {folder}")
        found = find_colorizer_checkpoints(folder)
        if not found:
            raise FileNotFoundError(f"--checkpoint-dir: no finetune/, direct/ or direct_unet/ checkpoint.pt in "
                                    f"{folder} (train with: python -m course_lib train --stage all --out {folder})")
        default_out = folder / "evaluation"
    else:
        path = Path(args.checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"--checkpoint: no such file {path}")
        found = {path.parent.name or "model": path}
        default_out = path.parent / "evaluation"
    device = resolve_device(args.device)
    # the held-out images at the size the networks were trained on (the checkpoint's profile)
    profile = _checkpoint_profile(next(iter(found.values())))
    if args.profile is not None or profile is None:
        profile = get_profile(args.profile)
    labels = {"progressive": "MPFNet progressive", "direct": "MPFNet direct", "direct_unet": "UNet direct",
              "finetune": "MPFNet progressive"}
    colorizers = {labels.get(k, k): load_colorizer(p, device=device) for k, p in found.items()}
    test_set = test_data(args.data, profile, _data_kind(args), count=args.count)
    out = _writable_folder(args.out or default_out, "--out")
    _, table = _evaluate(colorizers, test_set, out, lpips=False if args.no_lpips else "auto", device=device)
    print(table)
    print(f"Evaluated {', '.join(f'{k} ({p})' for k, p in found.items())} on {len(test_set)} held-out images; "
          f"wrote {out / 'table.md'} and {out / 'metrics.csv'}")
    return 0


def cmd_colorize(args) -> int:
    from .data import IMAGE_EXTENSIONS, load_image, save_image
    from .train import ProgressiveColorizer, load_colorizer, resolve_device
    from .train.inference import set_temperature

    if (args.checkpoint is None) == (args.pretrained is None):
        raise _UsageError("colorize: give exactly one of --checkpoint FILE_OR_RUN_FOLDER (a run of yours) and "
                          "--pretrained NAME (shipped weights)"
                          + (", not both" if args.checkpoint is not None else ""))
    if args.route is not None and args.pretrained is None:
        raise _UsageError("--route: only with --pretrained (a checkpoint's route is its stage: finetune = "
                          "progressive, direct = direct)")
    source = Path(args.input)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise FileNotFoundError(f"NIR_IMAGE_OR_FOLDER: no image files ({', '.join(IMAGE_EXTENSIONS)}) in {source}")
    elif source.is_file():
        files = [source]
    else:
        raise FileNotFoundError(f"NIR_IMAGE_OR_FOLDER: no such file or folder {source}")
    if args.pretrained is not None:
        from .pretrained import load_pretrained

        colorizer = load_pretrained(args.pretrained, route=args.route or "progressive",
                                    device=resolve_device(args.device))
    else:
        ckpt = Path(args.checkpoint)
        if not ckpt.exists():
            raise FileNotFoundError(f"--checkpoint: no such file or folder {ckpt}")
        colorizer = load_colorizer(ckpt, device=resolve_device(args.device))
    if args.temperature is not None:
        try:
            set_temperature(colorizer, args.temperature)
        except ValueError as error:
            raise _UsageError(f"--temperature: {error}") from None
    out = _writable_folder(args.out, "--out")
    progressive = isinstance(colorizer, ProgressiveColorizer)
    for path in files:
        nir = load_image(path)
        if nir.shape[0] == 3:  # a NIR image stored as RGB: its channels are equal, take their mean
            nir = nir.mean(0, keepdim=True)
        if min(nir.shape[-2:]) < 8:
            raise ValueError(f"NIR_IMAGE_OR_FOLDER: {path} is {nir.shape[-2]}x{nir.shape[-1]} px; expected at "
                             "least 8x8")
        if progressive:
            rgb, gray = colorizer.colorize(nir, return_gray=True)
            if args.save_gray:
                save_image(gray, out / f"{path.stem}_gray.png")
        else:
            rgb = colorizer.colorize(nir)
        written = save_image(rgb, out / f"{path.stem}.png")
        print(f"{path} -> {written}")
    print(f"Colorized {len(files)} image(s) into {out}")
    return 0


def cmd_download(args) -> int:
    from .data.download import download

    root = _writable_folder(args.root, "--root")
    if args.name == "epfl":
        if args.splits is not None:
            raise ValueError("--splits: only vcip2020 has splits; epfl is one archive (EPFLNirScene chooses "
                             "train/test when it reads it)")
        if args.workers is not None:
            raise ValueError("--workers: only vcip2020 downloads in parallel; epfl is one archive")
        download("epfl", root, url=args.url, sha256=args.sha256)
        print(f"EPFL RGB-NIR Scene data in {root / 'nirscene1'}. Open it with:\n"
              f"  from course_lib.data import EPFLNirScene, open_dataset\n"
              f"  EPFLNirScene({str(root)!r}, split='train')   # or open_dataset({str(root)!r}, kind='epfl', "
              f"split='train')\n"
              f"Train on it: python -m course_lib train --stage all --data {shlex.quote(str(root))} --dataset epfl "
              f"--out runs")
        return 0
    if args.sha256 is not None:
        raise ValueError("--sha256: vcip2020 is checked file by file against its shipped manifest; --sha256 pins "
                         "the epfl archive")
    workers = 8 if args.workers is None else args.workers
    if workers < 1:
        raise ValueError(f"--workers: expected at least 1, got {workers}")
    download("vcip2020", root, url=args.url, splits=args.splits, workers=workers)
    print(f"VCIP 2020 data in {root} (train: NIR/ + RGB-Registered/, val: Validation/, test: Testing/). Open it "
          f"with:\n"
          f"  from course_lib.data import VCIP2020, open_dataset\n"
          f"  VCIP2020({str(root)!r}, split='train')   # or open_dataset({str(root)!r}, kind='vcip2020', "
          f"split='train')\n"
          f"Train on it: python -m course_lib train --stage all --data {shlex.quote(str(root))} --dataset vcip2020 "
          f"--out runs")
    return 0


COMMANDS = {"demo": cmd_demo, "make-data": cmd_make_data, "train": cmd_train, "evaluate": cmd_evaluate,
            "colorize": cmd_colorize, "download": cmd_download}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 user error, 130 interrupted)."""
    from .train import TrainingInterrupted

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        print(f"\ninterrupted: {exc.stage} stopped after step {exc.step}; checkpoint: {exc.checkpoint}.\n"
              f"Resume with the same command: python -m course_lib {shlex.join(argv)}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except FloatingPointError as exc:  # a loss became NaN/inf: say so in one line
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, OSError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
