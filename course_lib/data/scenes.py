"""Procedural multi-material scenes rendered to paired NIR/RGB images (the course's offline data).

A scene is drawn back to front by a small, readable grammar (``SceneConfig`` holds its knobs):

    sky (+ clouds) -> distant hills -> ground (two materials in patches) -> water -> road (+ painted centre line)
    -> buildings (+ dark windows) -> trees (bark trunk, foliage crown, shadow) -> painted objects (cars, balls)

Drawing writes two maps: ``material`` (an id into :data:`~course_lib.data.spectra.MATERIALS`) and ``brightness``
(shading x texture). Brightness is shared by every band, as real shading and texture are; colour comes only from
the material. Each pixel's linear value is therefore ``material_responses()[material] * brightness`` (4 bands:
R, G, B, NIR), followed by per-camera auto-exposure, sensor noise, and the sRGB transfer curve. Because both
cameras see the same geometry but different spectra, a network can only resolve the NIR->RGB ambiguity of the
paper's introduction from texture and context -- which is exactly what the scenes let students test.

``SpectralScenes`` wraps :func:`render_scene` as a map-style torch ``Dataset``; item ``i`` is deterministic for
``(seed, i)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .spectra import MATERIALS, material_responses, srgb_encode

__all__ = ["SceneConfig", "render_scene", "SpectralScenes", "scene_name"]


def _m(name: str) -> int:
    return MATERIALS[name].id


# Material groups the grammar draws from (names from the material table in spectra.py).
GROUND_MATERIALS = ("grass", "grass", "grass", "soil", "soil", "sand", "rock", "foliage")
HILL_MATERIALS = ("foliage", "foliage", "grass", "rock")
BUILDING_MATERIALS = ("concrete", "concrete", "brick", "brick", "paint_red", "paint_yellow", "paint_green",
                      "paint_blue", "paint_purple")
PAINTS = ("paint_red", "paint_yellow", "paint_green", "paint_blue", "paint_purple")


@dataclass
class SceneConfig:
    """Knobs of the scene grammar and the cameras (every field can be passed to ``SpectralScenes`` as an option).

    Probabilities say how often an element appears; ``max_*`` bound how many. ``noise`` is the sensor noise
    standard deviation (at full scale, plus a shot-noise term), ``exposure_percentile``/``exposure_target``: each
    camera scales its linear image so that this percentile of its brightness lands at the target (auto-exposure).
    """

    horizon: tuple[float, float] = (0.25, 0.6)
    cloud_cover: tuple[float, float] = (0.0, 0.6)
    p_hills: float = 0.6
    p_water: float = 0.35
    p_road: float = 0.4
    p_buildings: float = 0.5
    max_buildings: int = 4
    p_trees: float = 0.75
    max_trees: int = 6
    p_objects: float = 0.6
    max_objects: int = 4
    illumination_variation: float = 0.15
    noise: float = 0.01
    auto_exposure: bool = True
    exposure_percentile: float = 99.0
    exposure_target: float = 0.92


def scene_name(seed: int, index: int) -> str:
    """Name of scene ``index`` of seed ``seed`` (also the file stem written by ``make_data``)."""
    return f"scene_s{seed}_{index:06d}"


# --------------------------------------------------------------------------------------------------------------
# Noise fields
# --------------------------------------------------------------------------------------------------------------
def _fractal_noise(rng: np.random.Generator, n: int, h: int, w: int, base: int = 2, finest: int | None = None,
                   persistence: float = 0.55) -> np.ndarray:
    """``n`` smooth random fields (n, h, w), zero mean, unit std (fractal "value noise").

    A pyramid: start from a ``base`` x ``base`` random grid, repeatedly double it (bilinear) and add fresh random
    values scaled by ``persistence`` per octave, up to ``finest`` (default: half the image size), then upsample
    once to (h, w). ``base`` sets the coarsest feature size (2 = image-sized blobs, 16 = fine grain).
    """
    finest = max(base, finest or max(h, w) // 2)
    g = base
    acc = torch.from_numpy(rng.standard_normal((1, n, g, g), dtype=np.float32))
    amp = 1.0
    while g * 2 <= finest:
        g *= 2
        amp *= persistence
        acc = F.interpolate(acc, size=(g, g), mode="bilinear", align_corners=False)
        acc += amp * torch.from_numpy(rng.standard_normal((1, n, g, g), dtype=np.float32))
    out = F.interpolate(acc, size=(h, w), mode="bilinear", align_corners=False)[0].numpy()
    out -= out.mean(axis=(1, 2), keepdims=True)
    out /= out.std(axis=(1, 2), keepdims=True) + 1e-6
    return out


def _noise_1d(rng: np.random.Generator, n: int, octaves: int = 4) -> np.ndarray:
    """A smooth random curve sampled at ``n`` points, in about [-1, 1]."""
    x = np.linspace(0.0, 1.0, n)
    out = np.zeros(n)
    amp = 1.0
    for o in range(octaves):
        k = 3 * 2**o + 1
        out += amp * np.interp(x, np.linspace(0.0, 1.0, k), rng.uniform(-1.0, 1.0, k))
        amp *= 0.5
    return out / 1.9


# --------------------------------------------------------------------------------------------------------------
# The scene grammar
# --------------------------------------------------------------------------------------------------------------
class _Canvas:
    """Material and brightness maps plus the pixel coordinates (u across, v down, both in [0, 1)).

    ``window(u0, u1, v0, v1)`` is the same interface restricted to a bounding box (numpy views: painting a window
    paints the canvas), so a small object costs only its own pixels.
    """

    def __init__(self, size: int, material=None, brightness=None, u=None, v=None, sl=(slice(None), slice(None))):
        self.size = size
        if u is None:
            coords = ((np.arange(size) + 0.5) / size).astype(np.float32)
            v, u = np.meshgrid(coords, coords, indexing="ij")
            material = np.zeros((size, size), dtype=np.int64)
            brightness = np.ones((size, size), dtype=np.float32)
        self.u, self.v, self.material, self.brightness, self.sl = u, v, material, brightness, sl

    def window(self, u0: float, u1: float, v0: float, v1: float) -> "_Canvas":
        n = self.size
        ys = slice(int(np.clip(np.floor(v0 * n), 0, n)), int(np.clip(np.ceil(v1 * n) + 1, 0, n)))
        xs = slice(int(np.clip(np.floor(u0 * n), 0, n)), int(np.clip(np.ceil(u1 * n) + 1, 0, n)))
        sl = (ys, xs)
        return _Canvas(n, self.material[sl], self.brightness[sl], self.u[sl], self.v[sl], sl)

    def paint(self, mask: np.ndarray, material: str, brightness) -> None:
        self.material[mask] = _m(material)
        self.brightness[mask] = brightness[mask] if isinstance(brightness, np.ndarray) else brightness


def _draw_scene(size: int, rng: np.random.Generator, cfg: SceneConfig) -> _Canvas:
    c = _Canvas(size)
    u, v = c.u, c.v
    # Random fields shared by all bands: large blobs (ground patches, clouds, slow illumination changes), medium
    # (foliage clumps) and fine grain (surface texture, water ripples).
    patches, clouds = _fractal_noise(rng, 2, size, size, base=2)
    light = _fractal_noise(rng, 1, size, size, base=2, finest=4)[0]
    clumps = _fractal_noise(rng, 1, size, size, base=6, persistence=0.5)[0]
    texture, ripples = _fractal_noise(rng, 2, size, size, base=16, persistence=0.7)

    # Sky: brighter towards the horizon (a brightness change only: the hue comes from the sky spectrum).
    horizon_v = rng.uniform(*cfg.horizon)
    horizon = horizon_v + 0.02 * _noise_1d(rng, size)[None, :]
    c.paint(v < horizon, "sky", 0.85 + 0.3 * np.clip(v / horizon_v, 0.0, 1.0))
    cover = rng.uniform(*cfg.cloud_cover)
    if cover > 0.02:
        threshold = np.quantile(clouds[: max(1, int(size * horizon_v))], 1.0 - cover)
        c.paint((v < horizon) & (clouds > threshold), "cloud", 0.8 + 0.1 * np.clip(clouds - threshold, 0.0, 2.0))

    # Distant hills: a ridge line above the horizon.
    if rng.random() < cfg.p_hills:
        height = rng.uniform(0.04, 0.18)
        ridge = horizon - height * (0.55 + 0.45 * _noise_1d(rng, size, octaves=5))[None, :]
        c.paint((v >= ridge) & (v < horizon), str(rng.choice(HILL_MATERIALS)), 0.72 + 0.08 * texture)

    # Ground: a base material with patches of a second one.
    ground = v >= horizon
    base, second = (str(x) for x in rng.choice(GROUND_MATERIALS, 2))
    depth = np.clip((v - horizon_v) / max(1e-3, 1.0 - horizon_v), 0.0, 1.0)
    ground_shade = 0.8 + 0.25 * depth
    c.paint(ground, base, ground_shade)
    c.paint(ground & (patches > rng.uniform(0.3, 1.2)), second, ground_shade)

    # Water: a lake reaching the horizon, with a wavy shore.
    if rng.random() < cfg.p_water:
        shore = horizon_v + rng.uniform(0.08, 0.35) * (1.0 - horizon_v) + 0.04 * _noise_1d(rng, size)[None, :]
        c.paint(ground & (v < shore), "water", 0.9 + 0.15 * depth + 0.05 * ripples)

    # Road: a perspective trapezoid from the bottom edge to a vanishing point on the horizon.
    if rng.random() < cfg.p_road:
        bottom_u, vanish_u = rng.uniform(0.2, 0.8), rng.uniform(0.3, 0.7)
        half_width = rng.uniform(0.12, 0.3)
        t = np.clip((v - horizon_v) / max(1e-3, 1.0 - horizon_v), 0.0, 1.0)
        centre = vanish_u + (bottom_u - vanish_u) * t
        road = (v > horizon_v) & (np.abs(u - centre) < half_width * t)
        c.paint(road, "asphalt", 0.9 + 0.1 * t)
        dashes = (np.abs(u - centre) < 0.06 * half_width * t) & (np.sin(40.0 * np.log1p(8.0 * t)) > 0.2)
        c.paint(road & dashes & (t > 0.05), "paint_yellow", 0.9)

    # Buildings: boxes standing just below the horizon, with rows of dark windows.
    if rng.random() < cfg.p_buildings:
        for _ in range(int(rng.integers(1, cfg.max_buildings + 1))):
            x0, width = rng.uniform(-0.1, 0.95), rng.uniform(0.08, 0.3)
            base_v = horizon_v + rng.uniform(0.0, 0.12) * (1.0 - horizon_v)
            top_v = base_v - rng.uniform(0.15, 0.5) * base_v
            w = c.window(x0, x0 + width, top_v, base_v)
            box = (w.u >= x0) & (w.u < x0 + width) & (w.v >= top_v) & (w.v < base_v)
            shade = rng.uniform(0.65, 1.1)
            w.paint(box, str(rng.choice(BUILDING_MATERIALS)), shade * (1.0 + 0.03 * texture[w.sl]))
            nx, ny = int(rng.integers(2, 6)), int(rng.integers(2, 8))
            fu, fv = (w.u - x0) / width * nx, (w.v - top_v) / (base_v - top_v) * ny
            windows = box & (np.abs(fu - np.floor(fu) - 0.5) < 0.25) & (np.abs(fv - np.floor(fv) - 0.5) < 0.22)
            w.brightness[windows] *= 0.3

    # Trees: trunk + noisy elliptic crown + shadow, sized by distance (lower in the image = closer = bigger).
    if rng.random() < cfg.p_trees:
        bases = np.sort(rng.uniform(horizon_v + 0.02, 1.05, int(rng.integers(1, cfg.max_trees + 1))))
        for base_v in bases:
            near = (base_v - horizon_v) / max(1e-3, 1.0 - horizon_v)
            r = 0.03 + 0.16 * near
            tu = rng.uniform(0.0, 1.0)
            trunk_h = r * rng.uniform(0.6, 1.2)
            cu, cv = tu, base_v - trunk_h - 0.8 * r
            w = c.window(tu - 1.5 * r, tu + 1.9 * r, base_v - 0.3 * r, base_v + 0.3 * r)
            shadow = (((w.u - tu - 0.4 * r) / (1.4 * r)) ** 2 + ((w.v - base_v) / (0.25 * r)) ** 2 < 1.0) & ground[w.sl]
            w.brightness[shadow] *= 0.55
            w = c.window(tu - 0.15 * r, tu + 0.15 * r, cv, base_v)
            trunk = (np.abs(w.u - tu) < 0.12 * r) & (w.v < base_v) & (w.v > cv)
            w.paint(trunk, "bark", 0.7 - 0.2 * (w.u - tu) / (0.12 * r + 1e-6))  # lit from the left
            w = c.window(cu - 1.3 * r, cu + 1.3 * r, cv - 1.45 * r, cv + 1.45 * r)
            du, dv = (w.u - cu) / r, (w.v - cv) / (1.1 * r)
            crown = du**2 + dv**2 < 1.0 + 0.35 * clumps[w.sl]
            w.paint(crown, str(rng.choice(("foliage", "foliage", "grass"))),
                    np.clip(0.95 - 0.3 * dv - 0.15 * du + 0.15 * clumps[w.sl], 0.3, 1.4))

    # Painted objects: cars (body + cabin) and balls/signs in the foreground, one paint each.
    if rng.random() < cfg.p_objects:
        for base_v in np.sort(rng.uniform(horizon_v + 0.05, 1.0, int(rng.integers(1, cfg.max_objects + 1)))):
            near = (base_v - horizon_v) / max(1e-3, 1.0 - horizon_v)
            s = 0.04 + 0.14 * near
            ou = rng.uniform(0.0, 1.0)
            paint = str(rng.choice(PAINTS))
            if rng.random() < 0.5:  # a car
                w = c.window(ou - 1.25 * s, ou + 1.25 * s, base_v - 1.25 * s, base_v + 0.1 * s)
                u, v = w.u, w.v
                body = (np.abs(u - ou) < 1.2 * s) & (v < base_v - 0.15 * s) & (v > base_v - 0.75 * s)
                cabin = (np.abs(u - ou) < 0.7 * s) & (v <= base_v - 0.75 * s) & (v > base_v - 1.2 * s)
                shade = 1.05 - 0.5 * np.clip((v - (base_v - 1.2 * s)) / (1.2 * s), 0.0, 1.0)
                w.paint(body | cabin, paint, shade)
                glass = cabin & (np.abs(u - ou) < 0.6 * s) & (v > base_v - 1.1 * s) & (v < base_v - 0.8 * s)
                w.brightness[glass] *= 0.35
                for wu in (ou - 0.75 * s, ou + 0.75 * s):
                    w.paint((u - wu) ** 2 + (v - base_v + 0.2 * s) ** 2 < (0.22 * s) ** 2, "asphalt", 0.5)
            else:  # a ball / round sign, shaded like a sphere lit from the upper left
                w = c.window(ou - s, ou + s, base_v - 2 * s, base_v)
                du, dv = (w.u - ou) / s, (w.v - (base_v - s)) / s
                disc = du**2 + dv**2 < 1.0
                nz = np.sqrt(np.clip(1.0 - du**2 - dv**2, 0.0, 1.0))
                w.paint(disc, paint, 0.35 + 0.75 * np.clip(-0.45 * du - 0.45 * dv + 0.77 * nz, 0.0, 1.0))

    # Texture (per-material strength) and the slow illumination field, both shared by all bands.
    strength = _TEXTURE[c.material]
    c.brightness *= np.clip(1.0 + strength * texture, 0.2, None) * (1.0 + cfg.illumination_variation * light)
    np.clip(c.brightness, 0.02, None, out=c.brightness)
    return c


_TEXTURE = np.array([m.texture for m in MATERIALS.values()], dtype=np.float32)


def render_scene(size: int = 64, seed: int = 0, index: int = 0, config: SceneConfig | None = None,
                 **options: Any) -> dict[str, np.ndarray]:
    """Render scene ``index`` of ``seed`` at ``size`` x ``size`` pixels.

    Returns numpy arrays (handy for matplotlib): ``rgb`` (H, W, 3) and ``nir`` (H, W), sRGB-encoded in [0, 1];
    ``material`` (H, W) int64 ids into ``MATERIALS``; ``brightness`` (H, W) the shared shading x texture;
    ``rgb_linear``/``nir_linear`` after exposure and noise, before encoding and clipping; ``exposure``: the two
    camera gains ``(rgb_gain, nir_gain)``. ``options`` override :class:`SceneConfig` fields.
    """
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")
    cfg = _make_config(config, options)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(index), 0x5EC7])
    canvas = _draw_scene(int(size), rng, cfg)

    linear = material_responses()[canvas.material] * canvas.brightness[..., None]  # (H, W, 4): R, G, B, NIR
    gains = np.ones(4, dtype=np.float32)
    if cfg.auto_exposure:
        step = max(1, size // 64)  # a subsampled percentile is plenty for an exposure meter
        lum = linear[::step, ::step, :3] @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
        rgb_gain = cfg.exposure_target / max(float(np.percentile(lum, cfg.exposure_percentile)), 1e-4)
        nir_gain = cfg.exposure_target / max(float(np.percentile(linear[::step, ::step, 3], cfg.exposure_percentile)),
                                             1e-4)
        gains[:3], gains[3] = rgb_gain, nir_gain
        linear = linear * gains
    if cfg.noise > 0:
        # Read noise plus shot noise (variance grows with the signal), independent per band and pixel.
        sigma = cfg.noise * np.sqrt(1.0 + 4.0 * np.clip(linear, 0.0, None))
        noise = torch.Generator().manual_seed(int(rng.integers(2**62)))  # torch's normals are the faster ones
        linear = linear + sigma * torch.randn(linear.shape, generator=noise).numpy()
    encoded = srgb_encode(linear)
    return {
        "rgb": encoded[..., :3],
        "nir": encoded[..., 3],
        "material": canvas.material,
        "brightness": canvas.brightness,
        "rgb_linear": linear[..., :3],
        "nir_linear": linear[..., 3],
        "exposure": (float(gains[0]), float(gains[3])),
    }


def _make_config(config: SceneConfig | None, options: dict[str, Any]) -> SceneConfig:
    cfg = dataclasses.replace(config) if config is not None else SceneConfig()
    names = {f.name for f in dataclasses.fields(SceneConfig)}
    for key, value in options.items():
        if key not in names:
            raise ValueError(f"unknown scene option {key!r}; expected one of {', '.join(sorted(names))}")
        setattr(cfg, key, value)
    return cfg


class SpectralScenes(Dataset):
    """Physically rendered NIR/RGB pairs as a map-style dataset (the course's default data; see module docstring).

    Item ``i``: ``{"nir": FloatTensor[1,H,W], "rgb": FloatTensor[3,H,W]`` (both in [-1, 1]),
    ``"material": LongTensor[H,W]`` (ids into ``MATERIALS``), ``"name": str}``, deterministic for ``(seed, i)``;
    different seeds give different scenes. ``transform`` (e.g. ``PairAugment``) is applied to the item dict.
    ``options`` are :class:`SceneConfig` fields (``noise=0.0``, ``p_water=1.0``, ...).
    """

    def __init__(self, size: int = 64, count: int = 64, seed: int = 0,
                 transform: Callable[[dict], dict] | None = None, **options: Any):
        if not isinstance(size, (int, np.integer)) or size < 8:
            raise ValueError(f"size must be an integer >= 8, got {size!r}")
        if not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"count must be a positive integer, got {count!r}")
        self.size, self.count, self.seed = int(size), int(count), int(seed)
        self.transform = transform
        self.config = _make_config(None, options)
        material_responses()  # compute (and cache) the 4 numbers per material now, before DataLoader workers fork

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> dict:
        if not -self.count <= index < self.count:
            raise IndexError(f"index {index} out of range for SpectralScenes of length {self.count}")
        index = index % self.count
        scene = render_scene(self.size, self.seed, index, self.config)
        item = {
            "nir": torch.from_numpy(scene["nir"] * 2.0 - 1.0)[None],
            "rgb": torch.from_numpy(scene["rgb"] * 2.0 - 1.0).permute(2, 0, 1).contiguous(),
            "material": torch.from_numpy(scene["material"]),
            "name": scene_name(self.seed, index),
        }
        return self.transform(item) if self.transform is not None else item

    def __repr__(self) -> str:
        return f"SpectralScenes(size={self.size}, count={self.count}, seed={self.seed})"
