"""Write rendered scenes to disk as PNG pairs (the PairedFolder layout), for ``python -m course_lib make-data``."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from .scenes import render_scene, scene_name

__all__ = ["make_data"]


def make_data(out_dir: str | Path, count: int | Mapping[str, int] = 64, size: int = 256, seed: int = 0,
              split_names: Sequence[str] | None = None, material_maps: bool = True, **options) -> dict[str, int]:
    """Render ``count`` spectral scenes of ``size`` px and write them as 8-bit PNG pairs.

    Without ``split_names``: ``out_dir/nir/NAME.png`` (1 channel), ``out_dir/rgb/NAME.png`` (3 channels) and,
    when ``material_maps``, ``out_dir/material/NAME.png`` (uint8 material ids) -- ``PairedFolder(out_dir)``
    reads it. With ``split_names`` (e.g. ``("train", "test")``): the same under ``out_dir/<split>/``, which
    ``open_dataset`` reads as the VCIP2020 layout; ``count`` is per split, or a mapping split -> count. Scenes
    are numbered on from split to split, so no scene appears twice, and ``NAME`` = ``scene_name(seed, index)``;
    the files are the scenes ``SpectralScenes(size, seed=seed)`` yields, up to 8-bit rounding.
    ``options`` are ``SceneConfig`` fields. Returns ``{split or "all": number of pairs written}``.
    """
    out_dir = Path(out_dir)
    splits = list(split_names) if split_names else [None]
    if isinstance(count, Mapping):
        if split_names is None or set(count) != set(splits):
            raise ValueError(f"count as a mapping needs split_names with the same keys, got {dict(count)} and "
                             f"{split_names}")
        counts = [int(count[s]) for s in splits]
    else:
        counts = [int(count)] * len(splits)
    if any(c < 1 for c in counts):
        raise ValueError(f"count must be a positive integer (per split), got {count!r}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")
    written: dict[str, int] = {}
    start = 0
    bar = tqdm(total=sum(counts), desc=f"rendering scenes -> {out_dir}", unit="scene")
    for split, n in zip(splits, counts):
        folder = out_dir / split if split else out_dir
        subdirs = ("nir", "rgb", "material") if material_maps else ("nir", "rgb")
        for sub in subdirs:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for index in range(start, start + n):
            scene = render_scene(int(size), seed, index, **options)
            name = scene_name(seed, index)
            Image.fromarray(_to_uint8(scene["nir"])).save(folder / "nir" / f"{name}.png")
            Image.fromarray(_to_uint8(scene["rgb"])).save(folder / "rgb" / f"{name}.png")
            if material_maps:
                Image.fromarray(scene["material"].astype(np.uint8)).save(folder / "material" / f"{name}.png")
            bar.update(1)
        written[split or "all"] = n
        start += n
    bar.close()
    return written


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)
