"""Image file I/O: the one place where files become [-1, 1] tensors and back.

``load_image`` reads PNG, JPEG, TIFF and BMP files, 8- or 16-bit, 1, 3 or 4 channels (alpha dropped, palettes
expanded), and returns a float tensor [C, H, W] in [-1, 1] (C = 1 or 3). Unreadable or truncated files raise a
ValueError naming the file. ``save_image`` writes an 8-bit PNG/JPEG/TIFF from a [-1, 1] tensor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

__all__ = ["IMAGE_EXTENSIONS", "load_image", "save_image", "tensor_to_uint8"]

#: File extensions read as images (lower case).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def _read_array(path: Path) -> np.ndarray:
    """Pixel array (H, W) or (H, W, C) scaled to [0, 1] float32."""
    suffix = path.suffix.lower()
    mode = None
    arr = None
    if suffix in (".tif", ".tiff"):
        # PIL silently reduces 16-bit RGB TIFFs to 8 bits; tifffile keeps the stored depth. PIL is the fallback
        # for compressions tifffile cannot decode without extra codecs.
        try:
            import tifffile

            arr = np.asarray(tifffile.imread(path))
        except Exception:  # noqa: BLE001 - any decoder failure: try PIL, which reports the file
            arr = None
    if arr is None:
        try:
            with Image.open(path) as img:
                img.load()  # forces the full decode: truncated files fail here, not later
                mode = img.mode
                if mode in ("P", "PA"):
                    img = img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
                    mode = img.mode
                if mode in ("1", "CMYK", "YCbCr", "LAB", "HSV"):
                    img = img.convert("RGB" if mode != "1" else "L")
                    mode = img.mode
                arr = np.asarray(img)
        except (OSError, SyntaxError, ValueError) as err:
            raise ValueError(f"cannot read image file {path}: {err} (expected a readable PNG/TIFF/JPEG image; the "
                             f"file may be truncated or corrupt)") from err
    if arr.dtype == np.uint8 or arr.dtype == bool:
        out = arr.astype(np.float32) / (1.0 if arr.dtype == bool else 255.0)
    elif arr.dtype in (np.uint16, np.dtype(">u2"), np.dtype("<u2")) or (mode or "").startswith("I;16"):
        out = arr.astype(np.float32) / 65535.0
    elif np.issubdtype(arr.dtype, np.integer):
        # PIL's mode "I" (32-bit) is what 16-bit PNGs often decode to: treat the values as 16-bit.
        if arr.max(initial=0) > 65535 or arr.min(initial=0) < 0:
            raise ValueError(f"image file {path} holds integers outside 0..65535; expected 8- or 16-bit data")
        out = arr.astype(np.float32) / (255.0 if arr.max(initial=0) <= 255 and mode != "I" else 65535.0)
    elif np.issubdtype(arr.dtype, np.floating):
        out = np.clip(arr.astype(np.float32), 0.0, 1.0)
    else:
        raise ValueError(f"image file {path} has unsupported pixel type {arr.dtype}; expected 8/16-bit")
    if out.ndim == 3 and out.shape[-1] in (2, 4):
        out = out[..., :-1]  # drop alpha
    if out.ndim == 3 and out.shape[0] in (1, 3) and out.shape[-1] not in (1, 3):
        out = np.moveaxis(out, 0, -1)  # tifffile can return planar (C, H, W)
    if out.ndim == 3 and out.shape[-1] == 1:
        out = out[..., 0]
    if out.ndim not in (2, 3) or (out.ndim == 3 and out.shape[-1] != 3):
        raise ValueError(f"image file {path} has shape {arr.shape}; expected H x W (1 channel) or H x W x 3")
    return out


def load_image(path: str | Path) -> torch.Tensor:
    """Read an image file as a float tensor [C, H, W] in [-1, 1] (C = 1 for gray, 3 for colour).

    8-bit data is divided by 255, 16-bit by 65535; alpha is dropped. FileNotFoundError if the file is missing,
    ValueError naming the file if it cannot be decoded (truncated, corrupt, not an image).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    arr = _read_array(path)
    t = torch.from_numpy(np.ascontiguousarray(arr))
    t = t[None] if t.dim() == 2 else t.permute(2, 0, 1)
    return (t * 2.0 - 1.0).contiguous()


def tensor_to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """[-1, 1] tensor [C, H, W] (C = 1 or 3) or [H, W] -> uint8 array [H, W] or [H, W, 3] (rounded, clipped).

    Values are clamped to [-1, 1] first (model outputs may overshoot slightly), then converted by
    ``course_lib.metrics.to_uint8``, the project's one [-1, 1] -> uint8 conversion.
    """
    from ..metrics import to_uint8  # imported here: metrics imports torch-heavy helpers lazily too

    t = tensor.detach().to("cpu", torch.float32)
    if t.dim() == 2:
        t = t[None]
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"tensor must be [C, H, W] with C = 1 or 3, or [H, W]; got shape {tuple(tensor.shape)}")
    arr = to_uint8(t.clamp(-1.0, 1.0))
    return arr[..., 0] if arr.shape[-1] == 1 else arr


def save_image(tensor: torch.Tensor, path: str | Path) -> Path:
    """Write a [-1, 1] tensor [C, H, W] (C = 1 or 3) or [H, W] as an 8-bit image (format from the suffix).

    Creates the parent folder. Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(tensor_to_uint8(tensor)).save(path)
    return path
