"""Real NIR/RGB datasets on disk (VCIP 2020, EPFL RGB-NIR Scene, any paired folder) and the grayscale domain.

Every dataset here yields the same item format as :class:`~course_lib.data.scenes.SpectralScenes` (minus the
material map): ``{"nir": FloatTensor[1,H,W], "rgb": FloatTensor[3,H,W]`` in [-1, 1], ``"name": str}``, so the
training code never cares where pairs came from.

Accepted layouts (folder names are matched case-insensitively; images are .png/.jpg/.jpeg/.tif/.tiff/.bmp,
8- or 16-bit):

- **PairedFolder** ``root/nir/NAME.ext`` + ``root/rgb/NAME.ext`` (a trailing ``_nir``/``_rgb`` in NAME is
  ignored when matching), or a flat folder of ``NAME_nir.ext`` + ``NAME_rgb.ext``. ``make_data`` writes the first.
- **VCIP2020** (Grand Challenge on NIR-to-RGB translation, 372 train / 28 test pairs): either
  ``root/{train,val,test}/{nir,rgb}/NAME.ext`` or, as the challenge shipped it,
  ``root/{Training,Validation,Testing}/NNNN_nir.png`` + ``NNNN_rgb.png`` (either layout inside each split folder).
- **EPFLNirScene** (nirscene1, Brown & Süsstrunk, CVPR 2011): ``root/<category>/NNNN_nir.tiff`` +
  ``NNNN_rgb.tiff`` for the categories country, field, forest, indoor, mountain, oldbuilding, street, urban,
  water (``root`` may also be the folder *containing* ``nirscene1/``). A copy with only some categories loads
  what is there. Split: within each category, files sorted by name, every 5th (positions 4, 9, 14, ...) is
  "test", the rest "train"; "all" is every pair.

Rules: a 3-channel NIR file is reduced to its channel mean (identical to the first channel when the channels are
replicated, as they usually are); an RGB file must have 3 channels. Pairing is checked when the dataset is built
(a NIR file without its RGB partner, or the reverse, is an error naming the file); readability and matching sizes
are checked when an item is loaded. Hidden files (names starting with ".") are ignored; any other non-image file
inside an image folder is an error, never silently skipped. Images of any size are returned as stored: resizing
and cropping is the transforms' job (``Resize``, ``PairAugment``).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .io import IMAGE_EXTENSIONS, load_image
from .transforms import Resize, to_gray

__all__ = [
    "PairedFolder",
    "VCIP2020",
    "EPFLNirScene",
    "EPFL_CATEGORIES",
    "UnpairedGray",
    "PairedGray",
    "open_dataset",
    "find_pairs",
]

EPFL_CATEGORIES = ("country", "field", "forest", "indoor", "mountain", "oldbuilding", "street", "urban", "water")
VCIP_SPLITS = {"train": ("train", "training"), "val": ("val", "validation"), "test": ("test", "testing")}
_SUFFIX = re.compile(r"^(?P<stem>.+?)[_\-](?P<band>nir|rgb)$", re.IGNORECASE)

PAIRED_LAYOUT_HELP = "ROOT/nir/NAME.png + ROOT/rgb/NAME.png (or a flat folder of NAME_nir.png + NAME_rgb.png)"
VCIP_LAYOUT_HELP = ("ROOT/{train,test}/{nir,rgb}/NAME.png, or ROOT/{Training,Validation,Testing}/NNNN_nir.png + "
                    "NNNN_rgb.png")
EPFL_LAYOUT_HELP = ("ROOT/<category>/NNNN_nir.tiff + NNNN_rgb.tiff with categories " + ", ".join(EPFL_CATEGORIES)
                    + " (ROOT may also contain nirscene1/)")


# --------------------------------------------------------------------------------------------------------------
# Finding pairs
# --------------------------------------------------------------------------------------------------------------
def _child(folder: Path, *names: str) -> Path | None:
    """The sub-folder of ``folder`` whose name matches one of ``names`` case-insensitively (first match)."""
    wanted = [n.lower() for n in names]
    found = {p.name.lower(): p for p in sorted(folder.iterdir()) if p.is_dir()}
    for n in wanted:
        if n in found:
            return found[n]
    return None


def _image_files(folder: Path) -> list[Path]:
    """Image files of a folder, sorted; a non-image, non-hidden file is an error (never silently skipped)."""
    files = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.is_dir():
            continue
        if p.suffix.lower() not in IMAGE_EXTENSIONS:
            raise ValueError(f"unexpected file {p}: expected only images ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
        files.append(p)
    return files


def _index_by_stem(files: list[Path], folder: Path, band: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in files:
        m = _SUFFIX.match(p.stem)
        stem = m.group("stem") if m and m.group("band").lower() == band else p.stem
        if stem in out:
            raise ValueError(f"two {band.upper()} files for the name {stem!r} in {folder}: {out[stem].name} and "
                             f"{p.name}; expected one file per name")
        out[stem] = p
    return out


def _match(nir: dict[str, Path], rgb: dict[str, Path], where: Path) -> list[tuple[str, Path, Path]]:
    lonely_nir = sorted(set(nir) - set(rgb))
    lonely_rgb = sorted(set(rgb) - set(nir))
    if lonely_nir:
        raise ValueError(f"NIR file {nir[lonely_nir[0]]} has no RGB partner in {where}"
                         + (f" (and {len(lonely_nir) - 1} more NIR files without one)" if len(lonely_nir) > 1 else "")
                         + "; expected an RGB image with the same name")
    if lonely_rgb:
        raise ValueError(f"RGB file {rgb[lonely_rgb[0]]} has no NIR partner in {where}"
                         + (f" (and {len(lonely_rgb) - 1} more RGB files without one)" if len(lonely_rgb) > 1 else "")
                         + "; expected a NIR image with the same name")
    return [(name, nir[name], rgb[name]) for name in sorted(nir)]


def find_pairs(folder: str | Path) -> list[tuple[str, Path, Path]]:
    """``(name, nir_path, rgb_path)`` for every pair in ``folder``, sorted by name.

    Accepts ``folder/{nir,rgb}/NAME.ext`` or a flat ``folder/NAME_nir.ext`` + ``NAME_rgb.ext``. Raises
    FileNotFoundError for a missing folder or one without any pair, ValueError for unpaired or unexpected files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist; expected {PAIRED_LAYOUT_HELP}")
    nir_dir, rgb_dir = _child(folder, "nir"), _child(folder, "rgb")
    if nir_dir is not None or rgb_dir is not None:
        if nir_dir is None or rgb_dir is None:
            have, missing = ("nir", "rgb") if nir_dir is not None else ("rgb", "nir")
            raise FileNotFoundError(f"{folder} has a {have}/ folder but no {missing}/ folder; expected "
                                    f"{PAIRED_LAYOUT_HELP}")
        pairs = _match(_index_by_stem(_image_files(nir_dir), nir_dir, "nir"),
                       _index_by_stem(_image_files(rgb_dir), rgb_dir, "rgb"), folder)
    else:
        nir: dict[str, Path] = {}
        rgb: dict[str, Path] = {}
        for p in _image_files(folder):
            m = _SUFFIX.match(p.stem)
            if m is None:
                raise ValueError(f"file {p} is neither NAME_nir nor NAME_rgb; expected {PAIRED_LAYOUT_HELP}")
            target = nir if m.group("band").lower() == "nir" else rgb
            stem = m.group("stem")
            if stem in target:
                raise ValueError(f"two files for the name {stem!r} in {folder}: {target[stem].name} and {p.name}")
            target[stem] = p
        pairs = _match(nir, rgb, folder)
    if not pairs:
        raise FileNotFoundError(f"no NIR/RGB image pairs found in {folder}; expected {PAIRED_LAYOUT_HELP}")
    return pairs


