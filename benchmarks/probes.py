"""Short probes on VCIP 2020 behind the choices of the `cpu` profile and the README's diagnosis (not a benchmark:
one seed, a few hundred steps, one thread). Each prints JSON lines as it goes.

    python benchmarks/probes.py translator --root DIR --paired 0  --steps 60    # unpaired CycleGAN translator
    python benchmarks/probes.py translator --root DIR --paired 10 --steps 120   # with the paired L1 term (cpu recipe)
    python benchmarks/probes.py translator --root DIR --steps 1800 --translator-width 16   # the cpu profile's stage 1
                                                      # (all supervised warm-up steps) with a translator twice as wide
    python benchmarks/probes.py translator --root DIR --steps 1800 --translator-depth 3 4 4   # deeper translator
    python benchmarks/probes.py translator --root DIR --steps 1800 --alpha 0   # its L_mix without the SSIM term
    python benchmarks/probes.py translator --root DIR --steps 7200 --translate-crop 256 --translate-batch 2
                                                      # the same on whole 256 px images, batch 2
    python benchmarks/probes.py direct --root DIR --lr 5e-4 --steps 900         # direct route; also --lr 2e-3,
                                                                                # --alpha 0 (pure L1), --norm none
    python benchmarks/probes.py supervised-translator --root DIR --colouriser RUN/pretrain --steps 600
    python benchmarks/probes.py colouriser --root DIR --alpha 0.84 --steps 800  # stage 2 alone; also --alpha 0.5
    python benchmarks/probes.py colour-bins --root DIR --steps 800 --seed 0   # stage 2 with a chroma-bin head
    python benchmarks/probes.py colour-bins --root DIR --steps 1600 --seed 0 --save BINS.pt
    python benchmarks/probes.py colour-bins-shipped --root DIR --load BINS.pt   # on the shipped translator's gray
    python benchmarks/probes.py finetune --root DIR --from RUN --steps 200 --no-feat-disc   # stage 3 again
    python benchmarks/probes.py finetune --root DIR --from RUN --pretrain-crop 128 --pretrain-batch 8 \
        --pretrain-steps 3200 --colour-match 1 --no-feat-disc   # stages 2-3 again with the colourfulness term

* ``translator``: stage 1 (``course_lib.train.translate``) at the cpu profile's sizes; after each quarter of the
  steps, its gray on the 18 validation pairs against the true gray (PSNR, correlation, std).
* ``direct``: ``train_direct`` at the cpu profile's sizes; validation PSNR / SSIM / AE after each sixth.
* ``supervised-translator``: G_N2G trained with plain supervised steps (NIR -> the pair's gray, L_mix, one
  generator pass, no CycleGAN), then composed with a pre-trained F_G (a ``pretrain`` stage folder) without
  fine-tuning; validation scores every 200 steps.
* ``colouriser``: stage 2 (``course_lib.train.pretrain``, F_G on gray versions of the training images) with the
  SSIM weight ``--alpha`` of L_mix; after each quarter of the steps, F_G on the validation pairs' true grays (the
  stage-2 oracle): PSNR / SSIM / AE and colourfulness against the ground truth's. Each quarter continues the
  finished stage with a fresh Adam (as ``translator`` does), so the curve is not one uninterrupted run.
* ``colour-bins``: stage 2 at the cpu profile's sizes (F_G on the training images' true grays, L_mix) with a 1 x 1
  classification head on F_G's finest features over chroma bins (``course_lib.colour_bins``: soft-encoded targets,
  class rebalancing, ``--cls-weight`` beside L_mix); after each quarter, on the validation pairs' true grays, the
  regression output, its chroma with the input's luma, and the bins' annealed mean (``--temperature`` and 1) with
  the input's luma: PSNR / SSIM / AE / colourfulness; ``--figure`` draws four validation photos.
* ``colour-bins-shipped``: a ``colour-bins --save`` file's F_G and head given the shipped translator's gray (no
  fine-tuning), beside the shipped progressive route.
* ``finetune``: stage 3 of the ``cpu`` profile again, starting from the translate/ and pretrain/ stages of a
  ``vcip_cpu.py`` run folder (``--from``, copied, not changed), with D_G^feat switched off (``--no-feat-disc``) or
  its weight lambda_2 changed (``--lambda-feat``), ``--steps`` steps in one piece; the progressive route's
  validation scores and colourfulness at the end.

Run folders go to ``--out`` (default ``runs/probes``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import warnings
from pathlib import Path

import torch

from course_lib.data import VCIP2020, to_gray
from course_lib.losses import LossWeights, multiscale_mix_loss
from course_lib.metrics import angular_error_per_image, colourfulness, evaluate, psnr_per_image, ssim_per_image
from course_lib.train import (DirectConfig, get_profile, load_checkpoint, load_stage, make_configs, pretrain,
                              train_direct, translate)
from course_lib.train.configs import build_model, default_config, mpfnet_spec
from course_lib.train.inference import ProgressiveColorizer
from course_lib.train.loop import PairBatches, training_data


def _val(root: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Validation/test_options.py
        val = VCIP2020(root, "val")
    nir = torch.stack([val[i]["nir"] for i in range(len(val))])
    rgb = torch.stack([val[i]["rgb"] for i in range(len(val))])
    return val, nir, rgb, to_gray(rgb)


def _gray_stats(pred: torch.Tensor, true: torch.Tensor) -> dict:
    g = pred.clamp(-1, 1)
    return {"gray_psnr": round(float(psnr_per_image(g.expand(-1, 3, -1, -1), true.expand(-1, 3, -1, -1)).mean()), 2),
            "gray_corr": round(float(torch.corrcoef(torch.stack([g.flatten(), true.flatten()]))[0, 1]), 3),
            "gray_std": round(float(g.std()), 3)}


def probe_translator(args, profile) -> None:
    _, nir, _, gray = _val(args.root)
    print(json.dumps({"step": 0, "what": "NIR as the gray", **_gray_stats(nir, gray)}), flush=True)
    config = make_configs(profile, weights=LossWeights(lambda_paired=args.paired))["translate"]
    if args.alpha is not None:  # the SSIM weight of the supervised warm-up's L_mix (stage 1 only)
        config = dataclasses.replace(config, alpha=args.alpha)
    t0 = time.process_time()
    for k in range(1, 5):
        steps = max(1, args.steps * k // 4)
        width = "" if args.translator_width is None else f"-w{args.translator_width}"
        width += "" if args.translator_depth is None else f"-d{'x'.join(map(str, args.translator_depth))}"
        width += "" if args.alpha is None else f"-a{args.alpha:g}"
        crop = "" if args.translate_crop is None else f"-crop{args.translate_crop}x{args.translate_batch}"
        r = translate(profile.replace(translate_steps=steps, translate_warmup=profile.warmup_for(steps),
                                      translator_width=args.translator_width,
                                      translator_depth=_depth(args.translator_depth),
                                      translate_image_size=args.translate_crop,
                                      translate_batch_size=args.translate_batch if args.translate_crop else None),
                      args.out / f"translator-p{args.paired:g}{width}{crop}", args.root, config)
        with torch.no_grad():
            out = r.models["g_n2g"](nir)[-1]
        print(json.dumps({"step": steps, "cpu_s": round(time.process_time() - t0), **_gray_stats(out, gray)}),
              flush=True)


def _depth(values: list[int] | None):
    """--translator-depth: None, one number, or per-scale depths (coarsest first)."""
    return None if values is None else values[0] if len(values) == 1 else tuple(values)


def probe_direct(args, profile) -> None:
    val, _, _, _ = _val(args.root)
    alpha = 0.84 if args.alpha is None else args.alpha
    config = DirectConfig(alpha=alpha, norm=args.norm)
    name = f"direct-lr{args.lr:g}-a{alpha:g}-{args.norm}"
    t0 = time.process_time()
    for k in range(1, 7):
        steps = max(1, args.steps * k // 6)
        r = train_direct(profile.replace(direct_steps=steps, checkpoint_every=steps), args.out / name, args.root,
                         config)
        s = evaluate(r.colorizer, val, lpips=False).summary
        print(json.dumps({"step": steps, "cpu_s": round(time.process_time() - t0), "psnr": round(s["psnr"][0], 2),
                          "ssim": round(s["ssim"][0], 3), "ae": round(s["ae"][0], 2)}), flush=True)


def probe_supervised_translator(args, profile) -> None:
    val, nir, _, gray = _val(args.root)
    torch.manual_seed(0)
    data, _ = training_data(args.root, profile)
    batches = PairBatches(data, profile.batch_size, seed=0, size=profile.image_size, augment=True, crop=profile.crop)
    g = build_model(mpfnet_spec(1, 1, profile, default_config("translate", profile), translator=True))
    opt = torch.optim.Adam(g.parameters(), lr=profile.lr, betas=(0.5, 0.999))
    f_g = load_stage(Path(args.colouriser).parent, "pretrain")["f_g"]
    t0 = time.process_time()
    for step in range(1, args.steps + 1):
        b = batches.get(step, torch.device("cpu"))
        loss = multiscale_mix_loss(g(b["nir"]), to_gray(b["rgb"]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 200 == 0 or step == args.steps:
            g.eval()
            colorizer = ProgressiveColorizer(g, f_g).eval()
            with torch.no_grad():
                stats = _gray_stats(g(nir)[-1], gray)
                cf = float(colourfulness(colorizer(nir)).mean())
            s = evaluate(colorizer, val, lpips=False).summary
            print(json.dumps({"step": step, "cpu_s": round(time.process_time() - t0), **stats,
                              "progressive_psnr": round(s["psnr"][0], 2), "ssim": round(s["ssim"][0], 3),
                              "ae": round(s["ae"][0], 2), "colourfulness": round(cf, 1)}), flush=True)
            g.train()


def probe_colouriser(args, profile) -> None:
    _, _, rgb, gray = _val(args.root)
    alpha = 0.84 if args.alpha is None else args.alpha
    config = dataclasses.replace(default_config("pretrain", profile), alpha=alpha)
    name = f"colouriser-lr{args.lr:g}-a{alpha:g}"
    print(json.dumps({"step": 0, "what": "ground truth", "colourfulness": round(float(colourfulness(rgb).mean()), 1)}),
          flush=True)
    t0 = time.process_time()
    for k in range(1, 5):
        steps = max(1, args.steps * k // 4)
        f_g = pretrain(profile.replace(pretrain_steps=steps), args.out / name, args.root, config).models["f_g"]
        with torch.no_grad():
            out = f_g(gray)[-1].clamp(-1, 1)
        print(json.dumps({"step": steps, "cpu_s": round(time.process_time() - t0),
                          "oracle_psnr": round(float(psnr_per_image(out, rgb).mean()), 2),
                          "oracle_ssim": round(float(ssim_per_image(out, rgb).mean()), 3),
                          "oracle_ae": round(float(angular_error_per_image(out, rgb).mean()), 2),
                          "colourfulness": round(float(colourfulness(out).mean()), 1)}), flush=True)


def probe_colour_bins(args, profile) -> None:
    """Stage 2 (F_G on true grays) with a classification head over chroma bins beside MPFNet's RGB outputs."""
    from torch import nn

    from course_lib.colour_bins import ChromaBins, bins_loss, rgb_to_chroma, ycbcr_to_rgb

    _, _, rgb, gray = _val(args.root)
    torch.manual_seed(args.seed)
    data, _ = training_data(args.root, profile)
    bins = ChromaBins.fit((data[i]["rgb"] for i in range(len(data))), step=args.bin_step)
    weights = bins.rebalance(args.rebalance)
    f_g = build_model(mpfnet_spec(1, 3, profile, default_config("pretrain", profile), translator=False))
    head = nn.Conv2d(profile.width, len(bins), kernel_size=1)   # on F_G's finest features (width channels)
    params = list(f_g.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=profile.lr, betas=(0.5, 0.999))
    batches = PairBatches(data, profile.batch_size, seed=args.seed, size=profile.image_size, augment=True,
                          crop=profile.crop)
    print(json.dumps({"step": 0, "bins": len(bins), "bin_step": args.bin_step, "rebalance": args.rebalance,
                      "cls_weight": args.cls_weight, "temperature": args.temperature, "seed": args.seed,
                      "truth_colourfulness": round(float(colourfulness(rgb).mean()), 1)}), flush=True)

    def scores(out: torch.Tensor) -> dict:
        return {"psnr": round(float(psnr_per_image(out, rgb).mean()), 2),
                "ssim": round(float(ssim_per_image(out, rgb).mean()), 3),
                "ae": round(float(angular_error_per_image(out, rgb).mean()), 2),
                "colourfulness": round(float(colourfulness(out).mean()), 1)}

    t0 = time.process_time()
    for step in range(1, args.steps + 1):
        b = batches.get(step, torch.device("cpu"))
        target_gray = to_gray(b["rgb"])
        predictions, info = f_g(target_gray, return_features=True)
        loss = multiscale_mix_loss(predictions, b["rgb"])
        if args.cls_weight:
            logits = head(info["features"][-1])
            target = bins.soft_encode(rgb_to_chroma(b["rgb"]))
            loss = loss + args.cls_weight * bins_loss(logits, target, weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, args.steps // 4) == 0 or step == args.steps:
            f_g.eval()
            with torch.no_grad():
                predictions, info = f_g(gray, return_features=True)
                regression = predictions[-1].clamp(-1, 1)
                row = {"step": step, "cpu_s": round(time.process_time() - t0),
                       "regression": scores(regression),
                       "regression_chroma_input_luma": scores(ycbcr_to_rgb(gray, rgb_to_chroma(regression)))}
                if args.cls_weight:
                    logits = head(info["features"][-1])
                    for t in sorted({args.temperature, 1.0}):
                        row[f"bins_T{t:g}"] = scores(ycbcr_to_rgb(gray, bins.decode(logits, t)))
            print(json.dumps(row), flush=True)
            f_g.train()
    if args.save:   # F_G, the head and the bins, to apply them elsewhere (e.g. to a translator's gray)
        args.save.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"f_g_spec": mpfnet_spec(1, 3, profile, default_config("pretrain", profile)),
                    "f_g": f_g.state_dict(), "head": head.state_dict(), "bins": bins.state()}, args.save)
    if args.figure:
        _bins_figure(args.figure, gray, rgb, regression,
                     ycbcr_to_rgb(gray, bins.decode(logits, args.temperature)) if args.cls_weight else None)


