"""Typed configurations of the training stages, and the model "specs" that rebuild networks from checkpoints.

A stage's behaviour is fixed by two small objects (no global options object, unlike the CycleGAN code base):

* a :class:`~course_lib.train.profiles.Profile` - sizes and schedules (image size, widths, steps, batch);
* a stage config dataclass below - everything the paper or an ablation changes: loss weights, the architecture
  switches of DESIGN.md section 2 (attention, norm, scales, SCCM, feature discriminator), optimizer betas, seed.

Configs are stored in the checkpoint as plain dicts (``weights_only=True`` loading cannot rebuild dataclasses),
and a run started again with a different config is refused with the list of fields that differ.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..losses import LossWeights
from ..models import BinnedMPFNet, FeatureDiscriminator, MPFNet, MPFNetConfig, PatchDiscriminator, UNetBaseline
from .profiles import Profile

__all__ = [
    "StageConfig", "TranslateConfig", "PretrainConfig", "FinetuneConfig", "DirectConfig", "make_configs",
    "config_to_dict", "mpfnet_spec", "binned_mpfnet_spec", "BINS_FIELDS", "patch_disc_spec", "feature_disc_spec",
    "unet_spec", "build_model",
    "FEAT_SOURCES", "FEAT_REALS", "DIRECT_MODELS", "PROFILE_RECIPES", "RGB_LOSS_FIELDS", "default_config",
]

FEAT_SOURCES = ("outputs", "features")
FEAT_REALS = ("gray", "rgb")
DIRECT_MODELS = ("mpfnet", "unet")


@dataclass
class StageConfig:
    """Fields every stage has.

    Attributes:
        seed: seeds weight initialisation, the data order and augmentation (data order is a function of
            (seed, step) only, so a resumed run sees the same batches).
        attention, reduction, norm, scales, sccm: MPFNet's architecture switches (``MPFNetConfig``); the paper's
            model is coordinate attention, instance norm, 3 scales, SCCM on.
        alpha: weight of the SSIM term in L_mix (Zhao et al.: 0.84).
        chroma: weight of a chroma L1 term added to L_mix wherever RGB is predicted (stage 2, stage 3's L_pf,
            the direct route; ``course_lib.losses.chroma_loss``). 0 = the paper's loss. Not in the paper.
        colour_match: weight of a colourfulness-matching term added to L_mix wherever RGB is predicted (the same
            places; ``course_lib.losses.colourfulness_loss``). 0 = the paper's loss. Not in the paper.
        colour_bins: weight of a chroma-bin cross-entropy (``course_lib.colour_bins.bins_loss``, class-rebalanced)
            beside L_mix wherever RGB is predicted; > 0 gives the colouriser F_G (and the direct route's MPFNet) a
            chroma-bin head (``course_lib.models.BinnedMPFNet``) whose annealed mean is the finest output's colour,
            with bins fitted on the training photos. 0 = the paper's network and loss. Not in the paper.
        bins_temperature: the annealed mean's temperature T (1: the distribution's mean; 0.38: Zhang et al.'s;
            smaller: nearer the mode, more saturated). Stored in the model spec; changeable after training.
        bins_step: the bins' grid step in the (Cb, Cr) plane scaled to [-1, 1].
        bins_rebalance: lambda of the class rebalancing (0.5 as Zhang et al.; 1: no rebalancing).
        bins_stride: the head scores bins on s x s blocks of the finest features (average-pooled) and its colour is
            upsampled to full resolution; 1: every pixel. 4 as Zhang et al.; the head's cost falls by s^2.
        betas: Adam betas of every optimizer (CycleGAN's (0.5, 0.999), DESIGN.md section 4).
        augment: random scaling, mirroring, random-size crop and contrast jitter of Section III.A
            (``course_lib.data.PairAugment``), identical on both images of a pair.
    """

    seed: int = 0
    attention: str = "coordinate"
    reduction: int = 16
    norm: str = "instance"
    scales: int = 3
    sccm: bool = True
    alpha: float = 0.84
    chroma: float = 0.0
    colour_match: float = 0.0
    colour_bins: float = 0.0
    bins_temperature: float = 1.0
    bins_step: float = 0.1
    bins_rebalance: float = 0.5
    bins_stride: int = 1
    betas: tuple[float, float] = (0.5, 0.999)
    augment: bool = True


@dataclass
class TranslateConfig(StageConfig):
    """Stage 1 (Eq. (1)): CycleGAN between NIR and gray.

    Attributes:
        weights: lambda_cyc, lambda_idt of Eq. (1) (paper: 1 and 1) and lambda_paired, the optional L1 term
            between G_N2G(x_n) and the gray of the *paired* RGB image (our addition, off by default).
        pool_size: image pool of each image discriminator (CycleGAN: 50); 0 disables it.
        disc_width: base width of the PatchGANs; ``None`` = 2 x the translator's width (``Profile.translator_width``,
            else ``Profile.width``; 64 at width 32, as pix2pix).
        disc_layers: strided layers of each PatchGAN (3 = the 70 x 70 PatchGAN).
    """

    weights: LossWeights = field(default_factory=LossWeights)
    pool_size: int = 50
    disc_width: int | None = None
    disc_layers: int = 3


@dataclass
class PretrainConfig(StageConfig):
    """Stage 2 (Eq. (2)): the colorizer F_G on gray versions of the RGB images. Only the common fields."""


@dataclass
class FinetuneConfig(TranslateConfig):
    """Stage 3 (Eqs. (3)-(5)): NIR -> G_N2G -> F_G -> RGB, starting from stages 1 and 2.

    Attributes (besides those of :class:`TranslateConfig`, which govern the L_tran part of Eq. (5); its
    ``disc_width`` sizes D_G^feat here, while D_N^img and D_G^img come with their weights from stage 1):
        weights.lambda_tran, weights.lambda_feat: lambda_1, lambda_2 of Eq. (5) (paper: 1, 1).
        use_feat_disc: train D_G^feat and add the L_GAN^feat term of Eq. (4) (ablation switch).
        feat_source: what D_G^feat looks at: ``"outputs"`` = F_G's multi-scale RGB outputs resized to full size
            and concatenated (3 x scales channels), ``"features"`` = F_G's finest-scale feature maps (the FEB
            output that the finest prediction is computed from).
        feat_disc_layers: strided layers of D_G^feat (2: a 34 x 34 receptive field).
        feat_real: what D_G^feat is shown as "real": ``"gray"`` = F_G's outputs on unpaired true grays (Eq. (4),
            the paper: align the NIR route with the gray route), ``"rgb"`` = unpaired real RGB photos at F_G's
            output scales (not in the paper: D_G^feat becomes a colour-photo discriminator, an adversarial term on
            the RGB output as in pix2pix; ``feat_source="outputs"`` only).
    """

    use_feat_disc: bool = True
    feat_source: str = "outputs"
    feat_disc_layers: int = 2
    feat_real: str = "gray"


@dataclass
class DirectConfig(StageConfig):
    """The baseline route: one network trained directly NIR -> RGB with the same L_mix (Eq. (2) form).

    Attributes:
        unet_width, unet_depth: size of the ``UNetBaseline`` when ``train_direct(model="unet")``; ``None`` =
            2 x the profile's width and the profile's (deepest) depth + 2 (a pix2pix UNet with about as many parameters
            as one MPFNet). Ignored for ``model="mpfnet"``, which uses the profile's width and depth.
    """

    unet_width: int | None = None
    unet_depth: int | None = None


#: Loss terms on predicted RGB images: stage 1 predicts none, so make_configs leaves them at 0 there (a stage-1
#: checkpoint is then the same whatever they are, and can be shared between runs that differ only in them).
RGB_LOSS_FIELDS = ("chroma", "colour_match", "colour_bins")
#: The chroma-bin head's settings: stage 1 keeps their defaults (make_configs) for the same reason.
BINS_FIELDS = ("bins_temperature", "bins_step", "bins_rebalance", "bins_stride")

#: Stage-config choices that come with a profile (the paper's defaults elsewhere). ``cpu``: the translator gets
#: a paired L1 term (lambda_paired = 10) besides Eq. (1)'s CycleGAN terms -- "we have both paired NIR-grayscale
#: images and unpaired grayscale images" (Section II.C). Measured on VCIP 2020 (128 px crops, width 8; one-seed
#: probes, `python benchmarks/probes.py translator --root DIR --paired 0|10`): the unpaired translator's gray
#: correlates 0.08 with the true gray after 30 steps (the NIR image itself: 0.32), the paired one 0.29-0.31 after
#: 30-90 steps, 13.5 dB against the true gray at 90 steps (NIR itself: 12.2 dB).
#: The ``cpu`` profile also starts stage 1 with a supervised warm-up of G_N2G (``Profile.translate_warmup``).
#: Its colouriser (stages 2-3 and the direct route) has a chroma-bin head (not in the paper; Zhang et al. 2016)
#: scoring 4 x 4 blocks, read at T = 0.38: with L_mix alone F_G answered every ambiguous gray with a near-gray
#: average (colourfulness 9.9 +- 1.8 against the photos' 29.3; benchmarks/results/vcip_cpu/bins_cpu.md).
PROFILE_RECIPES: dict[str, dict[str, Any]] = {
    "cpu": {"weights": LossWeights(lambda_paired=10.0), "colour_bins": 1.0, "bins_stride": 4,
            "bins_temperature": 0.38},
}


def make_configs(profile: Any = None, **overrides: Any) -> dict[str, StageConfig]:
    """One config per stage with the same overrides applied wherever the field exists.

    ``make_configs(attention="se", use_feat_disc=False)`` gives the configs of an ablation run;
    keys: ``translate``, ``pretrain``, ``finetune``, ``direct``. Unknown fields raise ValueError. ``profile`` (a
    Profile or its name): start from that profile's recipe (``PROFILE_RECIPES``), then apply ``overrides``.
    """
    if profile is not None:
        name = profile if isinstance(profile, str) else profile.name
        overrides = {**PROFILE_RECIPES.get(name, {}), **overrides}
    classes = {"translate": TranslateConfig, "pretrain": PretrainConfig, "finetune": FinetuneConfig,
               "direct": DirectConfig}
    known = set().union(*({f.name for f in dataclasses.fields(c)} for c in classes.values()))
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown config field(s) {unknown}; known: {sorted(known)}")
    out = {}
    for stage, cls in classes.items():
        names = {f.name for f in dataclasses.fields(cls)} - (set(RGB_LOSS_FIELDS) | set(BINS_FIELDS)
                                                             if stage == "translate" else set())
        out[stage] = cls(**{k: v for k, v in overrides.items() if k in names})
    return out


def config_to_dict(config: Any) -> dict:
    """A dataclass (nested ones included) as a plain dict of str/int/float/bool/None/list values."""
    return _plain(dataclasses.asdict(config)) if dataclasses.is_dataclass(config) else _plain(dict(config))


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def check_config(config: StageConfig) -> None:
    """Validate the fields the models do not check themselves (ValueError naming the field)."""
    if isinstance(config, FinetuneConfig) and config.feat_source not in FEAT_SOURCES:
        raise ValueError(f"feat_source: expected one of {list(FEAT_SOURCES)}, got {config.feat_source!r}")
    if isinstance(config, FinetuneConfig) and config.feat_real not in FEAT_REALS:
        raise ValueError(f"feat_real: expected one of {list(FEAT_REALS)}, got {config.feat_real!r}")
    if isinstance(config, FinetuneConfig) and config.feat_real == "rgb" and config.feat_source != "outputs":
        raise ValueError(f"feat_real='rgb' compares F_G's RGB outputs with RGB photos: it needs "
                         f"feat_source='outputs', got {config.feat_source!r}")
    if isinstance(config, TranslateConfig) and config.pool_size < 0:
        raise ValueError(f"pool_size: expected >= 0, got {config.pool_size}")
    if type(config) is TranslateConfig:
        used = [f"{name}={getattr(config, name)}" for name in RGB_LOSS_FIELDS if getattr(config, name)]
        if used:
            raise ValueError(f"{', '.join(used)}: stage 1 predicts no RGB image, so these terms have no effect "
                             "there; leave them at 0 (make_configs does)")
    if not float(config.chroma) >= 0.0:
        raise ValueError(f"chroma: expected a weight >= 0, got {config.chroma}")
    if not float(config.colour_match) >= 0.0:
        raise ValueError(f"colour_match: expected a weight >= 0, got {config.colour_match}")
    if not float(config.colour_bins) >= 0.0:
        raise ValueError(f"colour_bins: expected a weight >= 0, got {config.colour_bins}")
    if not float(config.bins_temperature) > 0.0:
        raise ValueError(f"bins_temperature: expected a temperature > 0, got {config.bins_temperature}")
    n = 2 / float(config.bins_step) if float(config.bins_step) > 0 else 0
    if not (n >= 2 and abs(n - round(n)) < 1e-6):
        raise ValueError(f"bins_step: expected a grid step with 2 / step an integer >= 2 (e.g. 0.1), "
                         f"got {config.bins_step}")
    if isinstance(config.bins_stride, bool) or not isinstance(config.bins_stride, int) or config.bins_stride < 1:
        raise ValueError(f"bins_stride: expected an integer >= 1 (1: the head at full resolution), "
                         f"got {config.bins_stride!r}")
    if not 0.0 <= float(config.bins_rebalance) <= 1.0:
        raise ValueError(f"bins_rebalance: expected a number in [0, 1], got {config.bins_rebalance}")
    if len(tuple(config.betas)) != 2:
        raise ValueError(f"betas: expected two numbers, got {config.betas!r}")


# ----------------------------------------------------------------------------------------------------------------
# Model specs: plain dicts naming a class and its arguments, stored in checkpoints so load_stage() can rebuild
# the networks without knowing which profile trained them.
# ----------------------------------------------------------------------------------------------------------------
def scale_depths(profile: Profile, scales: int, translator: bool = False) -> int | tuple[int, ...]:
    """The profile's FEB depth for an MPFNet of ``scales`` scales: one number, or the per-scale depths of the
    finest ``scales`` scales (a profile lists them for 3 scales, coarsest first; fewer scales drop the coarsest).
    ``translator=True``: the translators' depth (``profile.translator_depth``, else ``profile.depth``)."""
    depth = profile.translator_depth if translator and profile.translator_depth is not None else profile.depth
    if isinstance(depth, (tuple, list)):
        if len(depth) < scales:
            raise ValueError(f"profile {profile.name!r}: depth {list(depth)} lists {len(depth)} scale(s), "
                             f"the model has {scales}")
        return tuple(depth[len(depth) - scales:])
    return depth


