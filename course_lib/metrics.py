"""Evaluation metrics of Table I (PSNR, SSIM, AE, LPIPS), computed as the NIR colorization field computes them.

PSNR, SSIM and AE are measured on 8-bit RGB images (0-255): model outputs in [-1, 1] are converted in exactly one
place, :func:`to_uint8`. LPIPS (Zhang et al. 2018) uses the ``lpips`` package with its AlexNet backbone on images
in [-1, 1]. :func:`evaluate` runs a colorizer over a dataset and writes ``metrics.csv`` and a Table-I style
``table.md``.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import tempfile
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch
from skimage.metrics import structural_similarity
from tqdm.auto import tqdm

from .losses import check_value_range

__all__ = [
    "to_uint8",
    "psnr",
    "ssim",
    "angular_error",
    "psnr_per_image",
    "ssim_per_image",
    "angular_error_per_image",
    "LPIPSMetric",
    "LPIPSUnavailable",
    "EvaluationResult",
    "evaluate",
    "format_table",
    "reference_predictors",
    "colourfulness",
    "METRIC_COLUMNS",
]

#: Columns of ``metrics.csv`` (one row per image).
METRIC_COLUMNS = ("name", "psnr", "ssim", "ae", "lpips")
#: Offset (in 0-255 units) added to every channel before measuring angles, so that black pixels, which have no
#: direction, count as achromatic (grey) instead of giving NaN; it moves other angles by < 1e-5 degrees.
AE_EPSILON = 1e-6


# ------------------------------------------------------------------------------------------------------------
# Conversion and input checks
# ------------------------------------------------------------------------------------------------------------
def to_uint8(x: torch.Tensor) -> np.ndarray:
    """The one conversion from model space to 8-bit images: ``round((x + 1) / 2 * 255)`` clipped to [0, 255].

    Args:
        x: float tensor (C, H, W) or (N, C, H, W) in [-1, 1] (a 1e-3 round-off margin is tolerated).
    Returns:
        uint8 numpy array (H, W, C) or (N, H, W, C).
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x: expected a torch.Tensor in [-1, 1], got {type(x).__name__}")
    _check_tensor_image(x, "x")
    x = x.detach().to("cpu", torch.float32)
    arr = torch.round((x + 1.0) * 0.5 * 255.0).clamp(0, 255).to(torch.uint8).numpy()
    return np.moveaxis(arr, -3, -1)


def _check_tensor_image(x: torch.Tensor, name: str) -> None:
    if not torch.is_floating_point(x):
        raise ValueError(
            f"{name}: tensors must be floating point in [-1, 1], got dtype {x.dtype} "
            "(pass uint8 images as numpy arrays H x W x 3)"
        )
    if x.dim() not in (3, 4):
        raise ValueError(f"{name}: expected a tensor (C, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")
    if x.shape[-3] not in (1, 3):
        raise ValueError(f"{name}: expected 1 or 3 channels in dimension -3, got shape {tuple(x.shape)}")
    check_value_range(x, name)


def _as_uint8_batch(x: Any, name: str) -> np.ndarray:
    """Accept uint8 numpy (H, W, C) / (N, H, W, C) or float tensors (C, H, W) / (N, C, H, W) in [-1, 1]; return
    a uint8 batch (N, H, W, C)."""
    if isinstance(x, torch.Tensor):
        _check_tensor_image(x, name)
        arr = to_uint8(x)
    elif isinstance(x, np.ndarray):
        if x.dtype != np.uint8:
            raise ValueError(
                f"{name}: numpy images must be uint8 (H, W, 3) in 0-255, got dtype {x.dtype}; "
                "pass float images as torch tensors (N, C, H, W) in [-1, 1]"
            )
        if x.ndim not in (3, 4) or x.shape[-1] not in (1, 3):
            raise ValueError(f"{name}: expected a uint8 array (H, W, 3) or (N, H, W, 3), got shape {x.shape}")
        arr = x
    else:
        raise ValueError(
            f"{name}: expected a uint8 numpy array (H, W, 3) or a float tensor in [-1, 1], got {type(x).__name__}"
        )
    return arr[None] if arr.ndim == 3 else arr


