"""Spectral physics of the rendered NIR/RGB pairs: materials, daylight, and the two cameras.

Why NIR-to-RGB is ambiguous (the paper's introduction, "Mapping Ambiguity") can be *computed* here: an RGB camera
integrates reflectance over 400-700 nm through the CIE 1931 observer, an NIR camera over 780-1000 nm through a
silicon sensor behind a long-pass filter. Two surfaces that differ only in the visible (the dyed/painted
materials below) give one NIR value and many RGB colours, and no network can undo that without context.

Everything lives on one wavelength grid, ``WAVELENGTHS`` (400-1000 nm, 5 nm steps):

- ``MATERIALS``: the material table (id, name, comment, analytic reflectance shape). Change a spectrum here and
  every rendered scene follows.
- ``daylight_illuminant()``: CIE D65 in the visible, a 6504 K black body past 780 nm, joined smoothly.
- ``rgb_cmfs()``: the CIE 1931 2-degree colour-matching functions (from ``colour-science``, not typed in).
- ``nir_response()``: silicon quantum efficiency times a ~780 nm long-pass filter.
- ``spectrum_to_xyz`` / ``xyz_to_linear_srgb`` / ``srgb_encode`` / ``srgb_decode``: the colorimetric path.
- ``material_responses()``: spectra x illuminant x cameras -> 4 numbers per material (linear R, G, B, NIR),
  computed once and cached; the scene renderer only multiplies these by shading and texture per pixel.
- ``material_colors()``: display sRGB and NIR value per material (for the notebooks' tables and plots).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

__all__ = [
    "WAVELENGTHS",
    "Material",
    "MATERIALS",
    "MATERIAL_NAMES",
    "material_spectrum",
    "material_id",
    "daylight_illuminant",
    "rgb_cmfs",
    "silicon_response",
    "nir_filter",
    "nir_response",
    "camera_responses",
    "spectrum_to_xyz",
    "xyz_to_linear_srgb",
    "xyz_to_chromaticity",
    "srgb_encode",
    "srgb_decode",
    "reflectance_to_rgb_nir",
    "material_responses",
    "material_colors",
]

#: The wavelength grid (nm) every spectrum in this module is sampled on.
WAVELENGTHS: np.ndarray = np.arange(400.0, 1000.0 + 1e-9, 5.0)

#: Edge of the NIR camera's long-pass filter (nm) and the sharpness of its edge (logistic width, nm).
NIR_CUT_ON_NM = 780.0
NIR_CUT_ON_WIDTH_NM = 8.0
#: Colour temperature of the black body that continues D65 past 780 nm (D65's correlated colour temperature).
BLACKBODY_TEMPERATURE_K = 6504.0


# --------------------------------------------------------------------------------------------------------------
# Building blocks of the analytic spectra
# --------------------------------------------------------------------------------------------------------------
def logistic(wl: np.ndarray, center: float, width: float) -> np.ndarray:
    """A smooth step from 0 to 1 centred at ``center`` nm (width = nm for the step from 27% to 73%)."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(wl, dtype=np.float64) - center) / width))


def gauss(wl: np.ndarray, center: float, sigma: float) -> np.ndarray:
    """A Gaussian bump of height 1 centred at ``center`` nm."""
    return np.exp(-0.5 * ((np.asarray(wl, dtype=np.float64) - center) / sigma) ** 2)


#: Reflectance every dyed/painted material has in the NIR: dyes absorb in the visible and are transparent in the
#: NIR, so the binder/substrate sets one NIR reflectance whatever the colour. This is the ambiguity of the paper.
PAINT_NIR_REFLECTANCE = 0.60


