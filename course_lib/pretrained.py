"""Pretrained colorizers shipped with the package: exporting a run, registering the file, loading it safely.

A *pretrained file* holds what inference needs and nothing else, for both routes of one training run:

* ``progressive``: G_N2G and F_G of the run's ``finetune/checkpoint.pt``;
* ``direct``: the network of its ``direct/checkpoint.pt``;

as float16 state dicts (no optimizers, no discriminators, no G_G2N, no RNG or sampler states), with the specs
that rebuild the networks (``course_lib.train.build_model``), each checkpoint's profile and config dicts and
steps, and an ``extra`` dict (how it was trained, its scores...). It is a small fraction of the size of the two
checkpoints it comes from (about a tenth on a smoke run): half the bytes per weight, and neither the Adam moments
nor the discriminators and G_G2N.

The registry ``course_lib/weights/registry.json`` (package data) maps a name to a file of that folder and its
SHA-256::

    {"vcip2020": {"file": "vcip2020.pt", "sha256": "...", "bytes": 1234, "description": "...",
                  "trained_with": "python -m course_lib train ...", "scores": {"psnr": ...}}}

:func:`load_pretrained` hashes the file and compares the digest with the registry entry *before* unpickling it,
then unpickles it with ``torch.load(weights_only=True)``: a file that was truncated, corrupted or replaced is
refused without running anything from it.

Workflow of whoever ships weights (the registry starts empty)::

    python -m course_lib train --stage all --data data/vcip2020 --dataset vcip2020 --out runs/vcip --profile paper
    from course_lib.pretrained import export_pretrained, register_pretrained
    export_pretrained("runs/vcip", "vcip2020.pt", "vcip2020", extra={"trained_with": "...", "scores": {...}})
    register_pretrained("vcip2020", "vcip2020.pt", "MPFNet trained on VCIP 2020", "python -m course_lib ...",
                        {"psnr": ..., "ssim": ...})

and of whoever uses them::

    from course_lib.pretrained import load_pretrained
    colorizer = load_pretrained("vcip2020", route="progressive")      # a ProgressiveColorizer, eval mode
    rgb = colorizer.colorize(nir)                                       # (1, H, W) or (N, 1, H, W) in [-1, 1]

or ``python -m course_lib colorize NIR_FOLDER --pretrained vcip2020 --route direct --out DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import torch

__all__ = [
    "export_pretrained", "register_pretrained", "load_pretrained", "pretrained_info", "route_checkpoint",
    "read_registry",
    "registry_path", "PretrainedChecksumError", "PRETRAINED_FORMAT", "ROUTES", "REGISTRY_FILE",
]

#: Written into every pretrained file; checked on loading.
PRETRAINED_FORMAT = "course_lib.pretrained/1"

#: route -> (stage folder of the run, networks kept from its checkpoint)
ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "progressive": ("finetune", ("g_n2g", "f_g")),
    "direct": ("direct", ("net",)),
}

#: The registry to use instead of the package's ``course_lib/weights/registry.json`` (None: the package's). Tests
#: point it at a temporary file; the weights files are looked for (and registered) next to the registry.
REGISTRY_FILE: str | os.PathLike | None = None

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRAIN_HINT = ("train a run (python -m course_lib train --stage all --out runs/NAME), then export and register it "
               "(course_lib.pretrained.export_pretrained and register_pretrained), or colorize with "
               "--checkpoint RUN_FOLDER instead")


class PretrainedChecksumError(ValueError):
    """A pretrained file whose SHA-256 (or size) is not the one its registry entry records."""


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def registry_path(registry: str | os.PathLike | None = None) -> Path:
    """The registry file: ``registry`` if given, else :data:`REGISTRY_FILE` if set, else the package's
    ``course_lib/weights/registry.json``."""
    if registry is not None:
        return Path(registry)
    if REGISTRY_FILE is not None:
        return Path(REGISTRY_FILE)
    return Path(str(resources.files("course_lib.weights") / "registry.json"))


def read_registry(registry: str | os.PathLike | None = None) -> dict[str, dict]:
    """The registry as ``{name: entry}`` (``{}`` when the file does not exist or is empty)."""
    path = registry_path(registry)
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"pretrained registry {path} is not valid JSON ({exc}); reinstall course_lib") from None
    if not isinstance(data, dict):
        raise ValueError(f"pretrained registry {path}: expected a JSON object {{name: entry}}, got "
                         f"{type(data).__name__}")
    return data


def _write_atomic(path: Path, write) -> None:
    """Write ``path`` through a temporary file in the same folder, fsync, then ``os.replace`` (atomic)."""
    from .train.checkpoint import write_atomic

    write_atomic(path, write)


def _check_json(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: expected JSON-able values (str, numbers, bool, None, lists, dicts), got "
                         f"{value!r} ({exc})") from None


def _half(state: Mapping[str, Any]) -> dict:
    """A state dict with its floating-point tensors in float16 (integer buffers kept as they are)."""
    return {k: (v.detach().to("cpu", dtype=torch.float16) if v.is_floating_point() else v.detach().cpu())
            for k, v in state.items()}


# ----------------------------------------------------------------------------------------------------------------
# export and register
# ----------------------------------------------------------------------------------------------------------------
def _current_state(spec: Mapping[str, Any], state: Mapping[str, torch.Tensor], path: Path, net: str) -> dict:
    """``state`` loaded into the network ``spec`` builds and read back: the weights in this course_lib's layout
    (keys an older layout kept are dropped by the model's load hooks) and checked against the spec (a mismatch
    raises ValueError naming the checkpoint)."""
    from .train.configs import build_model

    model = build_model(dict(spec))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"export_pretrained: the weights of {net!r} in {path} do not fit its model spec "
                         f"({str(exc).splitlines()[0]})") from None
    return model.state_dict()


def export_pretrained(run_dir: str | os.PathLike, out_file: str | os.PathLike, name: str,
                      extra: Mapping[str, Any] | None = None, *, allow_unfinished: bool = False) -> str:
    """Write the inference weights of a run folder to one file; return the file's SHA-256 (hex).

    Reads ``run_dir/finetune/checkpoint.pt`` (progressive route: its ``g_n2g`` and ``f_g``) and
    ``run_dir/direct/checkpoint.pt`` (direct route: its ``net``) and keeps, per route, the generators' weights in
    float16, their model specs, the checkpoint's ``profile`` and ``config`` dicts, ``step`` and ``total_steps``.
    ``extra`` (a JSON-able dict: the command that trained it, measured scores...) and ``name`` are stored too.
    The file is written atomically (temporary file + ``os.replace``): an existing ``out_file`` is only ever
    replaced by a complete new one.

    Raises:
        FileNotFoundError: a checkpoint is missing (naming it).
        ValueError: a checkpoint is not finished (``finished`` false; naming it) unless ``allow_unfinished``,
            is not the stage expected, lacks a network, or ``extra`` is not JSON-able.
        course_lib.train.CheckpointError: a checkpoint is unreadable.
    """
    from .train.checkpoint import load_checkpoint

    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: expected letters, digits, '_', '-', '.' (used as a file name), got {name!r}")
    extra = _check_json(dict(extra or {}), "extra")
    run_dir = Path(run_dir)
    routes = {}
    for route, (stage, nets) in ROUTES.items():
        path = run_dir / stage / "checkpoint.pt"
        if not path.is_file():
            raise FileNotFoundError(f"export_pretrained: the {route} route needs {path}, which does not exist "
                                    f"(train it: python -m course_lib train --stage {stage} --out {run_dir})")
        ckpt = load_checkpoint(path)
        if ckpt.get("stage") != stage:
            raise ValueError(f"export_pretrained: {path} is a {ckpt.get('stage')!r} checkpoint; expected {stage!r}")
        if not ckpt.get("finished", False) and not allow_unfinished:
            raise ValueError(f"export_pretrained: {path} is not finished (step {ckpt.get('step')} of "
                             f"{ckpt.get('total_steps')}); finish training it, or pass allow_unfinished=True")
        missing = [n for n in nets if n not in ckpt["models"] or n not in ckpt["model_specs"]]
        if missing:
            raise ValueError(f"export_pretrained: {path} lacks the network(s) {missing}; expected {list(nets)}")
        routes[route] = {
            "stage": stage,
            "step": int(ckpt["step"]),
            "total_steps": int(ckpt["total_steps"]),
            "finished": bool(ckpt.get("finished", False)),
            "profile": ckpt.get("profile", {}),
            "config": ckpt.get("config", {}),
            "model_specs": {n: ckpt["model_specs"][n] for n in nets},
            "models": {n: _half(_current_state(ckpt["model_specs"][n], ckpt["models"][n], path, n)) for n in nets},
        }
        del ckpt
    from . import __version__

    obj = {"format": PRETRAINED_FORMAT, "name": name, "course_lib_version": __version__, "routes": routes,
           "extra": extra}
    out_file = Path(out_file)
    _write_atomic(out_file, lambda handle: torch.save(obj, handle))
    return _sha256(out_file)


def register_pretrained(name: str, file: str | os.PathLike, description: str, trained_with: str,
                        scores: Mapping[str, Any], *, registry: str | os.PathLike | None = None) -> dict:
    """Put a file written by :func:`export_pretrained` next to the registry and record it under ``name``.

    The file is copied (atomically) to ``<registry folder>/<name>.pt`` - ``course_lib/weights/`` unless
    ``registry`` or :data:`REGISTRY_FILE` says otherwise - unless it is that file already. The entry
    ``{"file", "sha256", "bytes", "description", "trained_with", "scores"}`` is computed from the copy and the
    registry rewritten atomically (other entries kept; an entry of the same name replaced). Returns the entry.

    Raises ValueError for a bad name, a file that is not a pretrained file, or ``scores`` that are not JSON-able;
    FileNotFoundError for a missing file.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: expected letters, digits, '_', '-', '.' (used as a file name), got {name!r}")
    source = Path(file)
    if not source.is_file():
        raise FileNotFoundError(f"register_pretrained: no such file {source}")
    try:
        obj = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"register_pretrained: {source} is unreadable ({type(exc).__name__}); expected a file "
                         "written by export_pretrained") from None
    if not isinstance(obj, dict) or obj.get("format") != PRETRAINED_FORMAT:
        raise ValueError(f"register_pretrained: {source} is not a pretrained file (expected format "
                         f"{PRETRAINED_FORMAT!r}, as export_pretrained writes)")
    missing = [r for r in ROUTES if r not in obj.get("routes", {})]
    if missing:
        raise ValueError(f"register_pretrained: {source} lacks the route(s) {missing}")
    del obj
    scores = _check_json(dict(scores), "scores")
    reg_file = registry_path(registry)
    target = reg_file.parent / f"{name}.pt"
    if not (target.exists() and os.path.samefile(source, target)):
        with open(source, "rb") as src:
            _write_atomic(target, lambda handle: shutil.copyfileobj(src, handle))
    entry = {"file": target.name, "sha256": _sha256(target), "bytes": target.stat().st_size,
             "description": str(description), "trained_with": str(trained_with), "scores": scores}
    entries = read_registry(reg_file)
    entries[name] = entry
    text = json.dumps(dict(sorted(entries.items())), indent=2, sort_keys=True) + "\n"
    _write_atomic(reg_file, lambda handle: handle.write(text.encode("utf-8")))
    return entry


