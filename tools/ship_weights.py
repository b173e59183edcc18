"""Export a trained VCIP 2020 run as the package's shipped weights, with the scores it measured.

    python benchmarks/vcip_cpu.py --root data/vcip2020 --fraction 2.5 --seeds 0        # trains runs/vcip_cpu/cpu-f2.5-s0
    python tools/ship_weights.py --run runs/vcip_cpu/cpu-f2.5-s0 --root data/vcip2020   # -> course_lib/weights/

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="run folder with finetune/ and direct/ checkpoints")
    parser.add_argument("--root", required=True, help="VCIP 2020 folder (for the validation scores)")
    parser.add_argument("--name", default="vcip2020")
    parser.add_argument("--trained-with", default=None, help="the command that trained the run (for the record)")
    args = parser.parse_args(argv)
    run, root = Path(args.run), Path(args.root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Validation/test_options.py
        val, train = VCIP2020(root, "val"), VCIP2020(root, "train")
    nir = torch.stack([val[i]["nir"] for i in range(len(val))])
    scores = {}
    for route, stage in (("progressive", "finetune"), ("direct", "direct")):
        colorizer = load_colorizer(run / stage)
        s = evaluate(colorizer, val, lpips=False, method=route).summary
        with torch.no_grad():
            out = colorizer(nir)
        scores[route] = {"psnr": s["psnr"][0], "ssim": s["ssim"][0], "ae": s["ae"][0],
                         "colourfulness": float(colourfulness(out).mean()), "pairs": len(val), "size": 256}
    mean = reference_predictors(train)["mean training colour"].mean
    profile = load_checkpoint(run / "finetune" / "checkpoint.pt")["profile"]
    trained_with = args.trained_with or (f"python benchmarks/vcip_cpu.py --root DATA --profile {profile['name']} "
                                         f"(run folder {run.name})")
    extra = {"trained_with": trained_with, "scores": scores, "mean_training_colour": mean.tolist(),
             "data": "VCIP 2020 training pairs (372), validation scores on its 18 validation pairs at 256 px"}
    description = (f"MPFNet (width {profile['width']}, depth {profile['depth']}) trained on the 372 VCIP 2020 "
                   f"training pairs in the `{profile['name']}` profile on a CPU: progressive and direct routes")
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / f"{args.name}.pt"
        export_pretrained(run, file, args.name, extra=extra)
        entry = register_pretrained(args.name, file, description, trained_with, scores)
    print(f"registered {args.name}: {entry}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
