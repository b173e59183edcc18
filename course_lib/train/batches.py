"""Training and held-out data of a stage, and the deterministic batches of its steps (see :class:`PairBatches`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import torch
from tqdm.auto import tqdm

from ..data import PairAugment, Resize, open_dataset
from .profiles import Profile

__all__ = ["PairBatches", "training_data", "test_data", "SPECTRAL_TRAIN_SEED", "CACHE_LIMIT_BYTES"]

#: Seed of the rendered training scenes; held-out scenes use ``open_dataset(split="test")``'s disjoint seed.
SPECTRAL_TRAIN_SEED = 0

#: Datasets are held in memory (rendered or decoded once) below this many bytes; larger ones are read per step.
CACHE_LIMIT_BYTES = 2 * 1024**3


# ----------------------------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------------------------
def _describe(data: Any) -> str:
    """A short, stable description of the training data for the checkpoint's config."""
    if data is None:
        return "spectral"
    if isinstance(data, (str, os.PathLike)):
        return str(Path(data).resolve())
    text = repr(data) if type(data).__repr__ is not object.__repr__ else ""
    if not text or len(text) > 200 or "tensor(" in text:  # lists of items, datasets without a short repr
        length = len(data) if hasattr(data, "__len__") else "?"
        text = f"{type(data).__name__} of {length} items"
    return text


def training_data(data: Any, profile: Profile, kind: str = "auto") -> tuple[Any, str]:
    """The training set and a short description of it (stored in the checkpoint's config).

    ``data``: ``None`` -> ``profile.num_train`` spectral scenes of ``profile.image_size`` px (seed
    ``SPECTRAL_TRAIN_SEED``); a folder -> ``course_lib.data.open_dataset(folder, kind, split="train")``, every
    image resized to the training size, or kept at its stored size when ``profile.crop == "stored"``
    (``num_train`` only sizes the rendered data); or any dataset of item dicts.
    """
    if data is None or isinstance(data, (str, os.PathLike)):
        size = None if (data is not None and profile.crop == "stored") else profile.image_size
        dataset = open_dataset(data, kind=kind, split="train", size=size, count=profile.num_train,
                               seed=SPECTRAL_TRAIN_SEED)
    else:
        dataset = data
    if len(dataset) == 0:
        raise ValueError(f"data: the training set {_describe(data)} is empty")
    return dataset, _describe(data)


def test_data(data: Any, profile: Profile, kind: str = "auto", count: int | None = None,
              split: str = "test") -> Any:
    """The held-out set: ``count`` (default ``profile.num_test``) spectral scenes of another seed (disjoint from
    the training scenes), or the folder's ``split`` (VCIP2020 ``test`` or ``val``, EPFL ``test``; a PairedFolder
    has no split: the whole folder), resized to the profile's image size so batches stack -- or, when
    ``profile.crop == "stored"``, at the images' stored size (the size the dataset is evaluated at)."""
    if data is None or isinstance(data, (str, os.PathLike)):
        size = None if (data is not None and profile.crop == "stored") else profile.image_size
        return open_dataset(data, kind=kind, split=split, size=size,
                            count=count or profile.num_test, seed=SPECTRAL_TRAIN_SEED)
    return data


class _Cached:
    """A dataset read once into memory (rendering a spectral scene or decoding a PNG costs more than a step).

    Rendered scenes are deterministic, so they are also shared between the stages of one process (keyed by
    size, count and seed): ``run_all`` renders them once.
    """

    _shared: dict[tuple, list] = {}

    def __init__(self, dataset: Any):
        from ..data import SpectralScenes

        self.dataset, self.items = dataset, None
        key = None
        if type(dataset) is SpectralScenes and dataset.transform is None:
            key = (dataset.size, dataset.count, dataset.seed, repr(dataset.config))
            self.items = self._shared.get(key)
        if self.items is None:
            first = dataset[0]
            nbytes = sum(first[k].numel() * first[k].element_size() for k in ("nir", "rgb"))
            if nbytes * len(dataset) < CACHE_LIMIT_BYTES:
                self.items = [_pair_only(dataset[i]) for i in tqdm(range(len(dataset)), desc="loading data",
                                                                  leave=False)]
                if key is not None:
                    self._shared.clear()  # keep one rendered set at a time
                    self._shared[key] = self.items

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict:
        return self.items[i] if self.items is not None else _pair_only(self.dataset[i])


def _pair_only(item: Mapping) -> dict:
    return {"nir": item["nir"].float(), "rgb": item["rgb"].float(), "name": item.get("name", "")}


def _mix(*numbers: int) -> int:
    """A 63-bit seed from several integers (so (seed, epoch) and (seed, step, slot) streams never collide)."""
    h = 0x9E3779B97F4A7C15
    for n in numbers:
        h = (h ^ (int(n) & 0xFFFFFFFFFFFFFFFF)) * 0x100000001B3 & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 29
    return h & 0x7FFFFFFFFFFFFFFF


