"""Stage 3, ``finetune``: NIR -> G_N2G -> F_G -> RGB, the whole network trained together (Eqs. (3)-(5)).

    L_pf = sum_{s=1}^{3} L_mix(Y_N^s, F_G^s(X_N2G))                                     (3)
    L_GAN^feat = E[D_G^feat(F_G(G_N2G(x_n)))^2] + E[(D_G^feat(F_G(x_g)) - 1)^2]         (4, LSGAN form)
    L = L_pf + lambda_1 L_tran + lambda_2 L_GAN^feat                                    (5)

It starts from the two pretrained stages: G_N2G, G_G2N, D_N^img, D_G^img from ``out_dir/translate`` and F_G from
``out_dir/pretrain`` (their checkpoints must exist; the networks are rebuilt from the specs stored there).
Choices the paper leaves open (DESIGN.md sections 3-4):

* X_N2G is G_N2G's **finest** output; F_G takes it at full resolution and its three outputs are supervised by
  the RGB ground truth at three scales (Eq. (3)).
* L_tran is Eq. (1) exactly as in stage 1 (GAN + cycle + identity terms, finest outputs, image pools), so the
  translator keeps its CycleGAN constraints while it learns what helps the colorizer.
* Eq. (4) is printed without squares (``E[D(fake)] + E[D(real) - 1]``), which is unbounded below; we use the
  least-squares form above, as for every GAN term. D_G^feat tells F_G(G_N2G(x_n)) (fake) from F_G(x_g) (real,
  x_g the grays of the unpaired stream, computed without gradient: the real side only trains D_G^feat).
  What D_G^feat sees is ``config.feat_source``: F_G's multi-scale outputs resized to full size and concatenated
  (default) or F_G's finest feature maps, the FEB features its finest prediction is computed from. D_G^feat gets
  no image pool (CycleGAN pools images; pooling feature maps would make checkpoints large) and can be switched
  off (``use_feat_disc=False``, an ablation). Not in the paper: ``feat_real="rgb"`` shows D_G^feat unpaired real
  RGB photos (area-averaged to F_G's output scales, then treated as F_G's outputs are) as "real" instead of
  F_G(x_g), which turns it into an adversarial term on the colours themselves.
* Fresh Adam optimizers (the pretrained stages' optimizer states are not carried over): one for the three
  generators (G_N2G, G_G2N, F_G), one for the three discriminators, at ``Profile.finetune_lr`` (default: the
  profile's ``lr``).
* With ``colour_bins`` > 0 (not in the paper) F_G is stage 2's :class:`~course_lib.models.BinnedMPFNet` (stage 2
  must have trained it so, with the same ``bins_step`` and ``bins_stride``), its luma the translated gray it is
  given, and L_pf is L_mix on its regression outputs plus ``colour_bins`` x the bins' cross-entropy against the
  pair's photo (``course_lib.train.bins``); the bins themselves stay those fitted in stage 2. D_G^feat's
  ``"outputs"`` are F_G's outputs as returned, the finest decoded from the bins.
* Steps: the paper does not say; the profiles use half the pre-training steps, ``cpu`` a twelfth
  (``Profile.finetune_share``, see ``profiles.py``).
"""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..data import to_gray
from ..losses import discriminator_loss, lsgan_loss, resize_target
from .bins import bin_weights, rgb_objective
from .checkpoint import CheckpointError, config_differences, load_checkpoint
from .configs import FinetuneConfig, check_config, default_config, feature_disc_spec
from .gan import frozen_norm_statistics, image_discriminator_loss, translator_objective
from .loop import StageResult, StageRun, autocast, make_scaler, resolve_device
from .pool import ImagePool, set_requires_grad
from .profiles import Profile, get_profile

__all__ = ["finetune", "feature_disc_input"]

#: Config fields that must agree between the finetune run and the stages it starts from.
ARCHITECTURE_KEYS = ("attention", "reduction", "norm", "scales", "sccm")