def _pair(pred: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    p, t = _as_uint8_batch(pred, "pred"), _as_uint8_batch(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape (as N, H, W, C), got {p.shape} and {t.shape}")
    return p, t


# ------------------------------------------------------------------------------------------------------------
# PSNR, SSIM, AE
# ------------------------------------------------------------------------------------------------------------
def psnr_per_image(pred: Any, target: Any) -> np.ndarray:
    """PSNR in dB per image, data range 255: ``10 log10(255^2 / MSE)`` over all pixels and channels (inf if equal).

    Args: uint8 arrays (H, W, 3) / (N, H, W, 3) or float tensors (C, H, W) / (N, C, H, W) in [-1, 1].
    Returns: float64 array (N,).
    """
    p, t = _pair(pred, target)
    mse = ((p.astype(np.float64) - t.astype(np.float64)) ** 2).reshape(len(p), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(255.0**2 / mse)


def ssim_per_image(pred: Any, target: Any) -> np.ndarray:
    """SSIM per image: scikit-image's ``structural_similarity(channel_axis=-1, data_range=255)`` with its
    defaults otherwise (7 x 7 uniform window, sample covariance), on the 8-bit images. Images need >= 7 px."""
    p, t = _pair(pred, target)
    if min(p.shape[1:3]) < 7:
        raise ValueError(f"pred: SSIM needs images of at least 7 x 7 pixels, got {p.shape[1:3]}")
    return np.array(
        [structural_similarity(a, b, channel_axis=-1, data_range=255) for a, b in zip(p, t)], dtype=np.float64
    )


def angular_error_per_image(pred: Any, target: Any) -> np.ndarray:
    """Angular error (AE) per image: the mean over pixels of the angle, in degrees, between the predicted and the
    true RGB vectors. Computed as ``atan2(|p x t|, p . t)`` (accurate near 0 degrees, unlike arccos) after adding
    ``AE_EPSILON`` (1e-6) to every channel, so black pixels count as grey and stay finite."""
    p, t = _pair(pred, target)
    if p.shape[-1] != 3:
        raise ValueError(f"pred: angular error needs 3-channel RGB images, got {p.shape[-1]} channel(s)")
    p = p.astype(np.float64) + AE_EPSILON
    t = t.astype(np.float64) + AE_EPSILON
    cross = np.linalg.norm(np.cross(p, t), axis=-1)
    dot = (p * t).sum(axis=-1)
    angles = np.degrees(np.arctan2(cross, dot))
    return angles.reshape(len(angles), -1).mean(axis=1)


def psnr(pred: Any, target: Any) -> float:
    """PSNR (dB, data range 255), mean over the images of a batch; see :func:`psnr_per_image`."""
    return float(np.mean(psnr_per_image(pred, target)))


def ssim(pred: Any, target: Any) -> float:
    """SSIM (scikit-image, 8-bit, channel_axis=-1), mean over the images of a batch; see :func:`ssim_per_image`."""
    return float(np.mean(ssim_per_image(pred, target)))


def angular_error(pred: Any, target: Any) -> float:
    """Angular error in degrees, mean over the images of a batch; see :func:`angular_error_per_image`."""
    return float(np.mean(angular_error_per_image(pred, target)))


# ------------------------------------------------------------------------------------------------------------
# LPIPS
# ------------------------------------------------------------------------------------------------------------
class LPIPSUnavailable(RuntimeError):
    """The LPIPS backbone weights are not on this machine and could not be downloaded."""


#: torchvision checkpoints the ``lpips`` backbones load (through torch hub's cache).
_BACKBONE_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}
_BACKBONE_URL = "https://download.pytorch.org/models/{}"
DOWNLOAD_TIMEOUT_S = 10.0
_failed_downloads: set[str] = set()  # one attempt per process and file: no repeated network timeouts


def backbone_path(net: str = "alex") -> Path:
    """Where torch hub (hence torchvision and lpips) looks for the backbone weights of ``net``:
    ``torch.hub.get_dir()/checkpoints/<file>`` (``$TORCH_HOME/hub/checkpoints`` when TORCH_HOME is set)."""
    if net not in _BACKBONE_FILES:
        raise ValueError(f"net: expected one of {sorted(_BACKBONE_FILES)}, got {net!r}")
    return Path(torch.hub.get_dir()) / "checkpoints" / _BACKBONE_FILES[net]


def _download(url: str, dest: Path, timeout: float) -> None:
    """Fetch ``url`` to ``dest`` atomically, checking the sha256 prefix that torchvision puts in the file name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    expected_prefix = dest.stem.rsplit("-", 1)[-1]
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
        if not digest.hexdigest().startswith(expected_prefix):
            raise OSError(f"checksum mismatch for {url}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _missing_weights_message(net: str, path: Path, url: str, reason: str) -> str:
    return (
        f"LPIPS (net={net!r}) needs torchvision's backbone weights {path.name}, which are not available ({reason}). "
        f"Download {url} on a machine with internet access and place the file at {path} "
        f"(the directory is torch.hub.get_dir()/checkpoints; set TORCH_HOME to move it), then retry."
    )


class LPIPSMetric:
    """LPIPS (Zhang et al. 2018) with the ``lpips`` package, inputs in [-1, 1]; lower is more similar.

    The package ships its linear-layer weights; the backbone (torchvision's ``alexnet-owt-7be5be79.pth``) comes from
    torch hub's checkpoint directory. We look for that file first: if it is absent, and ``allow_download`` is True,
    we try one download with a ``DOWNLOAD_TIMEOUT_S`` (10 s) timeout (once per process); otherwise, or if that
    fails, the constructor raises :class:`LPIPSUnavailable` saying which file to place where.

    ``pretrained=False`` builds a randomly initialised backbone (no file needed): only for testing the code path,
    its numbers mean nothing; such a metric has ``random = True`` and :func:`evaluate` refuses it unless told
    otherwise.

    Call it with predictions and targets: float tensors (N, 3, H, W) / (3, H, W) in [-1, 1] or uint8 arrays
    (H, W, 3) / (N, H, W, 3); ``metric(pred, target)`` returns the batch mean, ``metric.per_image`` an array (N,).
    """

    def __init__(
        self,
        net: str = "alex",
        pretrained: bool = True,
        allow_download: bool = True,
        device: str | torch.device | None = None,
    ) -> None:
        path = backbone_path(net)  # validates net
        self.net = net
        self.random = not pretrained
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.weights_path = path
        if pretrained and not path.is_file():
            url = _BACKBONE_URL.format(path.name)
            if not allow_download:
                raise LPIPSUnavailable(_missing_weights_message(net, path, url, "allow_download=False"))
            if url in _failed_downloads:
                raise LPIPSUnavailable(_missing_weights_message(net, path, url, "an earlier download failed"))
            try:
                _download(url, path, DOWNLOAD_TIMEOUT_S)
            except Exception as error:  # no network, proxy, timeout, disk: all mean "unavailable"
                _failed_downloads.add(url)
                raise LPIPSUnavailable(_missing_weights_message(net, path, url, f"download failed: {error}")) from error
        import lpips as lpips_package  # imported late: it prints and pulls torchvision

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torchvision's "pretrained is deprecated" warnings inside lpips
            self.model = lpips_package.LPIPS(net=net, pretrained=True, pnet_rand=not pretrained, verbose=False)
        self.model.eval().requires_grad_(False).to(self.device)

    def _as_tensor(self, x: Any, name: str) -> torch.Tensor:
        if isinstance(x, np.ndarray):
            batch = _as_uint8_batch(x, name)
            t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(batch, -1, 1))).float() / 127.5 - 1.0
        elif isinstance(x, torch.Tensor):
            _check_tensor_image(x, name)
            t = x.detach().float()
            t = t[None] if t.dim() == 3 else t
        else:
            raise ValueError(f"{name}: expected a float tensor in [-1, 1] or a uint8 array, got {type(x).__name__}")
        if t.shape[1] != 3:
            raise ValueError(f"{name}: LPIPS needs 3-channel RGB images, got shape {tuple(t.shape)}")
        return t.to(self.device)

    @torch.no_grad()
    def per_image(self, pred: Any, target: Any) -> np.ndarray:
        """LPIPS distance per image, float64 array (N,)."""
        p, t = self._as_tensor(pred, "pred"), self._as_tensor(target, "target")
        if p.shape != t.shape:
            raise ValueError(f"pred and target must have the same shape, got {tuple(p.shape)} and {tuple(t.shape)}")
        return self.model(p, t).reshape(-1).double().cpu().numpy()

    def __call__(self, pred: Any, target: Any) -> float:
        return float(np.mean(self.per_image(pred, target)))

    def __repr__(self) -> str:
        return f"LPIPSMetric(net={self.net!r}, random={self.random})"


# ------------------------------------------------------------------------------------------------------------
# Evaluation and Table I
# ------------------------------------------------------------------------------------------------------------
_SUMMARY_KEYS = ("psnr", "ssim", "ae", "lpips")
_HEADERS = {"psnr": "PSNR (↑)", "ssim": "SSIM (↑)", "ae": "AE (↓)", "lpips": "LPIPS (↓)"}
_DECIMALS = {"psnr": 2, "ssim": 3, "ae": 2, "lpips": 3}


@dataclass
class EvaluationResult:
    """Per-image metrics and their summary.

    Attributes:
        rows: one dict per image with keys ``name, psnr, ssim, ae, lpips`` (lpips NaN when unavailable).
        summary: metric -> (mean, std) over images (population std, ddof=0) for psnr, ssim, ae, lpips.
        method: the method's name (row label of the table).
        notes: remarks for the table, e.g. why LPIPS is missing.
    """

    rows: list[dict]
    summary: dict[str, tuple[float, float]]
    method: str = "MPFNet"
    notes: list[str] = field(default_factory=list)

    def to_markdown(self, method_name: str | None = None) -> str:
        """Table I layout (Methods | PSNR (↑) | SSIM (↑) | AE (↓) | LPIPS (↓), mean ± std) with one row."""
        return format_table({method_name or self.method: self})


def _format_cell(key: str, mean: float, std: float) -> str:
    if math.isnan(mean):
        return "n/a"
    if math.isinf(mean):
        return "inf"
    d = _DECIMALS[key]
    return f"{mean:.{d}f} ± {std:.{d}f}"


def colourfulness(images: Any) -> np.ndarray:
    """Colourfulness M of Hasler & Süsstrunk (2003) per image, on the 8-bit images (:func:`to_uint8`).

    With rg = R - G and yb = (R + G) / 2 - B over the pixels of one image,
    ``M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)``: 0 for any gray image; about 15 is
    "slightly colourful", 33 "moderately", 45 "averagely", 59 "quite" and 82 "highly" colourful in their study.
    A colourisation that is a gray or mean-colour wash scores far below its ground truth. ``images``: (3, H, W)
    or (N, 3, H, W) in [-1, 1], or uint8 (H, W, 3) / (N, H, W, 3). Returns an array (N,).
    """
    if isinstance(images, np.ndarray):
        if images.dtype != np.uint8 or images.shape[-1] != 3:
            raise ValueError(f"images: expected uint8 (H, W, 3) / (N, H, W, 3) arrays, got {images.dtype} "
                             f"{images.shape}")
        x = images.astype(np.float64)
    else:
        x = to_uint8(images).astype(np.float64)
        if x.shape[-1] != 3:
            raise ValueError(f"images: expected 3-channel RGB images, got {x.shape[-1]} channel(s)")
    if x.ndim == 3:
        x = x[None]
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    spread = np.sqrt(flat(rg).std(axis=1) ** 2 + flat(yb).std(axis=1) ** 2)
    centre = np.sqrt(flat(rg).mean(axis=1) ** 2 + flat(yb).mean(axis=1) ** 2)
    return spread + 0.3 * centre


def reference_predictors(train_dataset: Iterable[Mapping[str, Any]]) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """Two predictors that learn nothing, to read every result against (pass them to :func:`evaluate`):

    - ``"mean training colour"``: the mean RGB of the training images (per channel, each image weighted equally)
      painted on every pixel -- what a model that ignores its input converges to under an L2-like loss;
    - ``"NIR copied to RGB"``: the NIR image in R, G and B (a gray picture with NIR's brightness).

    A colorizer is only learning colour once it beats both. ``train_dataset`` yields ``{"rgb": [3, H, W]}`` items
    in [-1, 1] (any sizes); ValueError if it is empty.
    """
    total, count = torch.zeros(3, dtype=torch.float64), 0
    for item in train_dataset:
        rgb = item["rgb"]
        if not isinstance(rgb, torch.Tensor) or rgb.dim() != 3 or rgb.shape[0] != 3:
            raise ValueError(f"train_dataset: expected items with 'rgb' of shape (3, H, W), got "
                             f"{tuple(rgb.shape) if isinstance(rgb, torch.Tensor) else type(rgb).__name__}")
        total += rgb.double().mean(dim=(1, 2))
        count += 1
    if count == 0:
        raise ValueError("train_dataset: expected at least one image to take the mean colour of, got none")
    mean = (total / count).float()

    def mean_colour(nir: torch.Tensor) -> torch.Tensor:
        return mean.to(nir.device).view(1, 3, 1, 1).expand(nir.shape[0], 3, *nir.shape[-2:])

    def nir_copy(nir: torch.Tensor) -> torch.Tensor:
        return nir.expand(-1, 3, -1, -1)

    mean_colour.mean = mean  # type: ignore[attr-defined]
    return {"mean training colour": mean_colour, "NIR copied to RGB": nir_copy}


def format_table(results: Mapping[str, EvaluationResult]) -> str:
    """One Markdown table laid out like Table I, a row per method (``{method: EvaluationResult}``), mean ± std,
    followed by the results' notes (e.g. "LPIPS unavailable: ...")."""
    if not results:
        raise ValueError("results: expected a non-empty mapping {method name: EvaluationResult}")
    lines = [
        "| Methods | " + " | ".join(_HEADERS[k] for k in _SUMMARY_KEYS) + " |",
        "| --- | " + " | ".join("---" for _ in _SUMMARY_KEYS) + " |",
    ]
    notes: list[str] = []
    for method, result in results.items():
        if not isinstance(result, EvaluationResult):
            raise ValueError(f"results[{method!r}]: expected an EvaluationResult, got {type(result).__name__}")
        cells = [_format_cell(k, *result.summary[k]) for k in _SUMMARY_KEYS]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
        notes += [f"{method}: {note}" if len(results) > 1 else note for note in result.notes]
    if notes:
        lines.append("")
        lines += [f"Note: {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _batches(dataset: Iterable[Mapping[str, Any]], batch_size: int) -> Iterable[list[Mapping[str, Any]]]:
    batch: list[Mapping[str, Any]] = []
    # map-style datasets (len + getitem) are indexed 0..len-1: iterating them relies on IndexError, which a
    # dataset with wrap-around indexing never raises
    if hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__") and not isinstance(dataset, Mapping):
        items: Iterable[Mapping[str, Any]] = (dataset[i] for i in range(len(dataset)))
    else:
        items = dataset
    for item in items:
        batch.append(item)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _stack(items: list[Mapping[str, Any]], key: str) -> list[torch.Tensor]:
    """Stack ``key`` of the items into batches; images of different sizes go one by one."""
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or key not in item:
            raise ValueError(f"dataset: items must be dicts with 'nir', 'rgb' and 'name', item {i} lacks {key!r}")
    tensors = [item[key] for item in items]
    for t, item in zip(tensors, items):
        if not isinstance(t, torch.Tensor) or t.dim() != 3:
            raise ValueError(
                f"dataset: item {item.get('name', '?')!r} {key!r} must be a tensor (C, H, W) in [-1, 1], "
                f"got {type(t).__name__} {tuple(getattr(t, 'shape', ()))}"
            )
    if all(t.shape == tensors[0].shape for t in tensors):
        return [torch.stack(tensors)]
    return [t[None] for t in tensors]


def _resolve_lpips(lpips: Any, device: torch.device, allow_random_lpips: bool) -> tuple[LPIPSMetric | None, list[str]]:
    if lpips is False or lpips is None:
        return None, ["LPIPS not computed (lpips=False)."]
    if isinstance(lpips, LPIPSMetric):
        metric = lpips
    elif lpips == "auto" or lpips is True:
        try:
            metric = LPIPSMetric(device=device)
        except LPIPSUnavailable as error:
            if lpips is True:
                raise
            return None, [f"LPIPS unavailable: {error}"]
    else:
        raise ValueError(f"lpips: expected 'auto', True, False or an LPIPSMetric, got {lpips!r}")
    if metric.random:
        if not allow_random_lpips:
            raise ValueError(
                "lpips: this LPIPSMetric has a random backbone (pretrained=False); its values are meaningless and "
                "are never reported (pass allow_random_lpips=True only in tests)"
            )
        return metric, ["LPIPS computed with a RANDOM backbone (test only): not a real LPIPS value."]
    return metric, []


def _model_device(model: Any) -> torch.device:
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device("cpu")


def evaluate(
    model_or_fn: Callable[[torch.Tensor], Any],
    dataset: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike | None = None,
    batch_size: int = 4,
    lpips: Any = "auto",
    device: str | torch.device | None = None,
    method: str = "MPFNet",
    allow_random_lpips: bool = False,
) -> EvaluationResult:
    """Colorize every item of ``dataset`` and score it with the metrics of Table I.

    Args:
        model_or_fn: callable NIR batch (N, 1, H, W) in [-1, 1] -> RGB batch (N, 3, H, W) in [-1, 1]; if it returns
            a list/tuple (MPFNet's multi-scale outputs, coarsest first) the last element is used. An ``nn.Module``
            is put in eval mode (and moved to ``device`` when given) and its training mode restored afterwards.
        dataset: iterable of dicts ``{"nir": [1, H, W], "rgb": [3, H, W], "name": str}`` (a Dataset or a list).
        out_dir: if given, writes ``metrics.csv`` (columns name, psnr, ssim, ae, lpips) and ``table.md`` there.
        batch_size: images per forward pass.
        lpips: "auto" (use LPIPS if its backbone weights are present or downloadable, else report NaN and a note),
            True (same but raise :class:`LPIPSUnavailable`), False (skip), or an :class:`LPIPSMetric`.
        device: where to run; default the model's device (CPU for plain functions).
        method: row label of the table.
        allow_random_lpips: accept an LPIPSMetric with a random backbone (tests only; flagged in the notes).

    PSNR, SSIM and AE are computed on the 8-bit images (:func:`to_uint8`); LPIPS on the same 8-bit images mapped
    back to [-1, 1], as when scoring saved PNG files.

    Returns:
        EvaluationResult with per-image rows and the mean/std summary.
    """
    if not callable(model_or_fn):
        raise ValueError(f"model_or_fn: expected a callable (model or function), got {type(model_or_fn).__name__}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    dev = torch.device(device) if device is not None else _model_device(model_or_fn)
    lpips_metric, notes = _resolve_lpips(lpips, dev, allow_random_lpips)
    if lpips_metric is not None and lpips_metric.device != dev:
        lpips_metric.model.to(dev)
        lpips_metric.device = dev

    is_module = isinstance(model_or_fn, torch.nn.Module)
    was_training = model_or_fn.training if is_module else False
    if is_module:
        if device is not None:
            model_or_fn.to(dev)
        model_or_fn.eval()
    total = len(dataset) if hasattr(dataset, "__len__") else None
    rows: list[dict] = []
    try:
        with torch.no_grad(), tqdm(total=total, desc=f"evaluate {method}", unit="img") as bar:
            for items in _batches(dataset, batch_size):
                names = [str(item.get("name", f"image_{len(rows) + i}")) for i, item in enumerate(items)]
                offset = 0
                for nir, rgb in zip(_stack(items, "nir"), _stack(items, "rgb")):
                    output = model_or_fn(nir.to(dev))
                    if isinstance(output, (list, tuple)):
                        output = output[-1]
                    if not isinstance(output, torch.Tensor) or tuple(output.shape) != tuple(rgb.shape):
                        got = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
                        raise ValueError(
                            f"model_or_fn: expected an RGB batch of shape {tuple(rgb.shape)} in [-1, 1], got {got}"
                        )
                    _check_tensor_image(output, "model_or_fn (its output)")
                    pred8, true8 = to_uint8(output), to_uint8(rgb)
                    values = {
                        "psnr": psnr_per_image(pred8, true8),
                        "ssim": ssim_per_image(pred8, true8),
                        "ae": angular_error_per_image(pred8, true8),
                        "lpips": lpips_metric.per_image(pred8, true8)
                        if lpips_metric is not None
                        else np.full(len(pred8), np.nan),
                    }
                    for j in range(len(pred8)):
                        row = {"name": names[offset + j]}
                        row.update({k: float(values[k][j]) for k in _SUMMARY_KEYS})
                        rows.append(row)
                    offset += len(pred8)
                    bar.update(len(pred8))
    finally:
        if is_module:
            model_or_fn.train(was_training)
    if not rows:
        raise ValueError("dataset: no items to evaluate")

    summary = {}
    for key in _SUMMARY_KEYS:
        values = np.array([row[key] for row in rows], dtype=np.float64)
        if np.isnan(values).all():
            summary[key] = (math.nan, math.nan)
        else:
            with np.errstate(invalid="ignore"):
                summary[key] = (float(np.mean(values)), float(np.std(values)))
    result = EvaluationResult(rows=rows, summary=summary, method=method, notes=notes)

    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(METRIC_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
        (out / "table.md").write_text(result.to_markdown(), encoding="utf-8")
    return result
