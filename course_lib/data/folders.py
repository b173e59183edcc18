"""Real NIR/RGB datasets on disk (VCIP 2020, EPFL RGB-NIR Scene, any paired folder) and the grayscale domain.

Every dataset here yields the same item format as :class:`~course_lib.data.scenes.SpectralScenes` (minus the
material map): ``{"nir": FloatTensor[1,H,W], "rgb": FloatTensor[3,H,W]`` in [-1, 1], ``"name": str}``, so the
training code never cares where pairs came from.

Accepted layouts (folder names are matched case-insensitively; images are .png/.jpg/.jpeg/.tif/.tiff/.bmp,
8- or 16-bit):

- **PairedFolder** ``root/nir/NAME.ext`` + ``root/rgb/NAME.ext`` (the RGB folder may also be called
  ``RGB-Registered``), or a flat folder of ``NAME_nir.ext`` + ``NAME_rgb.ext``. ``make_data`` writes the first.
- **VCIP2020** (Grand Challenge on NIR-to-RGB translation: 372 train / 18 validation / 28 test pairs at 256 px),
  as the challenge distributes it (see data/README.md)::

      root/NIR/country_0000_nir.png             + root/RGB-Registered/country_0000_rgb_reg.png   split "train"
      root/Validation/validation_0000_nir.png   + validation_0000_rgb_reg.png                    split "val"
      root/Testing/testing_0001_nir_reg.png     + Testing_0001_rgb_reg.png                       split "test"

  ``root`` may also be the folder holding ``datasets/`` (a clone of the challenge mirror). Older or
  re-packaged copies load too: ``root/{train,val,test}/{nir,rgb}/NAME.ext`` or
  ``root/{Training,Validation,Testing}/NNNN_nir.png`` + ``NNNN_rgb.png``.
- **EPFLNirScene** (nirscene1, Brown & Süsstrunk, CVPR 2011, 477 pairs): ``root/<category>/NNNN_nir.tiff`` +
  ``NNNN_rgb.tiff`` for the categories country, field, forest, indoor, mountain, oldbuilding, street, urban,
  water (``root`` may also be the folder *containing* ``nirscene1/``, as the archive unpacks). A copy with only
  some categories loads what is there. Split: within each category, files sorted by name, every 5th
  (positions 4, 9, 14, ...) is "test", the rest "train"; "all" is every pair.

Matching NIR to RGB: the band suffix ``_nir`` / ``_rgb`` (also ``-nir``, and followed by an optional ``_reg``)
is removed and the rest compared case-insensitively, so ``testing_0001_nir_reg.png`` pairs with
``Testing_0001_rgb_reg.png``; the item name is the NIR file's (``testing_0001``).

Rules: a 3-channel NIR file is reduced to its channel mean (identical to the first channel when the channels are
replicated, as they usually are); an RGB file must have 3 channels. Pairing is checked when the dataset is built
(a NIR file without its RGB partner, or the reverse, is an error naming the file and the partner it looked
for); readability and matching sizes are checked when an item is loaded. A file that is not an image (a stray
``test_options.py``, ``Thumbs.db``, ``.DS_Store``, a README, macOS ``._*`` shadow files) is skipped with one
warning per folder that names it; sub-folders inside an image folder (such as VCIP's ``Testing/visual/``) are
not part of the dataset. Images of any size are returned as stored: resizing and cropping is the transforms'
job (``Resize``, ``PairAugment``).
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
#: Names accepted for the RGB sub-folder of a paired layout (VCIP 2020 ships ``RGB-Registered/``).
RGB_FOLDERS = ("rgb", "rgb-registered", "rgb_registered", "rgb-reg", "rgb_reg")
#: ``NAME_nir`` / ``NAME_rgb``, optionally followed by ``_reg`` (VCIP 2020's registered files).
_SUFFIX = re.compile(r"^(?P<stem>.+?)[_\-](?P<band>nir|rgb)(?:[_\-]reg(?:istered)?)?$", re.IGNORECASE)

PAIRED_LAYOUT_HELP = "ROOT/nir/NAME.png + ROOT/rgb/NAME.png (or a flat folder of NAME_nir.png + NAME_rgb.png)"
VCIP_LAYOUT_HELP = ("ROOT/NIR/NAME_nir.png + ROOT/RGB-Registered/NAME_rgb_reg.png (train), "
                    "ROOT/Validation/validation_NNNN_nir.png + validation_NNNN_rgb_reg.png (val), "
                    "ROOT/Testing/testing_NNNN_nir_reg.png + Testing_NNNN_rgb_reg.png (test), as the challenge "
                    "distributes it (or ROOT/{train,val,test}/{nir,rgb}/NAME.png)")
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
    """Image files of a folder, sorted. Anything else (a stray ``.py``, ``Thumbs.db``, ``.DS_Store``, a README,
    macOS ``._NAME`` shadow files) is skipped with one warning naming every skipped file; sub-folders are ignored."""
    files, skipped = [], []
    for p in sorted(folder.iterdir()):
        if p.is_dir():
            continue
        if p.name.startswith(".") or p.suffix.lower() not in IMAGE_EXTENSIONS:
            skipped.append(p.name)
            continue
        files.append(p)
    if skipped:
        warnings.warn(f"skipping {len(skipped)} file(s) in {folder} that are not images "
                      f"({', '.join(IMAGE_EXTENSIONS)}): {', '.join(skipped)}", stacklevel=3)
    return files


def _split_band(path: Path) -> tuple[str, str] | None:
    """``(stem, band)`` of ``NAME_nir[_reg].ext`` / ``NAME_rgb[_reg].ext``; None for other names."""
    m = _SUFFIX.match(path.stem)
    return (m.group("stem"), m.group("band").lower()) if m else None


def _index_by_stem(files: list[Path], folder: Path, band: str) -> dict[str, Path]:
    """Files of one band's folder keyed by their case-folded name without the band suffix."""
    out: dict[str, Path] = {}
    for p in files:
        split = _split_band(p)
        stem = split[0] if split and split[1] == band else p.stem
        key = stem.casefold()
        if key in out:
            raise ValueError(f"two {band.upper()} files for the name {stem!r} in {folder}: {out[key].name} and "
                             f"{p.name}; expected one file per name")
        out[key] = p
    return out