# --------------------------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------------------------
class _PairDataset(Dataset):
    """A list of (name, nir_path, rgb_path) loaded lazily into the common item format."""

    def __init__(self, pairs: Sequence[tuple[str, Path, Path]], transform: Callable[[dict], dict] | None):
        self.pairs = list(pairs)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.pairs]

    def load_pair(self, index: int) -> dict:
        """The untransformed item ``index`` (reads both files, checks channels and sizes)."""
        name, nir_path, rgb_path = self.pairs[index]
        nir = load_image(nir_path)
        rgb = load_image(rgb_path)
        if nir.shape[0] == 3:
            nir = nir.mean(0, keepdim=True)  # replicated 3-channel NIR: the mean equals each channel
        if rgb.shape[0] != 3:
            raise ValueError(f"RGB file {rgb_path} has {rgb.shape[0]} channel(s); expected 3 (colour)")
        if nir.shape[-2:] != rgb.shape[-2:]:
            raise ValueError(f"pair {name!r}: NIR file {nir_path} is {nir.shape[-2]}x{nir.shape[-1]} but RGB file "
                             f"{rgb_path} is {rgb.shape[-2]}x{rgb.shape[-1]}; expected the same size")
        return {"nir": nir, "rgb": rgb, "name": name}

    def __getitem__(self, index: int) -> dict:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {type(self).__name__} of length {len(self)}")
        item = self.load_pair(index % len(self))
        return self.transform(item) if self.transform is not None else item