def probe_colour_bins_shipped(args, profile) -> None:
    """A saved ``colour-bins`` F_G (``--load``) given the shipped translator's gray instead of the true gray, beside
    the shipped progressive route, without any fine-tuning: does the bins' colour survive the translated gray?"""
    from course_lib.colour_bins import ChromaBins, rgb_to_chroma, ycbcr_to_rgb
    from course_lib.pretrained import load_pretrained

    _, nir, rgb, _ = _val(args.root)
    saved = torch.load(args.load, weights_only=True)
    f_g = build_model(saved["f_g_spec"])
    f_g.load_state_dict(saved["f_g"])
    head = torch.nn.Conv2d(saved["head"]["weight"].shape[1], saved["head"]["weight"].shape[0], kernel_size=1)
    head.load_state_dict(saved["head"])
    bins = ChromaBins(saved["bins"]["centres"], saved["bins"]["prior"], saved["bins"]["step"])
    shipped = load_pretrained("vcip2020", "progressive")
    f_g.eval(), head.eval()
    with torch.no_grad():
        route, gray = shipped(nir, return_gray=True)
        predictions, info = f_g(gray, return_features=True)
        logits = head(info["features"][-1])
        outputs = {"shipped route": route.clamp(-1, 1),
                   "bins F_G, its regression": predictions[-1].clamp(-1, 1),
                   "shipped route's chroma, translated luma": ycbcr_to_rgb(gray, rgb_to_chroma(route.clamp(-1, 1)))}
        for t in sorted({args.temperature, 1.0}):
            outputs[f"bins F_G, T = {t:g}"] = ycbcr_to_rgb(gray, bins.decode(logits, t))
    for name, out in outputs.items():
        print(json.dumps({"output": name, "psnr": round(float(psnr_per_image(out, rgb).mean()), 2),
                          "ssim": round(float(ssim_per_image(out, rgb).mean()), 3),
                          "ae": round(float(angular_error_per_image(out, rgb).mean()), 2),
                          "colourfulness": round(float(colourfulness(out).mean()), 1)}), flush=True)
    if args.figure:
        _bins_figure(args.figure, gray, rgb, route, outputs[f"bins F_G, T = {args.temperature:g}"],
                     titles=("shipped translator's gray", "shipped route (regression F_G)",
                             f"bins F_G on that gray, T = {args.temperature:g}"))