# ----------------------------------------------------------------------------------------------------------------
# load
# ----------------------------------------------------------------------------------------------------------------
def _entry(name: str, registry: str | os.PathLike | None) -> tuple[dict, Path]:
    reg_file = registry_path(registry)
    entries = read_registry(reg_file)
    if name not in entries:
        if not entries:
            raise ValueError(f"pretrained weights {name!r}: no pretrained weights are shipped with this course_lib "
                             f"yet (the registry {reg_file} is empty); {_TRAIN_HINT}")
        raise ValueError(f"pretrained weights: unknown name {name!r}; known: {sorted(entries)}")
    entry = entries[name]
    for key in ("file", "sha256"):
        if key not in entry:
            raise ValueError(f"pretrained registry {reg_file}: the entry {name!r} has no {key!r}; reinstall "
                             "course_lib")
    return entry, reg_file


def _verified(name: str, path: str | os.PathLike | None,
              registry: str | os.PathLike | None) -> tuple[dict, dict, Path]:
    """(registry entry, unpickled file, file path), the file checked against the entry before unpickling."""
    entry, reg_file = _entry(name, registry)
    file = Path(path) if path is not None else reg_file.parent / entry["file"]
    if not file.is_file():
        raise FileNotFoundError(f"pretrained weights {name!r}: expected the file {file} (registry {reg_file}), "
                                "which does not exist; reinstall course_lib or re-export and register it")
    expected_bytes = entry.get("bytes")
    actual_sha = _sha256(file)
    if actual_sha != entry["sha256"]:
        size = file.stat().st_size
        sizes = f"; {size} bytes, expected {expected_bytes}" if expected_bytes is not None and size != expected_bytes \
            else ""
        raise PretrainedChecksumError(
            f"pretrained weights {name!r}: SHA-256 mismatch for {file}: expected {entry['sha256']}, got "
            f"{actual_sha}{sizes}. The file was not loaded; reinstall course_lib or re-export the weights "
            "(export_pretrained + register_pretrained)")
    try:
        obj = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"pretrained weights {name!r}: {file} matches its SHA-256 but is unreadable "
                         f"({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"
                         ) from None
    if not isinstance(obj, dict) or obj.get("format") != PRETRAINED_FORMAT:
        raise ValueError(f"pretrained weights {name!r}: {file} is not a pretrained file (expected format "
                         f"{PRETRAINED_FORMAT!r}, as export_pretrained writes)")
    return entry, obj, file


