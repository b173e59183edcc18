"""The bookkeeping every stage shares, written once: data batches, checkpoints, logs, samples, Ctrl-C.

A stage (``stage1_translate.py`` ...) keeps its training step in plain sight and delegates the rest to a
:class:`StageRun`::

    run = StageRun("pretrain", profile, out_dir, config, total_steps=..., device=..., data=...)
    ... build models and optimizers ...
    run.track(models={...}, optimizers={...}, scaler=scaler)
    start = run.resume()                 # from out_dir/pretrain/checkpoint.pt if it exists
    with run:                            # Ctrl-C -> checkpoint at the last finished step
        for step in run.steps():         # tqdm progress bar, steps start + 1 ... total
            batch = run.batch(step)      # depends on (seed, step) only: resumable data order
            ... forward, losses, backward, optimizer steps ...
            run.end_step(step, {"loss": loss}, samples=lambda: {...})   # CSV row, checkpoint, samples
    return run.result()

Reproducibility: the batch of step ``s`` is a function of ``(seed, s)``: the data order comes from a
``torch.Generator`` seeded by ``(seed, epoch)`` and each augmentation from one seeded by ``(seed, step, slot)``.
Everything else random (weight init, pools) is saved in the checkpoint, so N steps straight and N/2 + resume +
N/2 give the same weights.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn
from tqdm.auto import tqdm

from ..data import PairAugment, Resize, open_dataset
from .checkpoint import CHECKPOINT_FORMAT, get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from .configs import build_model, config_to_dict
from .pool import ImagePool
from .profiles import Profile

__all__ = [
    "StageRun", "StageResult", "TrainingInterrupted", "PairBatches", "resolve_device", "autocast",
    "make_scaler", "training_data", "test_data", "seed_everything", "SPECTRAL_TRAIN_SEED",
    "STAGE_NAMES",
]

#: Seed of the rendered training scenes; held-out scenes use ``open_dataset(split="test")``'s disjoint seed.
SPECTRAL_TRAIN_SEED = 0

#: Stage folders under out_dir.
STAGE_NAMES = ("translate", "pretrain", "finetune", "direct", "direct_unet")

#: Datasets are held in memory (rendered or decoded once) below this many bytes; larger ones are read per step.
CACHE_LIMIT_BYTES = 2 * 1024**3


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a KeyboardInterrupt from a callback) stopped a stage; its checkpoint was saved first.

    Attributes: ``stage``, ``step`` (the last finished step, the one in the checkpoint), ``checkpoint`` (path).
    """

    def __init__(self, stage: str, step: int, checkpoint: Path | None):
        self.stage, self.step, self.checkpoint = stage, step, checkpoint
        where = f"checkpoint saved at step {step}: {checkpoint}" if checkpoint else "no checkpoint saved"
        super().__init__(f"{stage} interrupted ({where})")


# ----------------------------------------------------------------------------------------------------------------
# devices, precision, seeds
# ----------------------------------------------------------------------------------------------------------------
def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``None`` -> CUDA if available, else CPU. Raises ValueError naming ``device`` if it cannot be used."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device: cannot parse {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but CUDA is not available here (use 'cpu')")
    return dev


def autocast(device: torch.device, enabled: bool):
    """float16 autocast for the networks on CUDA when the profile asks for it; a no-op elsewhere."""
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return nullcontext()


def make_scaler(profile: Profile, device: torch.device):
    """The loss scaler of mixed precision (disabled, i.e. a pass-through, without AMP or CUDA)."""
    enabled = bool(profile.amp and device.type == "cuda")
    if hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and python ``random``."""
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


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


# ----------------------------------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class StageResult:
    """What a stage returns: its trained networks (eval mode) and where its files are.

    Also readable like a dict (``result["models"]``). ``colorizer`` is a NIR -> RGB callable for the stages that
    produce one (finetune: a ``ProgressiveColorizer``; direct: a ``DirectColorizer``), else ``None``.
    """

    stage: str
    models: dict[str, nn.Module]
    checkpoint: Path
    log: Path
    samples: Path
    step: int
    total_steps: int
    profile: Profile
    config: dict
    colorizer: Any = None
    extra: dict = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def keys(self) -> list[str]:
        return ["stage", "models", "checkpoint", "log", "samples", "step", "total_steps", "profile", "config",
                "colorizer"]

    def losses(self) -> dict[str, list[float]]:
        """The loss log as columns: ``{"step": [...], "<term>": [...]}``."""
        return read_losses(self.log)


def read_losses(path: str | os.PathLike) -> dict[str, list[float]]:
    """Read a stage's ``losses.csv`` into ``{column: list of floats}`` (for plotting)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


