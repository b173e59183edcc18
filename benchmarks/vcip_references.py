"""The anchors every VCIP 2020 result is read against: two predictors that learn nothing, scored with Table I's
metrics on the real held-out pairs, plus what the distributed splits share.

    python benchmarks/vcip_references.py --root DIR            # DIR as `python -m course_lib download vcip2020` makes it
    python benchmarks/vcip_references.py --root DIR --size 128 # at another (square, centre-cropped) size

For each held-out split present under DIR (``val``: 18 pairs; ``test``: 28 pairs, and the 20 of them that are not
byte-identical copies of training pairs), it evaluates ``course_lib.metrics.reference_predictors`` fitted on the
372 training pairs -- the mean training colour painted everywhere, and the NIR image copied to R, G and B -- with
PSNR / SSIM / AE (and LPIPS where the AlexNet weights are on the machine), at the stored 256 px by default. It
prints a Markdown table and writes it to ``benchmarks/results/vcip_references.md`` (``--out`` to change). A method
that does not beat both rows has not learned colour. Deterministic: no training, no seeds.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from course_lib.data import VCIP2020, Resize
from course_lib.metrics import backbone_path, evaluate, reference_predictors


def _held_out(root: Path, size: int) -> dict[str, VCIP2020]:
    out = {}
    for split in ("val", "test"):
        try:
            out[split] = VCIP2020(root, split, transform=Resize(size))
        except FileNotFoundError:
            continue
        clean = VCIP2020(root, split, transform=Resize(size), exclude_train_overlap=True)
        if clean.excluded:
            out[f"{split} without training copies"] = clean
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="the VCIP 2020 folder (NIR/, RGB-Registered/, Validation/, ...)")
    parser.add_argument("--size", type=int, default=256, help="evaluation size in px (default 256, the stored size)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "vcip_references.md"))
    args = parser.parse_args(argv)
    root = Path(args.root)
    start = time.time()
    train = VCIP2020(root, "train", transform=Resize(args.size))
    refs = reference_predictors(train)
    mean = refs["mean training colour"].mean
    lpips = "auto" if backbone_path("alex").is_file() else False
    rows = []
    for split, dataset in _held_out(root, args.size).items():
        for name, fn in refs.items():
            s = evaluate(fn, dataset, lpips=lpips, method=name).summary
            rows.append((split, len(dataset), name, *(s[k][0] for k in ("psnr", "ssim", "ae", "lpips"))))
    lines = [
        f"# VCIP 2020 reference predictors ({args.size} px)", "",
        f"Command: `python benchmarks/vcip_references.py --root DIR --size {args.size}` on the challenge data as "
        "distributed. Fitted on the 372 training pairs (mean training colour in [-1, 1]: "
        f"{', '.join(f'{v:+.3f}' for v in mean.tolist())}). Mean over the images of each split.", "",
        "| split | pairs | predictor | PSNR (↑) | SSIM (↑) | AE (↓) | LPIPS (↓) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for split, n, name, p, s, a, lp in rows:
        lp_text = "n/a" if lp != lp else f"{lp:.3f}"
        lines.append(f"| {split} | {n} | {name} | {p:.2f} | {s:.3f} | {a:.2f} | {lp_text} |")
    lines += ["", f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
                  f"{torch.__version__}; {time.time() - start:.0f} s wall. LPIPS n/a: AlexNet weights not on the "
                  "machine." if lpips is False else ""]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
