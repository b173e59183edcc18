"""Checkpoints that lose nothing: atomic writes, safe loading, clear errors.

One file per stage (``out_dir/<stage>/checkpoint.pt``) holds everything needed to continue the exact same
trajectory: model and optimizer state dicts, the GradScaler, the image pools, the step, the random number
generator states (torch, CUDA, numpy, python ``random``) and the run's configuration as a plain dict.

* :func:`save_checkpoint` writes to a temporary file in the same folder, flushes and fsyncs it, then renames it
  over the old file with ``os.replace`` (atomic on POSIX and Windows): a crash mid-write leaves the previous
  checkpoint intact and no half-written file under the real name.
* :func:`load_checkpoint` uses ``torch.load(..., weights_only=True)`` (no arbitrary code runs while loading, so
  configs are stored as dicts, never dataclasses) and turns every failure into a :class:`CheckpointError` that
  names the file and says what is wrong: unreadable (truncated, corrupt), not a course_lib checkpoint, or written
  for another configuration (listing the fields that differ).
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

__all__ = [
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "config_differences",
    "get_rng_state",
    "set_rng_state",
    "CHECKPOINT_FORMAT",
]

#: Written into every checkpoint; checked on loading.
CHECKPOINT_FORMAT = "course_lib.train/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, not ours, or written for another configuration."""


def write_atomic(path: str | os.PathLike, write) -> Path:
    """Write ``path`` atomically: ``write(handle)`` fills a temporary file in the same folder, which is fsynced and
    renamed over ``path`` (``os.replace``). If anything fails the temporary file is removed and an existing
    ``path`` is left untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)
    return path


def save_checkpoint(path: str | os.PathLike, obj: Mapping[str, Any]) -> Path:
    """Write ``obj`` to ``path`` atomically (temporary file in the same folder + fsync + ``os.replace``).

    The temporary file is removed if anything fails, so a failed save never leaves partial files behind and never
    touches an existing checkpoint at ``path``.
    """
    return write_atomic(path, lambda handle: torch.save(dict(obj), handle))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: Config fields added after checkpoints were first written, with the value every older checkpoint was trained
#: with: a checkpoint without the field matches a config that has this value.
FIELDS_ADDED_LATER: dict[str, Any] = {"chroma": 0.0, "feat_real": "gray", "colour_match": 0.0, "colour_bins": 0.0,
                                      "bins_temperature": 1.0, "bins_step": 0.1, "bins_rebalance": 0.5,
                                      "bins_stride": 1}


def config_differences(saved: Mapping[str, Any], current: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human-readable differences between two (nested) config dicts, e.g. ``["width: 8 in the checkpoint, 4 now"]``."""
    out = []
    for key in sorted(set(saved) | set(current), key=str):
        name = f"{prefix}{key}"
        if key not in saved and key in FIELDS_ADDED_LATER and current[key] == FIELDS_ADDED_LATER[key]:
            continue
        if key not in saved:
            out.append(f"{name}: missing in the checkpoint, {current[key]!r} now")
        elif key not in current:
            out.append(f"{name}: {saved[key]!r} in the checkpoint, not set now")
        elif isinstance(saved[key], Mapping) and isinstance(current[key], Mapping):
            out.extend(config_differences(saved[key], current[key], prefix=f"{name}."))
        elif _normalise(saved[key]) != _normalise(current[key]):
            out.append(f"{name}: {saved[key]!r} in the checkpoint, {current[key]!r} now")
    return out


def _normalise(value: Any) -> Any:
    # tuples come back from torch.load as tuples, but a config may hold lists; compare them alike
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return value


def load_checkpoint(
    path: str | os.PathLike,
    expected_config: Mapping[str, Any] | None = None,
    map_location: str | torch.device | None = "cpu",
) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` with ``torch.load(weights_only=True)``.

    Args:
        path: the checkpoint file.
        expected_config: if given, the checkpoint's ``"config"`` dict must equal it; otherwise the error lists
            every field that differs.
        map_location: where tensors are loaded (default CPU; models are moved afterwards).
    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: unreadable, not a course_lib checkpoint, or another configuration.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no such file {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, garbage bytes, pickle errors: all mean "unreadable"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"checkpoint {path} is unreadable (truncated or corrupt?): {type(exc).__name__}: {first_line}. "
            "It was left untouched; delete or move it to start this stage from scratch."
        ) from exc
    if not isinstance(obj, dict) or obj.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"checkpoint {path} is not a course_lib training checkpoint "
            f"(expected a dict with format={CHECKPOINT_FORMAT!r})"
        )
    if expected_config is not None:
        diffs = config_differences(obj.get("config", {}), expected_config)
        if diffs:
            raise CheckpointError(
                f"checkpoint {path} was written for another configuration ("
                + "; ".join(diffs)
                + "). It was left untouched: use another output folder, or delete the file to start over."
            )
    return obj


# ----------------------------------------------------------------------------------------------------------------
# Random number generator states, as tensors/lists that weights_only loading accepts
# ----------------------------------------------------------------------------------------------------------------
def get_rng_state() -> dict:
    """The states of torch (CPU and every CUDA device), numpy's global generator and python's ``random``."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": np_state[0],
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": _to_lists(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned (CUDA states only if CUDA is available here)."""
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    random.setstate(_to_tuples(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = [s.cpu() for s in state["cuda"]]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)


def _to_lists(value):
    return [_to_lists(v) for v in value] if isinstance(value, (tuple, list)) else value


def _to_tuples(value):
    return tuple(_to_tuples(v) for v in value) if isinstance(value, (tuple, list)) else value