# ----------------------------------------------------------------------------------------------------------------
# the loss log
# ----------------------------------------------------------------------------------------------------------------
class LossLog:
    """``losses.csv``: one row per step, ``step`` then one column per loss term (fixed by the first row).

    On resume, rows after the checkpoint's step (written before a crash, not saved in the checkpoint) are
    dropped, so the log matches the trajectory that continues.
    """

    def __init__(self, path: Path, start_step: int):
        self.path, self.columns = path, None
        kept: list[dict] = []
        if start_step > 0 and path.exists():
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                self.columns = [c for c in (reader.fieldnames or []) if c != "step"] or None
                kept = [r for r in reader if r.get("step", "").isdigit() and int(r["step"]) <= start_step]
        self._file = open(path, "w", newline="", encoding="utf-8")
        self._writer = None
        if self.columns is not None:
            self._start_writer()
            self._writer.writerows(kept)
            self._file.flush()

    def _start_writer(self) -> None:
        self._writer = csv.DictWriter(self._file, fieldnames=["step", *self.columns], extrasaction="ignore")
        self._writer.writeheader()

    def write(self, step: int, values: Mapping[str, float]) -> None:
        if self._writer is None:
            self.columns = list(values)
            self._start_writer()
        self._writer.writerow({"step": step, **{k: f"{float(v):.6g}" for k, v in values.items()}})
        self._file.flush()

    def close(self) -> None:
        self._file.close()