class PairBatches:
    """Deterministic training batches: the batch of step ``s`` depends only on ``(seed, stream, s)``.

    The images form an endless stream of epochs; epoch ``e`` visits them in the order of
    ``torch.randperm(n, generator=torch.Generator().manual_seed(mix(seed, stream, e)))``; step ``s`` (1-based)
    takes stream positions ``(s - 1) * batch_size ... s * batch_size - 1``. Each image is augmented with a
    generator seeded by ``(seed, stream, s, slot)``. ``stream`` gives independent orders over the same data
    (stage 1 draws its unpaired grays from stream 1).
    """

    def __init__(self, dataset: Any, batch_size: int, seed: int, size: int, augment: bool, stream: int = 0,
                 crop: str = "resize", prefetch: bool = False):
        self.dataset = dataset if isinstance(dataset, _Cached) else _Cached(dataset)
        self.prefetch = prefetch
        self._next: tuple[int, Any] | None = None   # (step, future of its CPU batch)
        self._executor = None
        self.batch_size, self.seed, self.stream = batch_size, seed, stream
        self.size = size
        if crop == "stored":  # random crops at the stored scale (without augmentation: position only)
            self.transform = PairAugment(size, window=size) if augment else \
                PairAugment(size, scale=(1.0, 1.0), flip=False, contrast=0.0, window=size)
        else:
            self.transform = PairAugment(size) if augment else Resize(size)
        self._perm_epoch, self._perm = None, None

    def state_dict(self) -> dict:
        return {"seed": self.seed, "stream": self.stream, "batch_size": self.batch_size,
                "rule": "epoch order: randperm seeded by mix(seed, stream, epoch)"}

    def _order(self, epoch: int) -> torch.Tensor:
        if epoch != self._perm_epoch:
            g = torch.Generator().manual_seed(_mix(self.seed, self.stream, epoch))
            self._perm, self._perm_epoch = torch.randperm(len(self.dataset), generator=g), epoch
        return self._perm

    def indices(self, step: int) -> list[int]:
        n = len(self.dataset)
        out = []
        for pos in range((step - 1) * self.batch_size, step * self.batch_size):
            out.append(int(self._order(pos // n)[pos % n]))
        return out

    def _prepare(self, step: int, indices: list[int], pin: bool) -> dict:
        """The CPU batch of ``step`` (augmented, stacked, range-checked: the data boundary), maybe pinned."""
        items = []
        for slot, i in enumerate(indices):
            item = self.dataset[i]
            for key in ("nir", "rgb"):   # before augmentation (which clamps), on the CPU: no device sync
                lo, hi = torch.aminmax(item[key])
                if not (-1.001 <= float(lo) and float(hi) <= 1.001):
                    raise ValueError(
                        f"training data: the {key.upper()} image {item.get('name') or i!r} (step {step}) is "
                        f"outside [-1, 1] (range [{float(lo):.4g}, {float(hi):.4g}]); a dataset must return "
                        "images scaled to [-1, 1]")
            g = torch.Generator().manual_seed(_mix(self.seed, self.stream, step, slot, 1))
            items.append(self.transform(item, generator=g))
        batch = {"nir": torch.stack([it["nir"] for it in items]), "rgb": torch.stack([it["rgb"] for it in items]),
                 "name": [it["name"] for it in items]}
        if pin:
            batch["nir"], batch["rgb"] = batch["nir"].pin_memory(), batch["rgb"].pin_memory()
        return batch

    def get(self, step: int, device: torch.device) -> dict:
        """The batch of ``step`` on ``device``. With ``prefetch``, step ``step + 1``'s batch is prepared on a
        background thread while the caller trains on this one (the same batch either way: it depends on
        ``(seed, stream, step)`` only)."""
        pin = device.type == "cuda"
        if self._next is not None and self._next[0] == step:
            batch = self._next[1].result()
        else:
            batch = self._prepare(step, self.indices(step), pin)
        self._next = None
        if self.prefetch:
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(1, thread_name_prefix="prefetch")
            # indices on this thread (the epoch order is cached), augmentation on the worker
            self._next = (step + 1, self._executor.submit(self._prepare, step + 1, self.indices(step + 1), pin))
        return {"nir": batch["nir"].to(device, non_blocking=pin), "rgb": batch["rgb"].to(device, non_blocking=pin),
                "name": batch["name"]}

    def close(self) -> None:
        """Stop the prefetch thread (a pending batch is dropped)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor, self._next = None, None

    def fixed(self, count: int, device: torch.device) -> dict:
        """The first ``count`` images, un-augmented (resized to the training size): the sample grids' inputs."""
        items = [Resize(self.size)(self.dataset[i]) for i in range(min(count, len(self.dataset)))]
        return {"nir": torch.stack([it["nir"] for it in items]).to(device),
                "rgb": torch.stack([it["rgb"] for it in items]).to(device)}
