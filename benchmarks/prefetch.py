"""Does the training step's prefetch thread help or hurt on a CPU? Times the `pretrain` stage of the `cpu` profile
(whole images resized to 128 px, 16 rendered scenes, 12 steps) with the prefetch thread on and off, twice each,
alternating, in one process.

    python benchmarks/prefetch.py --threads 1
    python benchmarks/prefetch.py --threads 2

No thresholds: it prints seconds per run. The README's figure was measured with a one-thread training job busy on
the other core of a 2-core machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from course_lib.train import PROFILES, loop, pretrain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    profile = PROFILES["cpu"].replace(num_train=16, pretrain_steps=args.steps, sample_every=10**6,
                                      checkpoint_every=10**6, crop="resize")
    original = loop.StageRun.pair_batches
    try:
        for flag in (False, True, False, True):
            def pair_batches(self, stream=0, flag=flag):
                batches = original(self, stream)
                batches.prefetch = flag
                return batches

            loop.StageRun.pair_batches = pair_batches
            with tempfile.TemporaryDirectory() as folder:
                start = time.time()
                pretrain(profile, folder, device="cpu")
                print(f"threads {args.threads}, prefetch {flag}: {args.steps} pretrain steps in "
                      f"{time.time() - start:.2f} s", flush=True)
    finally:
        loop.StageRun.pair_batches = original
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
