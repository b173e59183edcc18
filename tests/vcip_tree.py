"""A small VCIP 2020 folder as distributed, for tests that train or evaluate on one (not collected: no test_ name).

Training pairs in ``NIR/`` + ``RGB-Registered/`` (``<name>_nir.png``, ``<name>_rgb_reg.png``), validation pairs in
``Validation/``; random pixels, square images of ``size`` px (large enough for the multi-scale SSIM of a training
step at 48 px crops; ``tests/test_data.py`` writes its own, smaller, layout checks).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_vcip_tree(root: Path, train: int = 4, val: int = 2, size: int = 56, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for nir_dir, rgb_dir, names in (("NIR", "RGB-Registered", [f"country_{i:04d}" for i in range(train)]),
                                    ("Validation", "Validation", [f"validation_{i:04d}" for i in range(val)])):
        (root / nir_dir).mkdir(parents=True, exist_ok=True)
        (root / rgb_dir).mkdir(parents=True, exist_ok=True)
        for name in names:
            Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(root / nir_dir / f"{name}_nir.png")
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
                root / rgb_dir / f"{name}_rgb_reg.png")
    return root