# ----------------------------------------------------------------------------------------------------------------
# sample grids
# ----------------------------------------------------------------------------------------------------------------
def save_sample_grid(columns: Mapping[str, torch.Tensor], path: Path, max_rows: int = 4) -> Path:
    """One PNG: a column per entry of ``columns`` (title -> batch (N, 1|3, H, W) in [-1, 1]), a row per image,
    the titles in a header line."""
    from ..metrics import to_uint8

    tiles = []
    for title, images in columns.items():
        images = images[:max_rows].detach().float().cpu().clamp(-1, 1)
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        tiles.append(to_uint8(images))  # (n, h, w, 3)
    n, h, w = tiles[0].shape[:3]
    header, pad = 14, 2
    canvas = Image.new("RGB", (len(tiles) * (w + pad) + pad, header + n * (h + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, (title, col) in enumerate(zip(columns, tiles)):
        x = pad + c * (w + pad)
        draw.text((x, 1), title[: max(4, w // 6)], fill=(0, 0, 0))
        for r in range(min(n, len(col))):
            canvas.paste(Image.fromarray(col[r]), (x, header + pad + r * (h + pad)))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


# ----------------------------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------------------------
class StageRun:
    """Folder, checkpoint, log, samples and interrupt handling of one stage (see the module docstring).

    Args:
        stage: folder name under ``out_dir`` (``translate``, ``pretrain``, ``finetune``, ``direct``...).
        profile, config: what the run is; ``config`` (a dataclass) plus the profile's size fields and the data
            description form the checkpoint's ``config`` dict, compared on resume.
        total_steps: steps of this stage.
        device: torch device.
        data: training data as passed to the stage (None, folder, dataset).
        callback: ``callback(step, losses)`` after every finished step (raise KeyboardInterrupt to stop).
        extra_config: more entries for the compared config dict (e.g. the direct route's model name).
        keep: the networks a *finished* stage keeps (``None``: all). While a stage runs, its checkpoint holds
            everything needed to continue the same trajectory; once it reaches ``total_steps`` the checkpoint
            is rewritten with the weights of ``keep`` only -- no optimizer (Adam's two moments double a
            network's size twice over), no pools, no other networks -- so that finished runs fit a free Drive.
            Asking a finished stage for more steps continues from those weights with fresh optimizers (and
            fresh dropped networks), which it says.
    """

    #: Profile fields that change what is trained (compared on resume). Step counts, AMP, logging and
    #: checkpoint intervals are not: a finished run may be continued with more steps.
    PROFILE_KEYS = ("image_size", "width", "depth", "batch_size", "lr", "num_train", "crop", "translator_width")

    def __init__(self, stage: str, profile: Profile, out_dir: str | os.PathLike, config: Any, total_steps: int,
                 device: torch.device, data: Any = None, data_kind: str = "auto",
                 callback: Callable[[int, dict], None] | None = None, extra_config: Mapping | None = None,
                 keep: tuple[str, ...] | None = None):
        self.stage, self.profile, self.total_steps, self.device = stage, profile, int(total_steps), device
        self.keep = None if keep is None else tuple(keep)
        self.seed = int(config.seed)
        self.callback = callback
        self.folder = Path(out_dir) / stage
        try:
            (self.folder / "samples").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"out_dir: cannot create the stage folder {self.folder}: {exc.strerror or exc}") from None
        if not os.access(self.folder, os.W_OK):
            raise OSError(f"out_dir: the folder {self.folder} is not writable")
        self.checkpoint_path = self.folder / "checkpoint.pt"
        self.log_path = self.folder / "losses.csv"
        self.samples_dir = self.folder / "samples"
        self.dataset, data_desc = training_data(data, profile, data_kind)
        self.config = {
            "stage": stage,
            **config_to_dict(config),
            # crop and translator_width are recorded only when they are not the default, so checkpoints from
            # before they existed still match
            "profile": {k: getattr(profile, k) for k in self.PROFILE_KEYS
                        if not (k == "crop" and profile.crop == "resize")
                        and not (k == "translator_width" and profile.translator_width is None)},
            "data": data_desc,
            **dict(extra_config or {}),
        }
        self.models: dict[str, nn.Module] = {}
        self.specs: dict[str, dict] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.scaler = None  # a GradScaler
        self.pools: dict[str, ImagePool] = {}
        self.batches: dict[int, PairBatches] = {}
        self.step = 0
        self._saved_step = -1
        self._in_step = False
        self._interrupt_requested = False
        self._log: LossLog | None = None
        self._bar = None
        self._old_handler = None
        self.meta: dict[str, Any] = {}   # saved in the checkpoint as is (e.g. fine-tuning's upstream weights)
        self._pending: list[tuple[int, dict]] = []   # finished steps whose losses are not read back yet
        self._last_values: dict[str, float] = {}
        if device.type == "cuda":
            # every step has the same shapes (fixed crops and batch): let cuDNN pick the fastest kernels once
            torch.backends.cudnn.benchmark = True
        seed_everything(self.seed)  # before the stage builds its networks: the same initial weights every time

    # -- setup ----------------------------------------------------------------------------------------------
    def build(self, name: str, spec: dict) -> nn.Module:
        """Build a network from a spec (kept for the checkpoint, so load_stage can rebuild it) on the device."""
        self.specs[name] = spec
        return build_model(spec).to(self.device)

    def track(self, models: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
              scaler: Any = None, pools: Mapping[str, ImagePool] | None = None) -> None:
        """Register what the checkpoint must hold."""
        self.models, self.optimizers = dict(models), dict(optimizers)
        self.scaler, self.pools = scaler, dict(pools or {})
        missing = sorted(set(self.models) - set(self.specs))
        if missing:
            raise ValueError(f"models {missing} were not built with StageRun.build (no spec to rebuild them)")

    def pair_batches(self, stream: int = 0) -> PairBatches:
        """The deterministic batch source of this run (``stream`` 1, 2... for independent orders)."""
        if stream not in self.batches:
            cached = next(iter(self.batches.values())).dataset if self.batches else self.dataset
            self.batches[stream] = PairBatches(cached, self.profile.batch_size, self.seed, self.profile.image_size,
                                               augment=self.config.get("augment", True), stream=stream,
                                               crop=self.profile.crop, prefetch=True)
        return self.batches[stream]

    def batch(self, step: int, stream: int = 0) -> dict:
        return self.pair_batches(stream).get(step, self.device)

    # -- checkpoints ----------------------------------------------------------------------------------------
    def state(self) -> dict:
        """The checkpoint's contents: everything while the stage runs, the kept weights once it is finished."""
        finished = self.step >= self.total_steps
        slim = finished and self.keep is not None
        names = [k for k in self.models if k in self.keep] if slim else list(self.models)
        return {
            "format": CHECKPOINT_FORMAT,
            "stage": self.stage,
            "step": self.step,
            "total_steps": self.total_steps,
            "finished": finished,
            "weights_only": slim,
            "config": self.config,
            "profile": self.profile.to_dict(),
            "model_specs": {k: self.specs[k] for k in names},
            "models": {k: self.models[k].state_dict() for k in names},
            "optimizers": {} if slim else {k: o.state_dict() for k, o in self.optimizers.items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None and not slim else {},
            "pools": {} if slim else {k: p.state_dict() for k, p in self.pools.items()},
            "sampler": {str(k): b.state_dict() for k, b in self.batches.items()},
            "rng": get_rng_state(),
            "meta": self.meta,
        }

    def save(self) -> Path:
        if self._pending:   # the log must reach the checkpoint's step (resume drops rows after it)
            self._flush()
        save_checkpoint(self.checkpoint_path, self.state())
        self._saved_step = self.step
        return self.checkpoint_path

    def resume(self) -> int:
        """Continue from ``checkpoint.pt`` if there is one (same config required), else start at step 0.

        Restores weights, optimizers, scaler, pools and RNG states; returns the step to continue after.
        """
        if self.checkpoint_path.exists():
            ckpt = load_checkpoint(self.checkpoint_path, expected_config=self.config)
            slim = bool(ckpt.get("weights_only", False))
            missing = sorted(set(self.models) - set(ckpt["models"]))
            if missing and not slim:
                raise ValueError(f"checkpoint {self.checkpoint_path} lacks the networks {missing}")
            for k, m in self.models.items():
                if k in ckpt["models"]:
                    m.load_state_dict(ckpt["models"][k])
            if not slim:
                for k, o in self.optimizers.items():
                    o.load_state_dict(ckpt["optimizers"][k])
                if self.scaler is not None and ckpt.get("scaler"):
                    self.scaler.load_state_dict(ckpt["scaler"])
                for k, p in self.pools.items():
                    p.load_state_dict(ckpt["pools"][k])
            set_rng_state(ckpt["rng"])
            self.step = self._saved_step = int(ckpt["step"])
            if slim and self.step < self.total_steps:
                dropped = f" and the networks {missing} (re-initialised)" if missing else ""
                print(f"[{self.stage}] continuing a finished stage from step {self.step} to {self.total_steps}: "
                      f"its checkpoint kept the weights only, so the optimizer state{dropped} start fresh")
            if self.step >= self.total_steps:
                print(f"[{self.stage}] already trained: step {self.step} of {self.total_steps} in "
                      f"{self.checkpoint_path}")
            else:
                print(f"[{self.stage}] resuming from step {self.step} of {self.total_steps} "
                      f"({self.checkpoint_path})")
        else:
            self.step = 0
            print(f"[{self.stage}] starting at step 0 of {self.total_steps}; files in {self.folder}")
        return self.step

    # -- the loop -------------------------------------------------------------------------------------------
    def __enter__(self) -> "StageRun":
        from ..losses import range_checks

        self._log = LossLog(self.log_path, self.step)
        # inputs were checked at the data boundary and outputs are tanh-bounded: no value checks (host syncs)
        self._unchecked = range_checks(False)
        self._unchecked.__enter__()
        if threading.current_thread() is threading.main_thread():
            self._old_handler = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def _on_sigint(self, signum, frame) -> None:
        """First Ctrl-C: finish the current step, save, stop. Second: stop at once (no save of this step)."""
        if self._interrupt_requested or not self._in_step:
            raise KeyboardInterrupt
        self._interrupt_requested = True
        tqdm.write(f"[{self.stage}] Ctrl-C: finishing step {self.step + 1}, then saving a checkpoint "
                   "(press Ctrl-C again to stop at once)")

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._unchecked.__exit__(None, None, None)
        for batches in self.batches.values():
            batches.close()
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) and self._pending:
            try:   # log the steps that finished before the interrupt (their weights are in the next save)
                self._flush()
            except FloatingPointError:
                pass
        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)
            self._old_handler = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._log is not None:
            self._log.close()
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) and not isinstance(
                exc, TrainingInterrupted):
            if self._in_step:  # stopped inside a step: weights may be half-updated, keep the last checkpoint
                path = self.checkpoint_path if self._saved_step >= 0 else None
                raise TrainingInterrupted(self.stage, max(self._saved_step, 0), path) from None
            if self._saved_step != self.step:
                self.save()
            raise TrainingInterrupted(self.stage, self.step, self.checkpoint_path) from None
        return False

    def steps(self) -> Iterator[int]:
        """Steps ``start + 1 ... total_steps`` (1-based: step k is the k-th update), with a progress bar."""
        self._bar = tqdm(total=self.total_steps, initial=self.step, desc=self.stage, unit="step",
                         dynamic_ncols=True)
        for step in range(self.step + 1, self.total_steps + 1):
            self._in_step = True
            yield step
        self._bar.close()
        self._bar = None

    def _flush(self) -> dict[str, float]:
        """Read the pending steps' losses back to the host in one transfer, check them, write their CSV rows."""
        pending, self._pending = self._pending, []
        tensors = [v for _, values in pending for v in values.values() if isinstance(v, torch.Tensor)]
        host = iter(torch.stack([t.float().reshape(()) for t in tensors]).cpu().tolist() if tensors else [])
        for step, values in pending:
            row = {k: next(host) if isinstance(v, torch.Tensor) else float(v) for k, v in values.items()}
            bad = [k for k, v in row.items() if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(f"[{self.stage}] step {step}: loss {bad} is not finite; stopping "
                                         f"(the last checkpoint, step {max(self._saved_step, 0)}, is untouched)")
            self._log.write(step, row)
            self._last_values = row
        return self._last_values

    def end_step(self, step: int, losses: Mapping[str, torch.Tensor | float],
                 samples: Callable[[], Mapping[str, torch.Tensor]] | None = None) -> None:
        """Finish step ``step``: log the losses, save samples / checkpoint when due, call the callback.

        The losses stay on the device until they are read back, all pending steps in one transfer, every
        ``profile.log_every`` steps, before a checkpoint or sample grid, at the end, and at every step when a
        ``callback`` needs them; the CSV still gets one row per step. A non-finite loss raises
        FloatingPointError (naming its step) before the next checkpoint is written.
        """
        self.step = step
        self._in_step = False
        self._pending.append((step, {k: v.detach() if isinstance(v, torch.Tensor) else float(v)
                                     for k, v in losses.items()}))
        last = step == self.total_steps
        due_log = step % self.profile.log_every == 0 or last or self.callback is not None
        due_samples = step % self.profile.sample_every == 0 or last
        due_checkpoint = step % self.profile.checkpoint_every == 0 or last
        values = self._flush() if (due_log or due_samples or due_checkpoint or self._interrupt_requested) else None
        if due_samples and samples is not None:
            self.save_samples(step, samples)
        if due_checkpoint:
            self.save()
        if self._bar is not None:
            self._bar.update(1)
            if values is not None and due_log:
                self._bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()}, refresh=False)
        if self._interrupt_requested:
            raise KeyboardInterrupt
        if self.callback is not None:
            self.callback(step, values)

    def save_samples(self, step: int, make_columns: Callable[[], Mapping[str, torch.Tensor]]) -> Path:
        """Run ``make_columns`` with every network in eval mode and no gradients; save the grid PNG."""
        modes = {k: m.training for k, m in self.models.items()}
        for m in self.models.values():
            m.eval()
        try:
            with torch.no_grad():
                columns = make_columns()
        finally:
            for k, m in self.models.items():
                m.train(modes[k])
        return save_sample_grid(columns, self.samples_dir / f"step_{step:06d}.png")

    def result(self, colorizer: Any = None, **extra: Any) -> StageResult:
        """The trained networks in eval mode and the file locations."""
        for m in self.models.values():
            m.eval()
        return StageResult(stage=self.stage, models=self.models, checkpoint=self.checkpoint_path,
                           log=self.log_path, samples=self.samples_dir, step=self.step,
                           total_steps=self.total_steps, profile=self.profile, config=self.config,
                           colorizer=colorizer, extra=extra)
