"""What a stage leaves behind besides its checkpoint: the result object, the loss log and the sample grids."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from PIL import Image, ImageDraw
from torch import nn

from .profiles import Profile

__all__ = ["StageResult", "read_losses", "LossLog", "save_sample_grid"]


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
    return {k: [float(r[k]) if r[k] not in ("", None) else math.nan for r in rows] for k in rows[0]}


# ----------------------------------------------------------------------------------------------------------------
# the loss log
# ----------------------------------------------------------------------------------------------------------------
class LossLog:
    """``losses.csv``: one row per step, ``step`` then one column per loss term. A row that brings a new term
    (stage 1's CycleGAN steps after its supervised warm-up) adds a column: the file is rewritten once with the
    wider header, and cells a row has no value for stay empty (``read_losses`` gives NaN there).

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
        elif any(k not in self.columns for k in values):
            self._widen([k for k in values if k not in self.columns])
        self._writer.writerow({"step": step, **{k: f"{float(v):.6g}" for k, v in values.items()}})
        self._file.flush()

    def _widen(self, new: list[str]) -> None:
        """Add columns ``new``: rewrite the rows so far under the wider header."""
        self._file.close()
        with open(self.path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.columns = [*self.columns, *new]
        self._file = open(self.path, "w", newline="", encoding="utf-8")
        self._start_writer()
        self._writer.writerows(rows)

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