class PairedFolder(_PairDataset):
    """A folder of NIR/RGB pairs matched by name: ``root/nir/NAME.ext`` + ``root/rgb/NAME.ext`` (the layout
    ``make_data`` writes), or a flat folder of ``NAME_nir.ext`` + ``NAME_rgb.ext``. See the module docstring."""

    def __init__(self, root: str | Path, transform: Callable[[dict], dict] | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"dataset root {self.root} does not exist; expected {PAIRED_LAYOUT_HELP}")
        super().__init__(find_pairs(self.root), transform)

    def __repr__(self) -> str:
        return f"PairedFolder({str(self.root)!r}, {len(self)} pairs)"


class VCIP2020(_PairDataset):
    """The VCIP 2020 Grand Challenge NIR-to-RGB dataset (372 training, 28 test pairs at 256x256; Section III.A).

    ``split`` in {"train", "val", "test"}; the split folder is ``train``/``Training``, ``val``/``Validation``,
    ``test``/``Testing`` (any case) and holds either ``nir/`` + ``rgb/`` sub-folders or ``NNNN_nir.png`` +
    ``NNNN_rgb.png`` files. The pair counts are not enforced (a partial copy loads).
    """

    def __init__(self, root: str | Path, split: str = "train", transform: Callable[[dict], dict] | None = None):
        self.root = Path(root)
        if split == "validation":
            split = "val"
        if split not in VCIP_SPLITS:
            raise ValueError(f"split must be one of 'train', 'val', 'test' for VCIP2020, got {split!r}")
        if not self.root.is_dir():
            raise FileNotFoundError(f"VCIP2020 root {self.root} does not exist; expected {VCIP_LAYOUT_HELP}")
        folder = _child(self.root, *VCIP_SPLITS[split])
        if folder is None:
            subdirs = sorted(p.name for p in self.root.iterdir() if p.is_dir())
            raise FileNotFoundError(f"VCIP2020 root {self.root} has no {' or '.join(VCIP_SPLITS[split])} folder for "
                                    f"split {split!r} (found: {subdirs or 'no folders'}); expected {VCIP_LAYOUT_HELP}")
        self.split = split
        super().__init__(find_pairs(folder), transform)

    def __repr__(self) -> str:
        return f"VCIP2020({str(self.root)!r}, split={self.split!r}, {len(self)} pairs)"


class EPFLNirScene(_PairDataset):
    """The EPFL RGB-NIR Scene dataset (nirscene1; 477 pairs in 9 categories; Brown & Süsstrunk, CVPR 2011).

    ``split``: "all" (every pair), "train" or "test": within each category, files sorted by name, every 5th
    (positions 4, 9, 14, ...) is test -- deterministic, balanced over categories, about 1/5 of the pairs. Item
    names are ``"category/NNNN"``. Only the category folders are read; other entries at the root are reported
    with a warning. Images are full size (about 1024x680): pass a transform (``Resize``, ``PairAugment``).
    """

    def __init__(self, root: str | Path, split: str = "all", transform: Callable[[dict], dict] | None = None):
        self.root = Path(root)
        if split not in ("all", "train", "test"):
            raise ValueError(f"split must be 'all', 'train' or 'test' for EPFLNirScene, got {split!r}")
        if not self.root.is_dir():
            raise FileNotFoundError(f"EPFL root {self.root} does not exist; expected {EPFL_LAYOUT_HELP}")
        base = self.root
        if not _epfl_categories(base):
            inner = _child(base, "nirscene1")
            if inner is not None:
                base = inner
        categories = _epfl_categories(base)
        if not categories:
            raise FileNotFoundError(f"EPFL root {self.root} holds none of the category folders; expected "
                                    f"{EPFL_LAYOUT_HELP}")
        known = {p.resolve() for p in categories.values()}
        others = sorted(p.name for p in base.iterdir() if not p.name.startswith(".") and p.resolve() not in known)
        if others:
            warnings.warn(f"EPFLNirScene: ignoring entries of {base} that are not category folders: {others}",
                          stacklevel=2)
        pairs = []
        for category, folder in categories.items():
            found = find_pairs(folder)
            for i, (name, nir_path, rgb_path) in enumerate(found):
                is_test = i % 5 == 4
                if split == "all" or (split == "test") == is_test:
                    pairs.append((f"{category}/{name}", nir_path, rgb_path))
        self.split, self.base = split, base
        self.categories = tuple(categories)
        super().__init__(pairs, transform)

    def __repr__(self) -> str:
        return f"EPFLNirScene({str(self.root)!r}, split={self.split!r}, {len(self)} pairs)"