def feature_disc_input(predictions: list[torch.Tensor], info: dict | None, source: str) -> torch.Tensor:
    """What D_G^feat looks at (``FinetuneConfig.feat_source``).

    ``"outputs"``: F_G's predictions (coarsest first) upsampled bilinearly to the finest size and concatenated
    on channels (3 x scales channels). ``"features"``: F_G's finest-scale feature maps (``info["features"][-1]``):
    the FEB output that F_G's finest SCCM predicts from (that SCCM refines nothing), so what D_G^feat judges there
    is what the finest output is made of, and its gradient reaches F_G through the features of every scale.
    """
    if source == "features":
        return info["features"][-1]
    size = predictions[-1].shape[-2:]
    return torch.cat([p if p.shape[-2:] == size else F.interpolate(p, size=size, mode="bilinear",
                                                                   align_corners=False)
                      for p in predictions], dim=1)


#: Profile fields an upstream checkpoint must share with the fine-tuning run's profile for that stage
#: (``Profile.stage_profile``: stage 2 may train on other crops than stage 1).
SIZE_KEYS = ("width", "depth", "image_size", "translator_width", "translator_depth")


def _load_pretrained(out_dir: Path, stage: str, profile: Profile, config: FinetuneConfig) -> dict:
    path = out_dir / stage / "checkpoint.pt"
    if not path.exists():
        raise FileNotFoundError(
            f"finetune starts from the {stage} stage, but its checkpoint {path} does not exist: train it first "
            f"(course_lib.train.{stage}(profile, {str(out_dir)!r}) or "
            f"python -m course_lib train --stage {stage} --out {out_dir})")
    ckpt = load_checkpoint(path)
    saved = ckpt["config"]
    expected = {k: saved.get(k) for k in ARCHITECTURE_KEYS}
    current = {k: getattr(config, k) for k in ARCHITECTURE_KEYS}
    diffs = config_differences(
        {**expected, **{f"profile.{k}": saved["profile"].get(k) for k in SIZE_KEYS}},
        {**current, **{f"profile.{k}": getattr(profile.stage_profile(stage), k) for k in SIZE_KEYS}})
    if diffs:
        raise CheckpointError(f"checkpoint {path} was trained with another architecture than this finetune run ("
                              + "; ".join(diffs) + "): retrain it or use the same settings")
    if not ckpt.get("finished", False):
        print(f"[finetune] note: {path} is at step {ckpt['step']} of {ckpt['total_steps']} (unfinished); "
              "starting from it anyway")
    return ckpt


def _check_bins(spec: dict, config: FinetuneConfig, path: Path) -> None:
    """Stage 3 with ``colour_bins`` needs stage 2's F_G to have the bin head (same grid step), and without it not."""
    has_head = spec.get("kind") == "binned_mpfnet"
    if has_head != bool(config.colour_bins):
        raise CheckpointError(
            f"checkpoint {path}: its F_G {'has' if has_head else 'has no'} chroma-bin head, but this finetune run "
            f"has colour_bins={config.colour_bins}: train stage 2 with the same colour_bins setting (0 or > 0)")
    if has_head and abs(float(spec["step"]) - float(config.bins_step)) > 1e-9:
        raise CheckpointError(f"checkpoint {path}: its F_G's bins have grid step {spec['step']:g}, this finetune "
                              f"run bins_step={config.bins_step:g}: use the same step")
    if has_head and int(spec.get("stride", 1)) != int(config.bins_stride):
        raise CheckpointError(f"checkpoint {path}: its F_G's bin head has stride {spec.get('stride', 1)}, this "
                              f"finetune run bins_stride={config.bins_stride}: use the same stride")