def _bins_figure(path: Path, gray: torch.Tensor, rgb: torch.Tensor, regression: torch.Tensor,
                 bins_out: torch.Tensor | None,
                 titles: tuple[str, str, str] = ("true gray (F_G's input)", "F_G, regression (L_mix)",
                                                 "F_G + chroma bins, annealed mean")) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    show = [0, 5, 9, 13]
    columns = [(titles[0], gray.expand(-1, 3, -1, -1)), (titles[1], regression)]
    if bins_out is not None:
        columns.append((titles[2], bins_out))
    columns.append(("ground truth", rgb))
    fig, axes = plt.subplots(len(show), len(columns), figsize=(2.6 * len(columns), 2.6 * len(show)))
    for r, i in enumerate(show):
        for c, (title, images) in enumerate(columns):
            ax = axes[r, c]
            ax.imshow(((images[i].permute(1, 2, 0).clamp(-1, 1) + 1) / 2).numpy())
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=64)
    plt.close(fig)


def probe_finetune(args, profile) -> None:
    import shutil

    from course_lib.train import finetune

    val, nir, _, _ = _val(args.root)
    config = default_config("finetune", profile)
    config = dataclasses.replace(config, use_feat_disc=not args.no_feat_disc, chroma=args.chroma,
                                 colour_match=args.colour_match,
                                 feat_real=args.feat_real,
                                 weights=dataclasses.replace(config.weights, lambda_feat=args.lambda_feat,
                                                             **({} if args.lambda_paired is None
                                                                else {"lambda_paired": args.lambda_paired}),
                                                             lambda_tran=args.lambda_tran))
    source = Path(getattr(args, "from"))
    name = (f"finetune-{source.name}-" + ("nofeat" if args.no_feat_disc else f"feat{args.lambda_feat:g}")
            + (f"-lr{args.finetune_lr:g}" if args.finetune_lr is not None else "")
            + (f"-chroma{args.chroma:g}" if args.chroma else "")
            + (f"-colour{args.colour_match:g}" if args.colour_match else "")
            + (f"-paired{args.lambda_paired:g}" if args.lambda_paired is not None else "")
            + (f"-tran{args.lambda_tran:g}" if args.lambda_tran != 1.0 else "")
            + (f"-real{args.feat_real}" if args.feat_real != "gray" else "")
            + (f"-steps{args.steps}" if args.steps != 200 else "")
            + (f"-crop{args.crop_size}" if args.crop_size is not None else "")
            + (f"-batch{args.batch_size}" if args.batch_size is not None else ""))
    if args.pretrain_crop is not None:
        name += f"-pretrain{args.pretrain_crop}x{args.pretrain_batch}x{args.pretrain_steps}"
    out = args.out / name
    for stage in ("translate", "pretrain") if args.pretrain_crop is None else ("translate",):
        if not (out / stage).exists():
            shutil.copytree(source / stage, out / stage)
    if args.pretrain_crop is not None:   # stage 2 trained again here, on its own crops (Profile.pretrain_image_size)
        profile = profile.replace(pretrain_image_size=args.pretrain_crop, pretrain_batch_size=args.pretrain_batch)
        seed = load_checkpoint(source / "translate" / "checkpoint.pt")["config"]["seed"]
        t_pre = time.process_time()
        pretrain(profile.replace(pretrain_steps=args.pretrain_steps), out, args.root,
                 dataclasses.replace(default_config("pretrain", profile), seed=seed, colour_match=args.colour_match))
        print(json.dumps({"pretrain_cpu_s": round(time.process_time() - t_pre), "seed": seed}), flush=True)
    before = ProgressiveColorizer(load_stage(out, "translate")["g_n2g"], load_stage(out, "pretrain")["f_g"]).eval()
    with torch.no_grad():
        cf_before = float(colourfulness(before(nir)).mean())
    s_before = evaluate(before, val, lpips=False, method="before fine-tuning").summary
    t0 = time.process_time()
    r = finetune(profile.replace(finetune_steps=args.steps), out, args.root, config)   # one piece: Adam unbroken
    with torch.no_grad():
        cf = float(colourfulness(r.colorizer(nir)).mean())
    s = evaluate(r.colorizer, val, lpips=False).summary
    print(json.dumps({"from": source.name, "step": r.step, "feat_disc": not args.no_feat_disc,
                      "lambda_feat": args.lambda_feat, "lambda_paired": config.weights.lambda_paired,
                      "lambda_tran": args.lambda_tran, "chroma": args.chroma, "colour_match": args.colour_match,
                      "feat_real": args.feat_real,
                      "finetune_lr": profile.finetune_lr or profile.lr,
                      "crop": profile.stage_profile("finetune").image_size,
                      "batch": profile.stage_profile("finetune").batch_size,
                      **({"pretrain": {"crop": args.pretrain_crop, "batch": args.pretrain_batch,
                                       "steps": args.pretrain_steps}} if args.pretrain_crop is not None else {}),
                      "cpu_s": round(time.process_time() - t0), "psnr": round(s["psnr"][0], 2),
                      "ssim": round(s["ssim"][0], 3), "ae": round(s["ae"][0], 2), "colourfulness": round(cf, 1),
                      "before_finetune": {"psnr": round(s_before["psnr"][0], 2), "ssim": round(s_before["ssim"][0], 3),
                                          "ae": round(s_before["ae"][0], 2), "colourfulness": round(cf_before, 1)}}),
          flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("probe", choices=["translator", "direct", "supervised-translator", "colouriser", "finetune",
                                          "colour-bins", "colour-bins-shipped"])
    parser.add_argument("--root", required=True, type=Path, help="VCIP 2020 folder")
    parser.add_argument("--out", default=Path("runs/probes"), type=Path)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--paired", type=float, default=10.0, help="translator: lambda_paired")
    parser.add_argument("--translator-width", type=int, default=None,
                        help="translator: G_N2G's width (Profile.translator_width; default: the cpu profile's 8)")
    parser.add_argument("--translator-depth", type=int, nargs="+", default=None,
                        help="translator: G_N2G's FEB depth, one number or one per scale, coarsest first "
                             "(Profile.translator_depth; default: the cpu profile's 3)")
    parser.add_argument("--translate-crop", type=int, default=None,
                        help="translator: stage 1's crop in px at the stored scale (Profile.translate_image_size; "
                             "default: the cpu profile's 128; 256 = whole VCIP images)")
    parser.add_argument("--translate-batch", type=int, default=2,
                        help="translator --translate-crop: stage 1's batch (Profile.translate_batch_size)")
    parser.add_argument("--alpha", type=float, default=None,
                        help="direct, colouriser (default 0.84), translator (default: the profile's config, 0.84): "
                             "SSIM weight of L_mix (the translator's supervised warm-up steps)")
    parser.add_argument("--norm", default="instance", choices=["instance", "batch", "none"])
    parser.add_argument("--seed", type=int, default=0, help="colour-bins: weights and data order")
    parser.add_argument("--cls-weight", type=float, default=1.0,
                        help="colour-bins: weight of the chroma-bin cross-entropy beside L_mix (0: L_mix alone)")
    parser.add_argument("--bin-step", type=float, default=0.1, help="colour-bins: grid step in Cb, Cr ([-1, 1])")
    parser.add_argument("--rebalance", type=float, default=0.5,
                        help="colour-bins: lambda of the class rebalancing (1: no rebalancing)")
    parser.add_argument("--temperature", type=float, default=0.38, help="colour-bins: annealed-mean temperature")
    parser.add_argument("--figure", type=Path, default=None, help="colour-bins: write validation pictures here")
    parser.add_argument("--load", type=Path, default=None,
                        help="colour-bins-shipped: a file written by colour-bins --save")
    parser.add_argument("--save", type=Path, default=None,
                        help="colour-bins: save F_G, the head and the bins (torch.save) to this file")
    parser.add_argument("--colouriser", default=None, help="supervised-translator: a pretrain stage folder")
    parser.add_argument("--from", default=None, help="finetune: a vcip_cpu.py run folder (translate/, pretrain/)")
    parser.add_argument("--no-feat-disc", action="store_true", help="finetune: without D_G^feat")
    parser.add_argument("--finetune-lr", type=float, default=None,
                        help="finetune: stage 3's learning rate (default: the cpu profile's finetune_lr, 1e-4; "
                             "--lr does not change it)")
    parser.add_argument("--lambda-feat", type=float, default=1.0, help="finetune: lambda_2 of Eq. (5)")
    parser.add_argument("--lambda-paired", type=float, default=None,
                        help="finetune: weight of the paired L1 term inside L_tran (default: the profile's, 10 in cpu)")
    parser.add_argument("--lambda-tran", type=float, default=1.0, help="finetune: lambda_1 of Eq. (5)")
    parser.add_argument("--chroma", type=float, default=0.0,
                        help="finetune: weight of the chroma L1 term added to L_pf (course_lib.losses.chroma_loss; "
                             "0 = the paper's Eq. (3))")
    parser.add_argument("--colour-match", type=float, default=0.0,
                        help="finetune: weight of the colourfulness-matching term (course_lib.losses."
                             "colourfulness_loss) in L_pf, and in L_pp when stage 2 is trained again "
                             "(--pretrain-crop); 0 = the paper's losses")
    parser.add_argument("--crop-size", type=int, default=None,
                        help="finetune: stage 3's crop in px at the stored scale (Profile.finetune_image_size; "
                             "default: the cpu profile's 128; 256 = whole VCIP images)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="finetune: stage 3's batch (Profile.finetune_batch_size; default: the cpu profile's 8)")
    parser.add_argument("--pretrain-crop", type=int, default=None,
                        help="finetune: train stage 2 again (from scratch, the --from run's seed) on crops of this "
                             "size instead of copying the run's pretrain/")
    parser.add_argument("--pretrain-batch", type=int, default=2, help="finetune --pretrain-crop: stage 2's batch")
    parser.add_argument("--pretrain-steps", type=int, default=3200,
                        help="finetune --pretrain-crop: stage 2's steps (default 3200, the cpu profile x 4)")
    parser.add_argument("--feat-real", default="gray", choices=["gray", "rgb"],
                        help="finetune: what D_G^feat sees as real: F_G on true grays (gray, Eq. (4)) or real RGB "
                             "photos (rgb: an adversarial term on the colours, not in the paper)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    profile = get_profile("cpu", verbose=False).replace(lr=args.lr, sample_every=10**6, checkpoint_every=10**6)
    if args.finetune_lr is not None:
        profile = profile.replace(finetune_lr=args.finetune_lr)
    if args.crop_size is not None or args.batch_size is not None:
        profile = profile.replace(finetune_image_size=args.crop_size, finetune_batch_size=args.batch_size)
    if args.probe == "translator":
        probe_translator(args, profile)
    elif args.probe == "direct":
        probe_direct(args, profile)
    elif args.probe == "colouriser":
        probe_colouriser(args, profile)
    elif args.probe == "colour-bins":
        probe_colour_bins(args, profile)
    elif args.probe == "colour-bins-shipped":
        if args.load is None:
            parser.error("colour-bins-shipped needs --load FILE (written by colour-bins --save)")
        probe_colour_bins_shipped(args, profile)
    elif args.probe == "finetune":
        if getattr(args, "from") is None:
            parser.error("finetune needs --from RUN (a vcip_cpu.py run folder)")
        probe_finetune(args, profile)
    else:
        if args.colouriser is None:
            parser.error("supervised-translator needs --colouriser RUN/pretrain")
        probe_supervised_translator(args, profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