def load_pretrained(name: str = "vcip2020", route: str = "progressive", device: str | Any = "cpu",
                    path: str | os.PathLike | None = None, *, registry: str | os.PathLike | None = None):
    """A pretrained NIR -> RGB colorizer, in float32 and eval mode.

    Args:
        name: the registry entry (``course_lib/weights/registry.json``, or ``registry``).
        route: ``"progressive"`` -> :class:`~course_lib.train.ProgressiveColorizer` (G_N2G then F_G; its
            ``colorize(nir, return_gray=True)`` also gives the translated gray), ``"direct"`` ->
            :class:`~course_lib.train.DirectColorizer`.
        device: where the networks go.
        path: the weights file, for one kept outside the package; it is still checked against the SHA-256 that
            the registry records for ``name``.
        registry: another registry file (default: :data:`REGISTRY_FILE`, else the package's).
    Raises:
        ValueError: unknown ``route``, unknown ``name`` (listing the known ones; an empty registry says that no
            weights are shipped yet and how to make some), or a file that is not a pretrained file.
        FileNotFoundError: the file is missing.
        PretrainedChecksumError: the file's SHA-256 differs from the registry's (checked before unpickling).
    """
    from .train.configs import build_model
    from .train.inference import DirectColorizer, ProgressiveColorizer

    if route not in ROUTES:
        raise ValueError(f"route: expected one of {list(ROUTES)}, got {route!r}")
    _, obj, file = _verified(name, path, registry)
    stored = obj.get("routes", {}).get(route)
    if stored is None:
        raise ValueError(f"pretrained weights {name!r}: {file} holds no {route!r} route (it has "
                         f"{sorted(obj.get('routes', {}))})")
    nets = {}
    for net_name in ROUTES[route][1]:
        model = build_model(stored["model_specs"][net_name])
        state = {k: v.float() if v.is_floating_point() else v for k, v in stored["models"][net_name].items()}
        model.load_state_dict(state)
        nets[net_name] = model.float().to(device).eval()
    if route == "progressive":
        return ProgressiveColorizer(nets["g_n2g"], nets["f_g"]).eval()
    return DirectColorizer(nets["net"]).eval()


