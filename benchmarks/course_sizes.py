"""Sizing the `course` profile for a free Colab T4: counted FLOPs, measured activation memory, and a quality check
of the new network sizes against the old ones on CPU at reduced resolution.

    python benchmarks/course_sizes.py estimate                       # FLOPs, memory, T4 time of both designs
    python benchmarks/course_sizes.py drive                          # checkpoint files and Drive usage
    python benchmarks/course_sizes.py quality --root DIR --seeds 0 1 # old vs new sizes, direct route, 64 px

``estimate`` counts the floating-point operations of every network the stages run (forward + backward, with
``torch.utils.flop_counter.FlopCounterMode``, one 256 px image) and composes a training step of each stage from
them (which network runs how many times, in the comments of ``STEP_PASSES``). It measures the activation memory
a step keeps for the backward pass (the bytes of every tensor autograd saves, with
``torch.autograd.graph.saved_tensors_hooks``, float32 on the CPU) and adds weights, gradients and Adam states.
A T4's time is estimated as FLOPs / (25 % of its 65 TFLOP/s float16 peak); its memory under autocast from the
bytes saved under CPU autocast (bfloat16: 2 bytes like CUDA's float16, with the same lists of ops run in 16 bits),
beside the float32 figure. These are estimates from counts
and CPU measurements, not GPU measurements: ``benchmarks/gpu_check.sh`` measures them on a GPU.

``quality`` trains the direct route (``train_direct``, the same MPFNet as F_G, L_mix, the paper's augmentation)
on the VCIP 2020 training pairs with everything scaled down four times in resolution -- 64 px images (whole
images resized, as the course profile sees 256 px ones), depths reduced by 2 so every FEB keeps its innermost
size relative to the input -- once with the old course sizes (width 32, depth 5 everywhere, i.e. 3 at 64 px) and
once with the new ones (the new width, per-scale depths (3, 4, 5), i.e. (1, 2, 3) at 64 px), and scores both on
the 18 validation pairs at 64 px with the mean training colour beside them.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from course_lib.models import FeatureDiscriminator, MPFNet, PatchDiscriminator
from course_lib.train.profiles import PROFILES, Profile

#: T4: 65 TFLOP/s float16 tensor-core peak; we assume a training step reaches a quarter of it.
T4_PEAK_TFLOPS, T4_EFFICIENCY, T4_MEMORY_GB = 65.0, 0.25, 15.0

#: The sizes the `course` profile had before this benchmark (width 32, depth 5 at every scale, translator as wide).
OLD_COURSE = {"width": 32, "depth": 5, "translator_width": None}

#: Generator passes (forward + backward) of one training step per image, and discriminator passes:
#: translate: G_N2G(n), G_G2N(G_N2G(n)) [cycle], G_G2N(g), G_N2G(G_G2N(g)) [cycle], G_N2G(g), G_G2N(n) [identity]
#:            = 3 passes of each translator; D_N and D_G each see real + pooled fake (discriminator step) and the
#:            fake again (generator step): 3 passes each.
#: pretrain / direct: one F_G pass.
#: finetune: the translate step's 6 translator passes and 6 PatchGAN passes, one F_G pass on G_N2G(n) plus one
#:           on the true gray (D_G^feat's real side, no gradient needed but counted as a full pass: an upper
#:           bound), D_G^feat 3 passes.
STEP_PASSES = {
    "translate": {"translator": 6, "patch": 6},
    "pretrain": {"colorizer": 1},
    "finetune": {"translator": 6, "patch": 6, "colorizer": 2, "feat": 3},
    "direct": {"colorizer": 1},
}


def _sizes(profile: Profile) -> dict:
    return {"width": profile.width, "depth": profile.depth, "translator_width": profile.translator_width}


def networks(width: int, depth, translator_width: int | None) -> dict[str, tuple[torch.nn.Module, int]]:
    """Name -> (network, input channels) of one course run at the given sizes."""
    tw = translator_width or width
    return {
        "translator": (MPFNet(1, 1, width=tw, depth=depth), 1),
        "colorizer": (MPFNet(1, 3, width=width, depth=depth), 1),
        "patch": (PatchDiscriminator(1, width=2 * tw, n_layers=3), 1),
        "feat": (FeatureDiscriminator(9, width=2 * width, n_layers=2), 9),
    }


def measure(net: torch.nn.Module, channels: int, size: int) -> dict:
    """Forward + backward FLOPs and saved-activation bytes of one image, and the parameter count."""
    x = torch.randn(1, channels, size, size)
    saved = 0

    def pack(t):
        nonlocal saved
        saved += t.numel() * t.element_size()
        return t

    with FlopCounterMode(display=False) as counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = net(x)
        loss = sum(o.float().mean() for o in out) if isinstance(out, (list, tuple)) else out.float().mean()
        loss.backward()
    params = sum(p.numel() for p in net.parameters())
    fp32 = saved
    saved = 0
    net.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):   # 16-bit autocast: what it saves (same op lists as CUDA's)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = net(x)
    return {"gflop": counter.get_total_flops() / 1e9, "act_mb": fp32 / 2**20, "act16_mb": saved / 2**20,
            "params_m": params / 1e6}


def estimate(profile: Profile, sizes: dict, label: str) -> dict:
    size = profile.image_size
    nets = networks(**sizes)
    per = {name: measure(net, ch, size) for name, (net, ch) in nets.items()}
    print(f"\n== {label}: width {sizes['width']}, depth {sizes['depth']}, translator width "
          f"{sizes['translator_width'] or sizes['width']}; {size} px, batch {profile.batch_size}")
    for name, m in per.items():
        print(f"  {name:10s} {m['params_m']:7.2f} M params  {m['gflop']:8.1f} GFLOP fwd+bwd / image  "
              f"saved activations / image {m['act_mb']:7.1f} MB float32, {m['act16_mb']:7.1f} MB autocast")
    steps = {"translate": profile.translate_steps, "pretrain": profile.pretrain_steps,
             "finetune": profile.finetune_steps, "direct": profile.direct_steps}
    rate = T4_PEAK_TFLOPS * T4_EFFICIENCY
    total_s, rows = 0.0, {}
    for stage, passes in STEP_PASSES.items():
        flop = profile.batch_size * sum(per[n]["gflop"] * k for n, k in passes.items()) / 1e3  # TFLOP per step
        act = profile.batch_size * sum(per[n]["act_mb"] * k for n, k in passes.items()) / 1024  # GB
        act16 = profile.batch_size * sum(per[n]["act16_mb"] * k for n, k in passes.items()) / 1024
        trained = {n for n in passes}
        # weights + gradients + two Adam moments = 16 bytes per trained parameter (float32)
        state = sum(per[n]["params_m"] * (2 if n == "translator" else 1) for n in trained) * 16 / 1024
        seconds = steps[stage] * flop / rate
        total_s += seconds
        rows[stage] = {"tflop_per_step": flop, "steps": steps[stage], "t4_min": seconds / 60,
                       "memory_gb": act + state, "memory_amp_gb": act16 + state}
        terms = " + ".join(f"{k} x {per[n]['gflop']:.1f}" for n, k in passes.items())
        print(f"  {stage:9s} step: batch {profile.batch_size} x ({terms}) GFLOP = {flop:6.2f} TFLOP; "
              f"x {steps[stage]} steps / {rate:.2f} TFLOP/s = {seconds / 60:5.1f} min on a T4 (est.); "
              f"memory (activations + {state:4.2f} GB weights/grads/Adam) {act + state:5.2f} GB float32, "
              f"{act16 + state:5.2f} GB under 16-bit autocast")
    print(f"  whole run (4 stages): {total_s / 60:.1f} min on a T4 (estimated at {T4_EFFICIENCY:.0%} of "
          f"{T4_PEAK_TFLOPS:g} TFLOP/s); largest step memory {max(r['memory_gb'] for r in rows.values()):.2f} GB "
          f"float32, {max(r['memory_amp_gb'] for r in rows.values()):.2f} GB under autocast (the profile's "
          f"setting: {'AMP' if profile.amp else 'float32'}; a T4 has {T4_MEMORY_GB:g} GB usable)")
    checkpoint_mb = {
        "translate": (2 * per["translator"]["params_m"] + 2 * per["patch"]["params_m"]) * 4,
        "pretrain": per["colorizer"]["params_m"] * 4,
        "finetune": (2 * per["translator"]["params_m"] + per["colorizer"]["params_m"]) * 4,
        "direct": per["colorizer"]["params_m"] * 4,
    }
    print("  finished-stage checkpoints (float32 weights kept for later stages): "
          + ", ".join(f"{k} {v:.0f} MB" for k, v in checkpoint_mb.items())
          + f"; one run {sum(checkpoint_mb.values()):.0f} MB")
    return {"label": label, "sizes": {k: v for k, v in sizes.items()}, "per_network": per, "stages": rows,
            "t4_min": total_s / 60, "checkpoint_mb": checkpoint_mb}


def cmd_estimate(args) -> None:
    torch.set_num_threads(max(1, args.threads))
    course = PROFILES["course"]
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); FLOPs counted, activations measured on CPU")
    out = [estimate(course.replace(**OLD_COURSE), OLD_COURSE, "old course sizes"),
           estimate(course, _sizes(course), "course profile now")]
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))


def cmd_drive(args) -> None:
    """Train every stage one step at the course widths and depths (on 64 px images: file sizes do not depend on
    the image size once a stage is finished) and add up what a course on Google Drive keeps."""
    import tempfile

    from course_lib.train import TrainingInterrupted, finetune, pretrain, train_direct, translate

    torch.set_num_threads(max(1, args.threads))
    course = PROFILES["course"]
    tiny = course.replace(image_size=64, batch_size=1, num_train=2, num_test=1, translate_steps=1,
                          pretrain_steps=1, finetune_steps=1, direct_steps=1, sample_every=10**6,
                          checkpoint_every=10**6)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sizes = {}
        for name, stage in (("translate", translate), ("pretrain", pretrain), ("finetune", finetune),
                            ("direct", train_direct)):
            stage(tiny, tmp / "run", device="cpu")
            sizes[name] = (tmp / "run" / name / "checkpoint.pt").stat().st_size / 1e6

        def stop(step, losses):
            raise KeyboardInterrupt

        running = {}
        for name, stage in (("translate", translate), ("pretrain", pretrain)):
            try:
                stage(tiny.replace(**{f"{name}_steps": 2}), tmp / "running", device="cpu", callback=stop)
            except TrainingInterrupted:
                pass
            running[name] = (tmp / "running" / name / "checkpoint.pt").stat().st_size / 1e6
    run = sum(sizes.values())
    progressive = sizes["translate"] + sizes["pretrain"] + sizes["finetune"]
    variants = 3 * sizes["translate"]          # notebook 07: three translators (paper, no cycle, no identity)
    ablations = 5 * progressive                # five ablation settings, each a progressive run
    print(f"course profile: width {course.width}, depth {course.depth}, translator width {course.translator_width}")
    print("finished-stage checkpoints (MB, measured files): "
          + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()) + f"; one course run (4 stages) {run:.1f} MB")
    print("while a stage runs (weights + Adam + pools, MB): "
          + ", ".join(f"{k} {v:.1f}" for k, v in running.items()))
    print(f"Drive: course run {run:.0f} + notebook 07's three translators {variants:.0f} + five ablation settings "
          f"(5 x {progressive:.0f}) {ablations:.0f} = {run + variants + ablations:.0f} MB "
          f"(at most one stage in progress at a time adds up to {max(running[k] - sizes[k] for k in running):.0f} MB)")


def _scaled_depth(depth, minus: int):
    if isinstance(depth, (tuple, list)):
        return tuple(max(1, d - minus) for d in depth)
    return max(1, depth - minus)


def cmd_quality(args) -> None:
    from course_lib.data import VCIP2020
    from course_lib.data.transforms import Resize
    from course_lib.metrics import colourfulness, evaluate, reference_predictors
    from course_lib.train import DirectConfig, train_direct

    torch.set_num_threads(1)
    course = PROFILES["course"]
    designs = {
        "old": {"width": OLD_COURSE["width"], "depth": _scaled_depth(OLD_COURSE["depth"], 2)},
        "new": {"width": course.width, "depth": _scaled_depth(course.depth, 2)},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val = VCIP2020(args.root, "val", transform=Resize(args.size))
        train = VCIP2020(args.root, "train", transform=Resize(args.size))
    refs = reference_predictors(train)
    mean_colour = evaluate(refs["mean training colour"], val, lpips=False).summary["psnr"][0]
    print(json.dumps({"reference": "mean colour", "psnr": round(mean_colour, 2)}), flush=True)
    for seed in args.seeds:
        for name in args.designs:
            d = designs[name]
            profile = PROFILES["cpu"].replace(
                name="course-scaled", image_size=args.size, crop="resize", width=d["width"], depth=d["depth"],
                batch_size=args.batch, lr=args.lr, direct_steps=args.steps, sample_every=10**6,
                checkpoint_every=args.steps)
            t0, c0 = time.time(), time.process_time()
            r = train_direct(profile, Path(args.out) / f"{name}-s{seed}", train, DirectConfig(seed=seed))
            s = evaluate(r.colorizer, val, lpips=False).summary
            with torch.no_grad():
                cf = float(colourfulness(r.colorizer(torch.stack([v["nir"] for v in val]))).mean())
            params = sum(p.numel() for p in r.models["net"].parameters())
            print(json.dumps({"design": name, "seed": seed, "width": d["width"], "depth": d["depth"],
                              "params_m": round(params / 1e6, 2), "steps": args.steps,
                              "psnr": round(s["psnr"][0], 2), "ssim": round(s["ssim"][0], 3),
                              "ae": round(s["ae"][0], 2), "colourfulness": round(cf, 1),
                              "wall_min": round((time.time() - t0) / 60, 1),
                              "cpu_min": round((time.process_time() - c0) / 60, 1)}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("estimate", help="FLOPs, activation memory and T4 time of the old and new course sizes")
    e.add_argument("--threads", type=int, default=torch.get_num_threads())
    e.add_argument("--json", default=None, help="also write the figures to this JSON file")
    d = sub.add_parser("drive", help="measured checkpoint sizes at the course sizes, and a course's Drive usage")
    d.add_argument("--threads", type=int, default=torch.get_num_threads())
    q = sub.add_parser("quality", help="old vs new sizes on VCIP 2020 at reduced resolution (direct route, CPU)")
    q.add_argument("--root", required=True, help="VCIP 2020 folder (NIR/, RGB-Registered/, Validation/)")
    q.add_argument("--out", default="runs/course_sizes")
    q.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    q.add_argument("--designs", nargs="+", default=["old", "new"], choices=["old", "new"])
    q.add_argument("--size", type=int, default=64)
    q.add_argument("--batch", type=int, default=8)
    q.add_argument("--lr", type=float, default=5e-4)
    q.add_argument("--steps", type=int, default=400)
    args = parser.parse_args(argv)
    {"estimate": cmd_estimate, "drive": cmd_drive, "quality": cmd_quality}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