def mpfnet_spec(in_channels: int, out_channels: int, profile: Profile, config: StageConfig,
                translator: bool = False) -> dict:
    """An MPFNet at the profile's sizes: the colouriser's width and depth, or the translator's (``translator=True``:
    G_N2G and G_G2N, ``profile.translator_width`` and ``profile.translator_depth``)."""
    width = profile.translator_width if translator and profile.translator_width else profile.width
    arch = MPFNetConfig(width=width, depth=scale_depths(profile, config.scales, translator), attention=config.attention,
                        reduction=config.reduction, norm=config.norm, scales=config.scales, sccm=config.sccm)
    return {"kind": "mpfnet", "in_channels": in_channels, "out_channels": out_channels,
            "config": dataclasses.asdict(arch)}


def binned_mpfnet_spec(in_channels: int, profile: Profile, config: StageConfig, n_bins: int,
                       luma: str = "input") -> dict:
    """An MPFNet colouriser with a chroma-bin head (``BinnedMPFNet``) at the profile's sizes; ``n_bins``: the
    number of fitted bins (their centres travel as buffers in the weights)."""
    spec = mpfnet_spec(in_channels, 3, profile, config)
    return {"kind": "binned_mpfnet", "in_channels": in_channels, "config": spec["config"], "n_bins": int(n_bins),
            "step": float(config.bins_step), "temperature": float(config.bins_temperature), "luma": luma,
            "stride": int(config.bins_stride)}