def pretrained_info(name: str = "vcip2020", path: str | os.PathLike | None = None, *,
                    registry: str | os.PathLike | None = None) -> dict:
    """The registry entry of ``name`` plus what its (SHA-256-checked) file records.

    Returns ``{**entry, "name", "path", "format", "course_lib_version", "extra", "routes": {route: {"stage",
    "step", "total_steps", "finished", "profile", "config", "model_specs"}}}`` (everything but the weights).
    Raises as :func:`load_pretrained`.
    """
    entry, obj, file = _verified(name, path, registry)
    routes = {}
    for route, stored in obj.get("routes", {}).items():
        routes[route] = {k: v for k, v in stored.items() if k != "models"}
    return {**entry, "name": name, "path": str(file), "format": obj.get("format"),
            "course_lib_version": obj.get("course_lib_version"), "extra": obj.get("extra", {}), "routes": routes}


def route_checkpoint(name: str, route: str, path: str | os.PathLike | None = None, *,
                     registry: str | os.PathLike | None = None) -> dict:
    """One route of the weights ``name`` as a finished, weights-only training checkpoint (the stage's networks in
    float32, their specs, the stage's config and profile), which :func:`course_lib.train.save_checkpoint` can
    write as ``<run>/<stage>/checkpoint.pt``: to ship a new file that carries one route of an older one over
    unchanged (``tools/ship_weights.py --direct-from``). Raises as :func:`load_pretrained`."""
    from .train.checkpoint import CHECKPOINT_FORMAT

    if route not in ROUTES:
        raise ValueError(f"route: expected one of {list(ROUTES)}, got {route!r}")
    _, obj, file = _verified(name, path, registry)
    stored = obj.get("routes", {}).get(route)
    if stored is None:
        raise ValueError(f"pretrained weights {name!r}: {file} holds no {route!r} route")
    return {"format": CHECKPOINT_FORMAT, "stage": stored["stage"], "step": stored["step"],
            "total_steps": stored["total_steps"], "finished": stored["finished"], "weights_only": True,
            "config": stored["config"], "profile": stored["profile"], "model_specs": stored["model_specs"],
            "models": {n: {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
                       for n, state in stored["models"].items()},
            "optimizers": {}, "scaler": {}, "pools": {}, "sampler": {}, "rng": {},
            "meta": {"from_pretrained": name}}
