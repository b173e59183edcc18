"""Data for the NIR colorization course: rendered NIR/RGB scenes, the paper's real datasets, the grayscale
domain, the paper's augmentation, and download helpers.

Every dataset yields items ``{"nir": FloatTensor[1,H,W], "rgb": FloatTensor[3,H,W]}`` in [-1, 1] plus
``"name"`` (rendered scenes add ``"material"``: LongTensor[H,W] ids into ``MATERIALS``).

- ``SpectralScenes`` / ``render_scene`` (scenes.py) and the physics behind them (spectra.py): the offline default.
- ``PairedFolder``, ``VCIP2020``, ``EPFLNirScene``, ``open_dataset`` (folders.py): the datasets of Section III.
- ``to_gray``, ``PairedGray``, ``UnpairedGray``: the grayscale domain X_G (Fig. 1).
- ``PairAugment``, ``Resize``, ``CenterCrop`` (transforms.py): Section III.A's augmentation, evaluation resizing.
- ``sample_pairs`` (bundled.py): three real VCIP 2020 photo pairs shipped inside the package (no download).
- ``make_data`` (generate.py), ``download`` (VCIP 2020 / EPFL, verified and resumable) and ``safe_extract``
  (download.py), ``load_image``/``save_image`` (io.py).
"""

from .bundled import sample_pairs
from .download import (
    DATASETS,
    DatasetUnavailable,
    ManifestEntry,
    download,
    download_epfl,
    download_vcip2020,
    manifest_path,
    read_manifest,
    safe_extract,
    sha256_of,
)
from .folders import (
    EPFL_CATEGORIES,
    EPFLNirScene,
    PairedFolder,
    PairedGray,
    UnpairedGray,
    VCIP2020,
    detect_layout,
    find_pairs,
    open_dataset,
)
from .generate import make_data
from .io import IMAGE_EXTENSIONS, load_image, save_image, tensor_to_uint8
from .scenes import SceneConfig, SpectralScenes, render_scene, scene_name
from .spectra import (
    MATERIAL_NAMES,
    MATERIALS,
    WAVELENGTHS,
    Material,
    camera_responses,
    daylight_illuminant,
    material_colors,
    material_id,
    material_responses,
    material_spectrum,
    nir_filter,
    nir_response,
    reflectance_to_rgb_nir,
    rgb_cmfs,
    silicon_response,
    spectrum_to_xyz,
    srgb_decode,
    srgb_encode,
    xyz_to_chromaticity,
    xyz_to_linear_srgb,
)
from .transforms import BT601_WEIGHTS, CenterCrop, PairAugment, Resize, to_gray

__all__ = [
    "SpectralScenes", "SceneConfig", "render_scene", "scene_name", "make_data",
    "MATERIALS", "MATERIAL_NAMES", "Material", "WAVELENGTHS", "material_spectrum", "material_id",
    "daylight_illuminant", "rgb_cmfs", "silicon_response", "nir_filter", "nir_response", "camera_responses",
    "spectrum_to_xyz", "xyz_to_linear_srgb", "xyz_to_chromaticity", "srgb_encode", "srgb_decode",
    "reflectance_to_rgb_nir", "material_responses", "material_colors",
    "sample_pairs",
    "PairedFolder", "VCIP2020", "EPFLNirScene", "EPFL_CATEGORIES", "open_dataset", "detect_layout", "find_pairs",
    "to_gray", "BT601_WEIGHTS", "PairedGray", "UnpairedGray",
    "PairAugment", "Resize", "CenterCrop",
    "download", "download_vcip2020", "download_epfl", "read_manifest", "manifest_path", "ManifestEntry",
    "safe_extract", "sha256_of", "DATASETS", "DatasetUnavailable",
    "load_image", "save_image", "tensor_to_uint8", "IMAGE_EXTENSIONS",
]
