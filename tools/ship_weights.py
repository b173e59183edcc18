"""Export a trained VCIP 2020 run as the package's shipped weights, with the scores it measured.

    python benchmarks/vcip_cpu.py --root data/vcip2020 --fraction 4 --seeds 0 --points 2 --threads 1 --parallel-routes \
        --switch feat_disc=False --set finetune_steps=200 --set finetune_image_size=256 --set finetune_batch_size=2
    python tools/ship_weights.py --root data/vcip2020 --run \
        "runs/vcip_cpu/cpu-f4-feat_disc=False,finetune_steps=200,finetune_image_size=256,finetune_batch_size=2,threads=1,parallel-s0"
    # -> course_lib/weights/  (README "Shipped weights" gives the commands of the shipped file itself)

The direct route can come from another run folder (``--direct-run``), e.g. one trained with the progressive
route's CPU-seconds (``vcip_cpu.py --routes direct --direct-budget seconds``), or from registered weights
(``--direct-from vcip2020``: the shipped file's direct route carried over unchanged, e.g. when only the
progressive route was retrained).

Evaluates both routes of the run (progressive: finetune/, direct: direct/) on the 18 VCIP 2020 validation pairs at
256 px (PSNR / SSIM / AE / colourfulness), writes the generators in float16 with
``course_lib.pretrained.export_pretrained`` (the command, the scores and the mean training colour go into the
file's ``extra``), and registers the file under ``--name`` in ``course_lib/weights/registry.json`` with its SHA-256.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import torch

from course_lib.data import VCIP2020
from course_lib.metrics import colourfulness, evaluate, reference_predictors
from course_lib.pretrained import export_pretrained, register_pretrained
from course_lib.train import load_checkpoint, load_colorizer


def describe(profile: dict, f_g_spec: dict) -> str:
    """The registry's one-line description of a file from its run's profile and its colouriser's model spec."""
    routes = "progressive and direct routes"
    if f_g_spec.get("kind") == "binned_mpfnet":
        stride = int(f_g_spec.get("stride", 1))
        where = "at full resolution" if stride == 1 else f"on {stride} x {stride} blocks"
        routes = (f"progressive route with a chroma-bin head on F_G ({f_g_spec['n_bins']} bins {where}, "
                  f"T = {f_g_spec['temperature']:g}; not in the paper), and the direct route")
    return (f"MPFNet (width {profile['width']}, depth {profile['depth']}) trained on the 372 VCIP 2020 training "
            f"pairs in the `{profile['name']}` profile on a CPU: {routes}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="run folder with finetune/ and direct/ checkpoints")
    parser.add_argument("--root", required=True, help="VCIP 2020 folder (for the validation scores)")
    parser.add_argument("--direct-run", default=None,
                        help="run folder whose direct/ checkpoint gives the direct route (default: --run)")
    parser.add_argument("--direct-from", default=None, metavar="NAME",
                        help="take the direct route from the registered weights NAME (unchanged) instead")
    parser.add_argument("--name", default="vcip2020")
    parser.add_argument("--trained-with", default=None, help="the command that trained the run (for the record)")
    args = parser.parse_args(argv)
    if args.direct_run and args.direct_from:
        parser.error("--direct-run and --direct-from: give at most one")
    run, root = Path(args.run), Path(args.root)
    direct_run = Path(args.direct_run) if args.direct_run else run
    tmp = tempfile.TemporaryDirectory()
    if args.direct_from:   # the registered file's direct route as a run folder's direct/ checkpoint
        from course_lib.pretrained import route_checkpoint
        from course_lib.train import save_checkpoint

        direct_run = Path(tmp.name) / f"{args.direct_from}-direct"
        save_checkpoint(direct_run / "direct" / "checkpoint.pt", route_checkpoint(args.direct_from, "direct"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Validation/test_options.py
        val, train = VCIP2020(root, "val"), VCIP2020(root, "train")
    nir = torch.stack([val[i]["nir"] for i in range(len(val))])
    scores = {}
    for route, folder, stage in (("progressive", run, "finetune"), ("direct", direct_run, "direct")):
        colorizer = load_colorizer(folder / stage)
        s = evaluate(colorizer, val, lpips=False, method=route).summary
        with torch.no_grad():
            out = colorizer(nir)
        scores[route] = {"psnr": s["psnr"][0], "ssim": s["ssim"][0], "ae": s["ae"][0],
                         "colourfulness": float(colourfulness(out).mean()), "pairs": len(val), "size": 256}
    mean = reference_predictors(train)["mean training colour"].mean
    finished = load_checkpoint(run / "finetune" / "checkpoint.pt")
    profile = finished["profile"]
    trained_with = args.trained_with or (f"python benchmarks/vcip_cpu.py --root DATA --profile {profile['name']} "
                                         f"(run folder {run.name}" + (
                                             f", direct route from the registered weights {args.direct_from!r}"
                                             if args.direct_from else f", direct route from {direct_run.name}"
                                             if direct_run != run else "") + ")")
    extra = {"trained_with": trained_with, "scores": scores, "mean_training_colour": mean.tolist(),
             "data": "VCIP 2020 training pairs (372), validation scores on its 18 validation pairs at 256 px"}
    description = describe(profile, finished["model_specs"]["f_g"])
    with tmp as scratch:
        source = run
        if direct_run != run:   # one folder holding both routes' stage folders, as export_pretrained reads them
            source = Path(scratch) / "run"
            source.mkdir()
            (source / "finetune").symlink_to((run / "finetune").resolve(), target_is_directory=True)
            (source / "direct").symlink_to((direct_run / "direct").resolve(), target_is_directory=True)
        file = Path(scratch) / f"{args.name}.pt"
        export_pretrained(source, file, args.name, extra=extra)
        entry = register_pretrained(args.name, file, description, trained_with, scores)
    print(f"registered {args.name}: {entry}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