def _display_name(path: Path) -> str:
    split = _split_band(path)
    return split[0] if split else path.stem


def _match(nir: dict[str, Path], rgb: dict[str, Path], where: Path) -> list[tuple[str, Path, Path]]:
    lonely_nir = sorted(set(nir) - set(rgb))
    lonely_rgb = sorted(set(rgb) - set(nir))
    if lonely_nir:
        p = nir[lonely_nir[0]]
        raise ValueError(f"NIR file {p} has no RGB partner in {where}"
                         + (f" (and {len(lonely_nir) - 1} more NIR files without one)" if len(lonely_nir) > 1 else "")
                         + f"; expected an RGB image named like {_display_name(p)}_rgb{p.suffix} "
                           "(case and a trailing _reg do not matter)")
    if lonely_rgb:
        p = rgb[lonely_rgb[0]]
        raise ValueError(f"RGB file {p} has no NIR partner in {where}"
                         + (f" (and {len(lonely_rgb) - 1} more RGB files without one)" if len(lonely_rgb) > 1 else "")
                         + f"; expected a NIR image named like {_display_name(p)}_nir{p.suffix} "
                           "(case and a trailing _reg do not matter)")
    return [(_display_name(nir[key]), nir[key], rgb[key]) for key in sorted(nir)]


