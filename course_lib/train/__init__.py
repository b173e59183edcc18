"""Training of MPFNet: the three stages of the progressive route and the direct baseline (Section II.B, III.A).

- ``translate``     stage 1, Eq. (1): CycleGAN NIR <-> gray (``stage1_translate.py``)
- ``pretrain``      stage 2, Eq. (2): colorizer F_G on gray -> RGB (``stage2_pretrain.py``)
- ``finetune``      stage 3, Eqs. (3)-(5): NIR -> G_N2G -> F_G -> RGB (``stage3_finetune.py``)
- ``train_direct``  the baseline: the same network trained NIR -> RGB directly (``direct.py``)
- ``run_all``       all of them in order (``pipeline.py``)

Each stage takes a :class:`Profile` (sizes and schedules: ``smoke``, ``course``, ``paper``; ``get_profile``) and
a typed config (``TranslateConfig``, ``PretrainConfig``, ``FinetuneConfig``, ``DirectConfig``), writes
``out_dir/<stage>/{checkpoint.pt, losses.csv, samples/}``, resumes from its checkpoint, and returns a
:class:`StageResult`. What they share, one concern per file: ``loop.py`` the stage runner (``StageRun``:
checkpoints, resume, Ctrl-C, the step loop), ``batches.py`` the data and deterministic batches, ``records.py`` the
result, loss log and sample grids, ``device.py`` devices, mixed precision and seeds, ``gan.py`` the CycleGAN
objective of stages 1 and 3, ``pool.py`` image pools, ``checkpoint.py`` atomic saving and safe loading,
``inference.py`` the colorizers.
"""

from .checkpoint import CheckpointError, config_differences, load_checkpoint, save_checkpoint
from .budget import measure_step_seconds
from .configs import (DirectConfig, FinetuneConfig, PretrainConfig, StageConfig, TranslateConfig, build_model,
                      make_configs)
from .direct import direct_stage_name, train_direct
from .inference import (DirectColorizer, ProgressiveColorizer, find_checkpoint, find_colorizer_checkpoints,
                        load_colorizer, load_stage, set_temperature)
from .loop import (STAGE_NAMES, PairBatches, StageResult, StageRun, TrainingInterrupted, read_losses,
                   resolve_device, test_data, training_data)
from .pipeline import run_all
from .pool import ImagePool, set_requires_grad
from .profiles import PROFILES, Profile, get_profile, stage_budget
from .stage1_translate import translate
from .stage2_pretrain import pretrain
from .stage3_finetune import finetune

__all__ = [
    "translate", "pretrain", "finetune", "train_direct", "run_all",
    "Profile", "PROFILES", "get_profile", "stage_budget", "measure_step_seconds",
    "StageConfig", "TranslateConfig", "PretrainConfig", "FinetuneConfig", "DirectConfig", "make_configs",
    "StageResult", "StageRun", "TrainingInterrupted", "PairBatches", "read_losses", "training_data", "test_data",
    "resolve_device", "STAGE_NAMES", "direct_stage_name",
    "save_checkpoint", "load_checkpoint", "CheckpointError", "config_differences",
    "ImagePool", "set_requires_grad", "build_model",
    "ProgressiveColorizer", "DirectColorizer", "load_stage", "load_colorizer", "set_temperature", "find_checkpoint",
    "find_colorizer_checkpoints",
]
