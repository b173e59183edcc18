"""The stage runner every stage shares, written once: checkpoints, resume, the step loop, logs, Ctrl-C.

Its helpers live beside it, one concern per file: ``batches.py`` (training data, deterministic batches),
``records.py`` (StageResult, the loss log, sample grids), ``device.py`` (devices, mixed precision, seeds); their
names are importable from here as before.

A stage (``stage1_translate.py`` ...) keeps its training step in plain sight and delegates the rest to a
:class:`StageRun`::

    run = StageRun("pretrain", profile, out_dir, config, total_steps=..., device=..., data=...)
    ... build models and optimizers ...
    run.track(models={...}, optimizers={...}, scaler=scaler, lr=lr)   # resume() gives every optimizer lr
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

import math
import os
import signal
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import torch
from torch import nn
from tqdm.auto import tqdm

from .batches import CACHE_LIMIT_BYTES, SPECTRAL_TRAIN_SEED, PairBatches, test_data, training_data  # noqa: F401
from .checkpoint import CHECKPOINT_FORMAT, get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from .configs import build_model, config_to_dict
from .device import autocast, make_scaler, resolve_device, seed_everything  # noqa: F401
from .pool import ImagePool
from .profiles import Profile
from .records import LossLog, StageResult, read_losses, save_sample_grid  # noqa: F401

__all__ = [
    "StageRun", "StageResult", "TrainingInterrupted", "PairBatches", "resolve_device", "autocast",
    "make_scaler", "training_data", "test_data", "seed_everything", "SPECTRAL_TRAIN_SEED",
    "STAGE_NAMES",
]

#: Stage folders under out_dir.
STAGE_NAMES = ("translate", "pretrain", "finetune", "direct", "direct_unet")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a KeyboardInterrupt from a callback) stopped a stage; its checkpoint was saved first.

    Attributes: ``stage``, ``step`` (the last finished step, the one in the checkpoint), ``checkpoint`` (path).
    """

    def __init__(self, stage: str, step: int, checkpoint: Path | None):
        self.stage, self.step, self.checkpoint = stage, step, checkpoint
        where = f"checkpoint saved at step {step}: {checkpoint}" if checkpoint else "no checkpoint saved"
        super().__init__(f"{stage} interrupted ({where})")


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
    PROFILE_KEYS = ("image_size", "width", "depth", "batch_size", "lr", "num_train", "crop", "translator_width",
                    "translator_depth")

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
            # crop, translator_width and translator_depth are recorded only when they are not the default, so
            # checkpoints from before they existed still match
            "profile": {k: getattr(profile, k) for k in self.PROFILE_KEYS
                        if not (k == "crop" and profile.crop == "resize")
                        and not (k in ("translator_width", "translator_depth") and getattr(profile, k) is None)},
            "data": data_desc,
            **dict(extra_config or {}),
        }
        self.models: dict[str, nn.Module] = {}
        self.specs: dict[str, dict] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.lr: float | None = None   # the stage's learning rate (track), re-applied on resume
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
              scaler: Any = None, pools: Mapping[str, ImagePool] | None = None, lr: float | None = None) -> None:
        """Register what the checkpoint must hold; ``lr``: the stage's learning rate, which :meth:`resume` gives
        every optimizer after restoring it (a stage resumed or continued at another rate takes the new one)."""
        self.models, self.optimizers, self.lr = dict(models), dict(optimizers), lr
        self.scaler, self.pools = scaler, dict(pools or {})
        missing = sorted(set(self.models) - set(self.specs))
        if missing:
            raise ValueError(f"models {missing} were not built with StageRun.build (no spec to rebuild them)")

    def _apply_lr(self) -> None:
        """Give every tracked optimizer the stage's rate (a restored optimizer state carries the saved one)."""
        if self.lr is None:
            return
        saved = sorted({g["lr"] for o in self.optimizers.values() for g in o.param_groups} - {self.lr})
        for o in self.optimizers.values():
            for group in o.param_groups:
                group["lr"] = self.lr
        if saved and self.step < self.total_steps:
            print(f"[{self.stage}] learning rate {self.lr:g} (the checkpoint's optimizers were at "
                  f"{', '.join(f'{v:g}' for v in saved)})")

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
                    try:
                        o.load_state_dict(ckpt["optimizers"][k])
                    except ValueError as exc:  # saved for other parameters (an older course_lib's network)
                        print(f"[{self.stage}] the optimizer state of {k!r} in {self.checkpoint_path} does not fit "
                              f"the network ({exc}); its weights are restored, its optimizer state starts fresh")
                if self.scaler is not None and ckpt.get("scaler"):
                    self.scaler.load_state_dict(ckpt["scaler"])
                for k, p in self.pools.items():
                    p.load_state_dict(ckpt["pools"][k])
            set_rng_state(ckpt["rng"])
            self.step = self._saved_step = int(ckpt["step"])
            self._apply_lr()
            if slim and self.step < self.total_steps:
                dropped = f" and the networks {missing} (re-initialised)" if missing else ""
                print(f"[{self.stage}] continuing a finished stage from step {self.step} to {self.total_steps}: "
                      f"its checkpoint kept the weights only, so the optimizer state{dropped} "
                      f"start{'' if dropped else 's'} fresh")
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