def patch_disc_spec(in_channels: int, profile: Profile, config: TranslateConfig) -> dict:
    width = config.disc_width or 2 * (profile.translator_width or profile.width)
    return {"kind": "patch_disc", "in_channels": in_channels, "width": width, "n_layers": config.disc_layers}


def feature_disc_spec(in_channels: int, profile: Profile, config: FinetuneConfig) -> dict:
    width = config.disc_width or 2 * profile.width
    return {"kind": "feature_disc", "in_channels": in_channels, "width": width,
            "n_layers": config.feat_disc_layers}


def unet_spec(in_channels: int, out_channels: int, profile: Profile, config: DirectConfig) -> dict:
    return {"kind": "unet", "in_channels": in_channels, "out_channels": out_channels,
            "width": config.unet_width or 2 * profile.width,
            "depth": config.unet_depth or _deepest(profile) + 2,
            "norm": config.norm}


def _deepest(profile: Profile) -> int:
    return max(profile.depth) if isinstance(profile.depth, (tuple, list)) else profile.depth


def build_model(spec: dict) -> nn.Module:
    """Instantiate the network a spec describes (weights freshly initialised)."""
    kind = spec["kind"]
    if kind == "mpfnet":
        return MPFNet(spec["in_channels"], spec["out_channels"], MPFNetConfig(**spec["config"]))
    if kind == "binned_mpfnet":
        return BinnedMPFNet(spec["in_channels"], MPFNetConfig(**spec["config"]), n_bins=spec["n_bins"],
                            step=spec["step"], temperature=spec["temperature"], luma=spec["luma"],
                            stride=spec.get("stride", 1))
    if kind == "patch_disc":
        return PatchDiscriminator(spec["in_channels"], width=spec["width"], n_layers=spec["n_layers"])
    if kind == "feature_disc":
        return FeatureDiscriminator(spec["in_channels"], width=spec["width"], n_layers=spec["n_layers"])
    if kind == "unet":
        return UNetBaseline(spec["in_channels"], spec["out_channels"], width=spec["width"], depth=spec["depth"],
                            norm=spec["norm"])
    raise ValueError(f"model spec: unknown kind {kind!r}")


def default_config(stage: str, profile: Any) -> StageConfig:
    """The config a stage uses when none is given: the paper's defaults, plus the profile's recipe
    (``PROFILE_RECIPES``). ``stage``: translate, pretrain, finetune or direct."""
    return make_configs(profile)[stage]