def weights_fingerprint(ckpt: dict, names: tuple[str, ...]) -> str:
    """SHA-256 (hex) of the named networks' weights in a checkpoint: which upstream weights fine-tuning started
    from, whatever the file looks like (a finished stage rewrites its checkpoint without changing them)."""
    digest = hashlib.sha256()
    for name in names:
        for key, tensor in sorted(ckpt["models"][name].items()):
            digest.update(f"{name}.{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _check_upstream(path: Path, out_dir: Path, upstream: dict[str, str]) -> None:
    """Refuse to continue a fine-tuning checkpoint whose translator or colouriser was retrained since it started."""
    if not path.exists():
        return
    recorded = load_checkpoint(path).get("meta", {}).get("upstream")
    if not recorded:   # written before fine-tuning recorded its upstream stages: nothing to compare
        return
    changed = [stage for stage in ("translate", "pretrain") if recorded.get(stage) != upstream[stage]]
    if changed:
        files = ", ".join(str(out_dir / stage / "checkpoint.pt") for stage in changed)
        raise CheckpointError(
            f"checkpoint {path} continues a fine-tuning that started from other {' and '.join(changed)} weights "
            f"than {files} holds now (retrained since?). Fine-tuning on would mix two runs: delete "
            f"{path.parent} to fine-tune from the current stages, or put the old upstream checkpoint back.")


def finetune(profile: Profile | str | None = None, out_dir: str | os.PathLike = "runs", data: Any = None,
             config: FinetuneConfig | None = None, *, device: str | torch.device | None = None,
             data_kind: str = "auto", callback: Callable[[int, dict], None] | None = None) -> StageResult:
    """Fine-tune G_N2G + F_G (with the CycleGAN and D_G^feat) by Eq. (5) for ``profile.finetune_steps`` steps.

    Needs ``out_dir/translate/checkpoint.pt`` and ``out_dir/pretrain/checkpoint.pt`` (FileNotFoundError naming
    the missing one otherwise). Other arguments as for :func:`course_lib.train.translate`; files go to
    ``out_dir/finetune/``. Returns a StageResult with models ``g_n2g``, ``g_g2n``, ``f_g``, ``d_n``, ``d_g``
    (and ``d_feat``) in eval mode, and ``colorizer``: a ``ProgressiveColorizer(g_n2g, f_g)``.
    """
    from .inference import ProgressiveColorizer

    profile = get_profile(profile, verbose=not isinstance(profile, Profile))
    config = config if config is not None else default_config("finetune", profile)
    check_config(config)
    device = resolve_device(device)
    out_dir = Path(out_dir)
    translated = _load_pretrained(out_dir, "translate", profile, config)
    pretrained = _load_pretrained(out_dir, "pretrain", profile, config)
    # each stage may train on its own crops and batch (Profile.stage_profile): the upstream checks above compare
    # each stage's checkpoint with the sizes that stage trains at, the run records the sizes it trains at
    run = StageRun("finetune", profile.stage_profile("finetune"), out_dir, config, profile.finetune_steps, device,
                   data, data_kind, callback, keep=("g_n2g", "g_g2n", "f_g"))
    upstream = {"translate": weights_fingerprint(translated, ("g_n2g", "g_g2n", "d_n", "d_g")),
                "pretrain": weights_fingerprint(pretrained, ("f_g",))}
    _check_upstream(run.checkpoint_path, out_dir, upstream)
    run.meta["upstream"] = upstream

    nets = {}
    for name in ("g_n2g", "g_g2n", "d_n", "d_g"):
        nets[name] = run.build(name, translated["model_specs"][name])
        nets[name].load_state_dict(translated["models"][name])
    f_g_spec = dict(pretrained["model_specs"]["f_g"])
    _check_bins(f_g_spec, config, out_dir / "pretrain" / "checkpoint.pt")
    if f_g_spec["kind"] == "binned_mpfnet":   # an inference setting: this stage's (recorded in its checkpoint)
        f_g_spec["temperature"] = float(config.bins_temperature)
    nets["f_g"] = run.build("f_g", f_g_spec)
    nets["f_g"].load_state_dict(pretrained["models"]["f_g"])
    g_n2g, g_g2n, f_g, d_n, d_g = (nets[k] for k in ("g_n2g", "g_g2n", "f_g", "d_n", "d_g"))
    discriminators = [d_n, d_g]
    if config.use_feat_disc:
        feat_channels = 3 * config.scales if config.feat_source == "outputs" else profile.width
        nets["d_feat"] = d_feat = run.build("d_feat", feature_disc_spec(feat_channels, profile, config))
        discriminators.append(d_feat)
    lr = profile.stage_lr("finetune")
    opt_g = torch.optim.Adam(itertools.chain(g_n2g.parameters(), g_g2n.parameters(), f_g.parameters()),
                             lr=lr, betas=tuple(config.betas))
    opt_d = torch.optim.Adam(itertools.chain(*(d.parameters() for d in discriminators)), lr=lr,
                             betas=tuple(config.betas))
    scaler = make_scaler(profile, device)
    pool_n, pool_g = ImagePool(config.pool_size, seed=config.seed), ImagePool(config.pool_size, seed=config.seed + 1)
    run.track(models=nets, optimizers={"g": opt_g, "d": opt_d}, scaler=scaler, pools={"n": pool_n, "g": pool_g},
              lr=lr)   # a stage resumed or continued at another Profile.finetune_lr takes the new rate
    run.resume()
    w, amp, feat = config.weights, profile.amp, config.feat_source
    binned = bin_weights(f_g, config)
    want_features = (config.use_feat_disc and feat == "features") or binned is not None
    fixed = run.pair_batches(0).fixed(4, device)

    def samples() -> dict:
        gray = g_n2g(fixed["nir"])[-1]
        return {"NIR": fixed["nir"], "G_N2G(NIR)": gray, "F_G(G_N2G)": f_g(gray)[-1], "RGB target": fixed["rgb"]}

    def colorize(x: torch.Tensor):  # F_G's predictions and (if D_G^feat needs them) its features
        return f_g(x, return_features=True) if want_features else (f_g(x), None)

    with run:
        for step in run.steps():
            pair = run.batch(step, stream=0)
            real_n, rgb = pair["nir"], pair["rgb"]
            real_rgb = run.batch(step, stream=1)["rgb"]          # unpaired photos ...
            real_g = to_gray(real_rgb)                           # ... and their grays: X_G

            # --- generators: Eq. (5) = L_pf + lambda_1 L_tran + lambda_2 L_GAN^feat ----------------------------
            set_requires_grad(discriminators, False)
            tran = translator_objective(g_n2g, g_g2n, d_n, d_g, real_n, real_g, w, rgb, autocast(device, amp))
            x_n2g, fake_n, loss_tran = tran["fake_g"], tran["fake_n"], tran["total"]     # Eq. (1)
            with autocast(device, amp):
                predictions, info = colorize(x_n2g)   # F_G(X_N2G), coarsest first
                if config.use_feat_disc:
                    feat_fake = feature_disc_input(predictions, info, feat)
                    score_feat_fake = d_feat(feat_fake)
            loss_pf, parts = rgb_objective(predictions, info, rgb, config, binned)   # Eq. (3) (+ the bins)
            loss = loss_pf + w.lambda_tran * loss_tran
            losses = {"pf": loss_pf, "tran": loss_tran}
            if binned is not None:
                losses["bins"] = parts["bins"]
            if config.use_feat_disc:
                loss_feat = lsgan_loss(score_feat_fake.float(), True)                          # Eq. (4), G side
                loss = loss + w.lambda_feat * loss_feat
                losses["feat"] = loss_feat
            opt_g.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt_g)

            # --- discriminators: D_N^img, D_G^img (pooled fakes), D_G^feat (Eq. (4), D side) -----------------
            set_requires_grad(discriminators, True)
            loss_d = image_discriminator_loss(d_g, real_g, pool_g.query(x_n2g), autocast(device, amp)) \
                + image_discriminator_loss(d_n, real_n, pool_n.query(fake_n), autocast(device, amp))
            if config.use_feat_disc:
                with autocast(device, amp):
                    if config.feat_real == "rgb":                        # real photos at F_G's output scales
                        feat_real = feature_disc_input(
                            [resize_target(real_rgb, tuple(p.shape[-2:])).to(p.dtype) for p in predictions],
                            None, feat)
                    else:
                        with torch.no_grad(), frozen_norm_statistics(f_g):   # F_G(x_g): "real"
                            real_predictions, real_info = colorize(real_g)
                            feat_real = feature_disc_input(real_predictions, real_info, feat)
                    score_feat_real, score_feat_fake_d = d_feat(feat_real), d_feat(feat_fake.detach())
                loss_d_feat = discriminator_loss(score_feat_real, score_feat_fake_d)
                loss_d = loss_d + loss_d_feat
                losses["d_feat"] = loss_d_feat
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(loss_d).backward()
            scaler.step(opt_d)
            scaler.update()

            losses.update(total=loss, d_img=loss_d - losses.get("d_feat", 0.0))
            run.end_step(step, losses, samples=samples)
    return run.result(colorizer=ProgressiveColorizer(g_n2g, f_g).eval())