def _painted(visible: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """A dyed surface: the given visible shape, blended to the shared NIR plateau before the NIR filter opens."""

    def spectrum(wl: np.ndarray) -> np.ndarray:
        t = logistic(wl, 728.0, 7.0)  # finished (>99.8%) by 772 nm, below the 780 nm filter edge
        return visible(wl) * (1.0 - t) + PAINT_NIR_REFLECTANCE * t

    return spectrum


# --------------------------------------------------------------------------------------------------------------
# The material table
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Material:
    """One row of the material table.

    ``spectrum(wl)`` returns the reflectance (0-1) at wavelengths ``wl`` in nm; ``texture`` is how strongly the
    shared texture field modulates this material's brightness (0 = flat); ``group`` is a coarse class used by
    the notebooks (sky, vegetation, ground, water, built, paint).
    """

    id: int
    name: str
    group: str
    comment: str
    spectrum: Callable[[np.ndarray], np.ndarray]
    texture: float


# Each entry: (name, group, texture strength, comment, reflectance shape). Ids are the positions in this list.
# The shapes are smooth caricatures of library spectra (USGS / ASTER style), built to keep the features that matter
# for NIR colorization; edit them and re-render to see what changes.
_TABLE: list[tuple[str, str, float, str, Callable[[np.ndarray], np.ndarray]]] = [
    (
        "sky", "sky", 0.02,
        "Clear-sky radiance relative to the daylight illuminant: Rayleigh scattering (~lambda^-4) plus a little "
        "aerosol (~lambda^-1). Blue and bright in RGB, dim in NIR.",
        lambda wl: 0.55 * (450.0 / wl) ** 4 + 0.22 * (450.0 / wl),
    ),
    (
        "cloud", "sky", 0.06,
        "Water droplets scatter all wavelengths alike: bright, white, nearly flat; slightly lower past 900 nm.",
        lambda wl: 0.82 - 0.06 * logistic(wl, 920.0, 40.0),
    ),
    (
        "foliage", "vegetation", 0.35,
        "Tree leaves: low visible reflectance with the green bump (~550 nm), the chlorophyll dip (~670 nm), the "
        "red edge (~700-730 nm) up to a bright NIR plateau (leaf cell structure), a water dip at ~970 nm.",
        lambda wl: np.clip(
            0.04 + 0.07 * gauss(wl, 550.0, 28.0) - 0.025 * gauss(wl, 670.0, 15.0)
            + 0.46 * logistic(wl, 715.0, 11.0) - 0.06 * gauss(wl, 970.0, 22.0),
            0.005, 1.0,
        ),
    ),
    (
        "grass", "vegetation", 0.28,
        "Grass and crops: like foliage but brighter and yellower in the visible, red edge a little earlier.",
        lambda wl: np.clip(
            0.05 + 0.10 * gauss(wl, 555.0, 32.0) - 0.03 * gauss(wl, 672.0, 15.0)
            + 0.40 * logistic(wl, 710.0, 12.0) - 0.05 * gauss(wl, 970.0, 22.0),
            0.005, 1.0,
        ),
    ),
    (
        "soil", "ground", 0.22,
        "Brown soil: reflectance rising slowly with wavelength, a broad iron-oxide dip near 900 nm.",
        lambda wl: 0.06 + 0.24 * logistic(wl, 610.0, 80.0) - 0.025 * gauss(wl, 900.0, 60.0),
    ),
    (
        "sand", "ground", 0.10,
        "Dry sand: bright, yellowish (rises across the blue-green), high and flat in the NIR.",
        lambda wl: 0.20 + 0.32 * logistic(wl, 520.0, 55.0),
    ),
    (
        "rock", "ground", 0.25,
        "Grey rock (granite-like): nearly flat, slightly brighter towards the NIR.",
        lambda wl: 0.20 + 0.07 * logistic(wl, 650.0, 120.0),
    ),
    (
        "water", "water", 0.08,
        "Deep water: a little blue-green light scattered back, absorbed almost completely in the NIR (dark).",
        lambda wl: 0.012 + 0.055 * gauss(wl, 485.0, 60.0) * (1.0 - logistic(wl, 690.0, 18.0)),
    ),
    (
        "asphalt", "built", 0.12,
        "Asphalt road: dark and almost neutral, rising slightly with wavelength.",
        lambda wl: 0.06 + 0.04 * (wl - 400.0) / 600.0,
    ),
    (
        "concrete", "built", 0.08,
        "Concrete: light grey, slightly warm, flat in the NIR.",
        lambda wl: 0.28 + 0.08 * logistic(wl, 560.0, 80.0),
    ),
    (
        "brick", "built", 0.15,
        "Red brick: iron oxides absorb below ~580 nm, bright orange-red above, an iron dip near 880 nm.",
        lambda wl: 0.07 + 0.30 * logistic(wl, 590.0, 22.0) - 0.05 * gauss(wl, 880.0, 60.0),
    ),
    (
        "bark", "vegetation", 0.25,
        "Tree bark: dark brown, rising into a moderate NIR plateau (no chlorophyll).",
        lambda wl: 0.05 + 0.07 * logistic(wl, 600.0, 60.0) + 0.20 * logistic(wl, 730.0, 30.0),
    ),
    (
        "paint_red", "paint", 0.03,
        "Red dyed/painted surface: absorbs below ~600 nm; NIR reflectance = PAINT_NIR_REFLECTANCE.",
        _painted(lambda wl: 0.05 + 0.72 * logistic(wl, 600.0, 12.0)),
    ),
    (
        "paint_yellow", "paint", 0.03,
        "Yellow dyed/painted surface: absorbs the blue only; same NIR as every paint.",
        _painted(lambda wl: 0.06 + 0.72 * logistic(wl, 510.0, 12.0)),
    ),
    (
        "paint_green", "paint", 0.03,
        "Green dyed/painted surface: a green band like leaves but no red edge; same NIR as every paint.",
        _painted(lambda wl: 0.05 + 0.42 * gauss(wl, 530.0, 35.0)),
    ),
    (
        "paint_blue", "paint", 0.03,
        "Blue dyed/painted surface: reflects below ~500 nm; same NIR as every paint.",
        _painted(lambda wl: 0.05 + 0.50 * gauss(wl, 455.0, 32.0)),
    ),
    (
        "paint_purple", "paint", 0.03,
        "Purple dyed/painted surface: blue and red ends, absorbs the green; same NIR as every paint.",
        _painted(lambda wl: 0.06 + 0.35 * gauss(wl, 430.0, 30.0) + 0.45 * logistic(wl, 640.0, 15.0)),
    ),
]

#: Name -> :class:`Material`, in id order (``list(MATERIALS)[i]`` has id ``i``).
MATERIALS: dict[str, Material] = {
    name: Material(i, name, group, comment, fn, texture)
    for i, (name, group, texture, comment, fn) in enumerate(_TABLE)
}
#: Material names indexed by id (the values of a scene's ``material`` map index this list).
MATERIAL_NAMES: tuple[str, ...] = tuple(MATERIALS)


def material_id(name: str) -> int:
    """Id of a material by name (ValueError listing the table when unknown)."""
    if name not in MATERIALS:
        raise ValueError(f"material {name!r} is unknown; expected one of {', '.join(MATERIAL_NAMES)}")
    return MATERIALS[name].id


def material_spectrum(name: str | int, wavelengths: np.ndarray | None = None) -> np.ndarray:
    """Reflectance of a material (by name or id) sampled at ``wavelengths`` nm (default ``WAVELENGTHS``)."""
    if isinstance(name, (int, np.integer)):
        if not 0 <= int(name) < len(MATERIAL_NAMES):
            raise ValueError(f"material id {name} is out of range; expected 0..{len(MATERIAL_NAMES) - 1}")
        name = MATERIAL_NAMES[int(name)]
    wl = WAVELENGTHS if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    return np.asarray(MATERIALS[MATERIAL_NAMES[material_id(name)]].spectrum(wl), dtype=np.float64) * np.ones_like(wl)


# --------------------------------------------------------------------------------------------------------------
# Light and cameras
# --------------------------------------------------------------------------------------------------------------
def _sample_table(table, wavelengths: np.ndarray) -> np.ndarray:
    """Sample a ``colour`` spectral table at ``wavelengths`` (linear interpolation, zero outside its range)."""
    wl = np.asarray(table.wavelengths, dtype=np.float64)
    values = np.asarray(table.values, dtype=np.float64)
    if values.ndim == 1:
        return np.interp(wavelengths, wl, values, left=0.0, right=0.0)
    return np.stack([np.interp(wavelengths, wl, values[:, k], left=0.0, right=0.0) for k in range(values.shape[1])], 1)


def daylight_illuminant(wavelengths: np.ndarray | None = None) -> np.ndarray:
    """Relative spectral power of daylight on ``wavelengths`` (default ``WAVELENGTHS``), 100 at 560 nm.

    CIE D65 (from ``colour.SDS_ILLUMINANTS['D65']``) is tabulated only up to 780 nm; past it we continue with a
    black body at D65's colour temperature (6504 K), scaled to D65's level over 740-780 nm and cross-faded over
    760-780 nm (a smoothstep), so the curve has no jump where the NIR camera starts to see.
    """
    import colour
    from colour.colorimetry import planck_law

    wl = WAVELENGTHS if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    d65_table = colour.SDS_ILLUMINANTS["D65"]
    d65 = _sample_table(d65_table, wl)
    blackbody = np.asarray(planck_law(wl * 1e-9, BLACKBODY_TEMPERATURE_K), dtype=np.float64)
    ref = np.arange(740.0, 780.0 + 1e-9, 5.0)
    scale = _sample_table(d65_table, ref).mean() / np.asarray(planck_law(ref * 1e-9, BLACKBODY_TEMPERATURE_K)).mean()
    t = np.clip((wl - 760.0) / 20.0, 0.0, 1.0)
    w = t * t * (3.0 - 2.0 * t)  # smoothstep: 0 below 760 nm, 1 from 780 nm on
    spd = (1.0 - w) * d65 + w * scale * blackbody
    return spd * (100.0 / np.interp(560.0, wl, spd)) if wl.min() <= 560.0 <= wl.max() else spd


def rgb_cmfs(wavelengths: np.ndarray | None = None) -> np.ndarray:
    """CIE 1931 2-degree colour-matching functions (x-bar, y-bar, z-bar) as an (N, 3) array, zero past 830 nm.

    These are the "RGB camera": the sRGB image is a fixed linear map of the XYZ they give (see
    :func:`xyz_to_linear_srgb`).
    """
    import colour

    wl = WAVELENGTHS if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    return _sample_table(colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"], wl)


def silicon_response(wavelengths: np.ndarray | None = None) -> np.ndarray:
    """Relative quantum efficiency of a silicon CCD/CMOS sensor (peak 1): a broad hump around 680 nm that falls
    towards 1000 nm as silicon becomes transparent. A smooth approximation, not a datasheet."""
    wl = WAVELENGTHS if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    return np.exp(-(((wl - 680.0) / 260.0) ** 2))


def nir_filter(wavelengths: np.ndarray | None = None, cut_on: float = NIR_CUT_ON_NM) -> np.ndarray:
    """Transmittance of the NIR camera's long-pass filter (50% at ``cut_on`` nm), as on the EPFL cameras."""
    wl = WAVELENGTHS if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    return logistic(wl, cut_on, NIR_CUT_ON_WIDTH_NM)


def nir_response(wavelengths: np.ndarray | None = None) -> np.ndarray:
    """Spectral response of the NIR camera: silicon response x long-pass filter."""
    return silicon_response(wavelengths) * nir_filter(wavelengths)


def camera_responses(wavelengths: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Both cameras on one grid: ``{"wavelengths", "xyz" (N,3 CIE CMFs), "nir" (N,), "illuminant" (N,)}``."""
    wl = WAVELENGTHS if wavelengths is None else np.asarray(wavelengths, dtype=np.float64)
    return {"wavelengths": wl, "xyz": rgb_cmfs(wl), "nir": nir_response(wl), "illuminant": daylight_illuminant(wl)}


# --------------------------------------------------------------------------------------------------------------
# Colorimetry
# --------------------------------------------------------------------------------------------------------------
def spectrum_to_xyz(reflectance: np.ndarray, illuminant: np.ndarray | None = None) -> np.ndarray:
    """CIE XYZ of a reflectance spectrum (on ``WAVELENGTHS``, shape (..., N)) under ``illuminant``.

    Normalised so that a perfect white reflector has Y = 1: XYZ = sum(R E cmf) / sum(E y-bar).
    """
    E = daylight_illuminant() if illuminant is None else np.asarray(illuminant, dtype=np.float64)
    cmf = rgb_cmfs()
    R = np.asarray(reflectance, dtype=np.float64)
    if R.shape[-1] != len(WAVELENGTHS):
        raise ValueError(f"reflectance must have {len(WAVELENGTHS)} samples (WAVELENGTHS) on its last axis, "
                         f"got shape {R.shape}")
    return (R * E) @ cmf / float(E @ cmf[:, 1])


def xyz_to_chromaticity(xyz: np.ndarray) -> np.ndarray:
    """CIE xy chromaticity of XYZ values (..., 3) -> (..., 2)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    return xyz[..., :2] / xyz.sum(-1, keepdims=True)


@lru_cache(maxsize=1)
def _xyz_to_srgb_matrix() -> np.ndarray:
    import colour

    return np.asarray(colour.RGB_COLOURSPACES["sRGB"].matrix_XYZ_to_RGB, dtype=np.float64)


def xyz_to_linear_srgb(xyz: np.ndarray) -> np.ndarray:
    """Linear sRGB (D65 white -> 1, 1, 1) of XYZ values (..., 3), using ``colour``'s sRGB matrix; no clipping."""
    return np.asarray(xyz, dtype=np.float64) @ _xyz_to_srgb_matrix().T


def srgb_encode(linear):
    """The sRGB transfer function (IEC 61966-2-1): linear [0, 1] -> encoded [0, 1] (input clipped to [0, 1]).

    Float32 input stays float32 (the renderer's hot path: one power, a few in-place passes).
    """
    x = np.asarray(np.clip(linear, 0.0, 1.0))
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    out = np.empty_like(x)
    np.power(x, 1.0 / 2.4, out=out)
    out *= 1.055
    out -= 0.055
    np.copyto(out, x * 12.92, where=x <= 0.0031308)
    return out


def srgb_decode(encoded):
    """Inverse of :func:`srgb_encode`: encoded [0, 1] -> linear [0, 1]."""
    x = np.clip(encoded, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, np.power((np.maximum(x, 0.04045) + 0.055) / 1.055, 2.4))


def reflectance_to_rgb_nir(reflectance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the two cameras see of a reflectance spectrum (..., N) under daylight.

    Returns ``(linear_srgb (..., 3), nir (...))``, both scaled so that a perfect white reflector gives 1: the NIR
    value is sum(R E S_nir) / sum(E S_nir) with S_nir = :func:`nir_response`.
    """
    E = daylight_illuminant()
    rgb = xyz_to_linear_srgb(spectrum_to_xyz(reflectance, E))
    weights = E * nir_response()
    nir = np.asarray(reflectance, dtype=np.float64) @ weights / weights.sum()
    return rgb, nir


@lru_cache(maxsize=1)
def _material_responses_cached() -> np.ndarray:
    spectra = np.stack([material_spectrum(name) for name in MATERIAL_NAMES])
    rgb, nir = reflectance_to_rgb_nir(spectra)
    # Out-of-gamut colours (saturated paints) can have a slightly negative linear sRGB channel; clip them into the
    # gamut (a tiny positive floor keeps per-pixel ratios well defined for the tests and the notebooks).
    rgb = np.clip(rgb, 1e-4, None)
    out = np.concatenate([rgb, nir[:, None]], 1).astype(np.float32)
    out.setflags(write=False)
    return out


def material_responses() -> np.ndarray:
    """(M, 4) float32: linear sRGB (R, G, B) and NIR of each material (row = material id), white reflector = 1.

    This is the "precompute once" step: spectra x illuminant x camera -> 4 numbers per material. The renderer
    multiplies a row by shading x texture per pixel, which is why scenes render fast.
    """
    return _material_responses_cached().copy()


def material_colors() -> dict[str, dict]:
    """Per material: ``{"id", "group", "srgb" (3 floats, display-encoded 0-1), "nir" (encoded 0-1),
    "rgb_linear", "nir_linear"}``, all under daylight, unexposed (a white reflector would be 1)."""
    resp = _material_responses_cached()
    out = {}
    for name in MATERIAL_NAMES:
        m = MATERIALS[name]
        lin = resp[m.id].astype(np.float64)
        out[name] = {
            "id": m.id,
            "group": m.group,
            "srgb": tuple(float(v) for v in srgb_encode(lin[:3])),
            "nir": float(srgb_encode(lin[3])),
            "rgb_linear": tuple(float(v) for v in lin[:3]),
            "nir_linear": float(lin[3]),
        }
    return out