def find_pairs(folder: str | Path) -> list[tuple[str, Path, Path]]:
    """``(name, nir_path, rgb_path)`` for every pair in ``folder``, sorted by name.

    Accepts ``folder/{nir,rgb}/NAME.ext`` or a flat ``folder/NAME_nir.ext`` + ``NAME_rgb.ext``. Raises
    FileNotFoundError for a missing folder or one without any pair, ValueError for unpaired or unexpected files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist; expected {PAIRED_LAYOUT_HELP}")
    nir_dir, rgb_dir = _child(folder, "nir"), _child(folder, *RGB_FOLDERS)
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
            split = _split_band(p)
            if split is None:
                raise ValueError(f"file {p} is neither NAME_nir nor NAME_rgb (optionally followed by _reg); "
                                 f"expected {PAIRED_LAYOUT_HELP}")
            stem, band = split
            target = nir if band == "nir" else rgb
            if stem.casefold() in target:
                raise ValueError(f"two {band.upper()} files for the name {stem!r} in {folder}: "
                                 f"{target[stem.casefold()].name} and {p.name}")
            target[stem.casefold()] = p
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
    """The VCIP 2020 Grand Challenge NIR-to-RGB dataset (372 training, 18 validation, 28 test pairs at 256x256;
    Section III.A), read in the layout the challenge distributes (see the module docstring and data/README.md).

    ``split`` in {"train", "val", "test"}. Train is ``root/NIR/`` + ``root/RGB-Registered/`` (or a ``train`` /
    ``Training`` folder), val is ``root/Validation/``, test is ``root/Testing/`` (its ``visual/`` sub-folder of
    other pictures is not part of the test set). The pair counts are not enforced (a partial copy loads); each
    split's count is in ``EXPECTED_PAIRS``.

    Overlaps as distributed (byte-identical files; see data/README.md): 8 of the 28 test pairs are also training
    pairs, and 15 of the 18 validation pairs are test pairs. ``exclude_train_overlap=True`` drops every pair of a
    val/test split whose NIR and RGB files are byte-identical to a training pair's (it needs the training split
    on disk), which leaves the 20 test pairs a model trained on the 372 has never seen.
    """

    EXPECTED_PAIRS = {"train": 372, "val": 18, "test": 28}

    def __init__(self, root: str | Path, split: str = "train", transform: Callable[[dict], dict] | None = None,
                 exclude_train_overlap: bool = False):
        self.root = Path(root)
        if split == "validation":
            split = "val"
        if split not in VCIP_SPLITS:
            raise ValueError(f"split must be one of 'train', 'val', 'test' for VCIP2020, got {split!r}")
        if not self.root.is_dir():
            raise FileNotFoundError(f"VCIP2020 root {self.root} does not exist; expected {VCIP_LAYOUT_HELP}")
        self.base = _vcip_base(self.root)
        self.split = split
        pairs = find_pairs(_vcip_split_folder(self.base, split, self.root))
        self.excluded: list[str] = []
        if exclude_train_overlap and split != "train":
            train = {_pair_digest(n, r): name
                     for name, n, r in find_pairs(_vcip_split_folder(self.base, "train", self.root))}
            kept = []
            for pair in pairs:
                (self.excluded if _pair_digest(pair[1], pair[2]) in train else kept).append(pair)
            pairs = kept
        super().__init__(pairs, transform)

    def __repr__(self) -> str:
        return f"VCIP2020({str(self.root)!r}, split={self.split!r}, {len(self)} pairs)"


def _vcip_base(root: Path) -> Path:
    """``root`` itself, or its ``datasets/`` sub-folder when ``root`` is a clone of the challenge mirror."""
    inner = _child(root, "datasets")
    if inner is not None and not any(_child(root, *names) for names in VCIP_SPLITS.values()) \
            and _child(root, "nir") is None:
        return inner
    return root


def _vcip_split_folder(base: Path, split: str, root: Path) -> Path:
    folder = _child(base, *VCIP_SPLITS[split])
    if folder is not None:
        return folder
    if split == "train" and _child(base, "nir") is not None and _child(base, *RGB_FOLDERS) is not None:
        return base  # as distributed: NIR/ + RGB-Registered/ at the root are the training pairs
    subdirs = sorted(p.name for p in base.iterdir() if p.is_dir())
    wanted = {"train": "NIR/ + RGB-Registered/ (or train/, Training/)", "val": "Validation/ (or val/)",
              "test": "Testing/ (or test/)"}[split]
    raise FileNotFoundError(f"VCIP2020 root {root} has no {wanted} folder for split {split!r} (found: "
                            f"{subdirs or 'no folders'}); expected {VCIP_LAYOUT_HELP}")


def _pair_digest(nir_path: Path, rgb_path: Path) -> tuple[str, str]:
    import hashlib

    return (hashlib.sha256(nir_path.read_bytes()).hexdigest(), hashlib.sha256(rgb_path.read_bytes()).hexdigest())


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
    base = _vcip_base(root)
    if any(_child(base, *names) is not None for names in VCIP_SPLITS.values()) or \
            _child(base, *RGB_FOLDERS[1:]) is not None:
        return "vcip2020"
    if _child(root, "nir") is not None or _child(root, "rgb") is not None:
        return "paired"
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