def _epfl_categories(folder: Path) -> dict[str, Path]:
    found = {p.name.lower(): p for p in sorted(folder.iterdir()) if p.is_dir()}
    return {c: found[c] for c in EPFL_CATEGORIES if c in found}


# --------------------------------------------------------------------------------------------------------------
# The grayscale domain
# --------------------------------------------------------------------------------------------------------------
class PairedGray(Dataset):
    """Adds ``"gray"`` = ``to_gray(rgb)`` (the paired grayscale image Y_G of the pair) to every item."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        item = dict(self.dataset[index])
        item["gray"] = to_gray(item["rgb"])
        return item


class UnpairedGray(Dataset):
    """The unpaired grayscale pool X_G of the translation stage (Eq. (1)): item ``i`` is the gray of a
    *different* image of ``dataset``.

    The partner of ``i`` follows one random cycle through all indices (fixed by ``seed``), so every image is used
    exactly once and never for its own index. Items: ``{"gray": FloatTensor[1,H,W], "name": partner's name}``.
    """

    def __init__(self, dataset: Dataset, seed: int = 0):
        n = len(dataset)
        if n < 2:
            raise ValueError(f"UnpairedGray needs a dataset of at least 2 images, got {n}")
        self.dataset = dataset
        order = np.random.default_rng(seed).permutation(n)
        self.partner = np.empty(n, dtype=np.int64)
        self.partner[order] = np.roll(order, -1)  # order[k] -> order[k+1]: a single n-cycle, no fixed point

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        item = self.dataset[int(self.partner[index])]
        return {"gray": to_gray(item["rgb"]), "name": item["name"]}


# --------------------------------------------------------------------------------------------------------------
# One entry point
# --------------------------------------------------------------------------------------------------------------
def detect_layout(root: str | Path) -> str:
    """"paired", "vcip2020" or "epfl" for a dataset folder; FileNotFoundError / ValueError naming it otherwise."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root {root} does not exist")
    if _child(root, "nir") is not None or _child(root, "rgb") is not None:
        return "paired"
    if any(_child(root, *names) is not None for names in VCIP_SPLITS.values()):
        return "vcip2020"
    if _epfl_categories(root) or _child(root, "nirscene1") is not None:
        return "epfl"
    if any(_SUFFIX.match(p.stem) for p in root.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS):
        return "paired"
    raise ValueError(f"cannot tell the dataset layout of {root}; expected one of: PairedFolder {PAIRED_LAYOUT_HELP}; "
                     f"VCIP2020 {VCIP_LAYOUT_HELP}; EPFL {EPFL_LAYOUT_HELP}")


def open_dataset(root_or_None: str | Path | None = None, kind: str = "auto", split: str = "train",
                 size: int | None = 64, count: int = 64, seed: int = 0,
                 transform: Callable[[dict], dict] | None = None, **options: Any) -> Dataset:
    """Open the course's data: rendered scenes when ``root_or_None`` is None, else a dataset folder.

    ``kind``: "auto" (detect the layout; see :func:`detect_layout`), "paired", "vcip2020", "epfl" or "spectral".
    ``split`` is used by VCIP2020 ("train"/"val"/"test") and EPFL ("train"/"test"/"all"); for spectral scenes,
    "test" and "val" render other seeds (``seed + 1_000_003``, ``seed + 2_000_003``) so the splits never share a
    scene. ``size`` and
    ``count`` size the rendered scenes; for folders, when ``transform`` is None, items are made
    ``size`` x ``size`` with :class:`Resize` (so batches stack) unless ``size`` is None (native size).
    ``options`` go to ``SpectralScenes``.
    """
    from .scenes import SpectralScenes

    kinds = ("auto", "paired", "vcip2020", "epfl", "spectral")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {', '.join(kinds)}, got {kind!r}")
    if root_or_None is None or kind == "spectral":
        if size is None:
            raise ValueError("size must be an integer for spectral scenes, got None")
        scene_seed = seed + {"test": 1_000_003, "val": 2_000_003, "validation": 2_000_003}.get(split, 0)
        return SpectralScenes(size=size, count=count, seed=scene_seed, transform=transform, **options)
    root = Path(root_or_None)
    if kind == "auto":
        kind = detect_layout(root)
    if transform is None and size is not None:
        transform = Resize(size)
    if kind == "paired":
        return PairedFolder(root, transform=transform)
    if kind == "vcip2020":
        return VCIP2020(root, split=split, transform=transform)
    return EPFLNirScene(root, split=split, transform=transform)
