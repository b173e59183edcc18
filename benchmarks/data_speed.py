"""How fast the course renders its offline data: spectral scenes per second (the number that must stay above the
training step rate so data never holds training back).

    python benchmarks/data_speed.py                     # 256 px, 64 scenes, one process
    python benchmarks/data_speed.py --size 64 --count 200
    python benchmarks/data_speed.py --workers 2         # also through a torch DataLoader with 2 workers

Reports, with a description of the machine: scenes/s of ``SpectralScenes`` (render + tensor conversion), the
same with the paper's augmentation (``PairAugment``), and optionally through a DataLoader. The one-off cost of
the first scene (importing ``colour`` and precomputing the material responses) is reported separately. No
thresholds: it only prints.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch


def machine_description() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        load = ", load average %.2f %.2f %.2f" % os.getloadavg()
    except (OSError, AttributeError):
        load = ""
    return (f"CPU: {cpu}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}{load}\n"
            f"torch {torch.__version__}, Python {platform.python_version()}, {platform.system()} {platform.release()}")


def _rate(dataset, count: int) -> tuple[float, float]:
    """(scenes per wall-clock second, scenes per CPU second of this process). On a shared machine the second is
    what one free core would give."""
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        dataset[i]
    return count / (time.perf_counter() - start), count / max(time.process_time() - cpu, 1e-9)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="scene size in pixels (default 256)")
    parser.add_argument("--count", type=int, default=64, help="scenes to render per measurement (default 64)")
    parser.add_argument("--workers", type=int, default=0, help="also measure a DataLoader with this many workers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from course_lib.data import PairAugment, SpectralScenes

    print(machine_description())
    start = time.perf_counter()
    plain = SpectralScenes(size=args.size, count=args.count + 1, seed=args.seed)
    plain[args.count]  # first scene: imports colour, precomputes the material responses
    first = time.perf_counter() - start
    print(f"first scene (one-off setup: colour import + material responses): {first:.2f} s")

    wall, cpu = _rate(plain, args.count)
    results = {"scenes_per_s": wall, "scenes_per_cpu_s": cpu}
    print(f"SpectralScenes {args.size} px: {wall:.1f} scenes/s ({1000 / wall:.1f} ms per scene wall clock, "
          f"{args.count} scenes); {cpu:.1f} scenes per CPU-second ({1000 / cpu:.1f} ms CPU per scene)")
    augmented = SpectralScenes(size=args.size, count=args.count, seed=args.seed, transform=PairAugment(args.size))
    wall, cpu = _rate(augmented, args.count)
    results["augmented_scenes_per_s"], results["augmented_scenes_per_cpu_s"] = wall, cpu
    print(f"SpectralScenes {args.size} px + PairAugment: {wall:.1f} scenes/s; {cpu:.1f} scenes per CPU-second")
    if args.workers > 0:
        loader = torch.utils.data.DataLoader(augmented, batch_size=8, num_workers=args.workers)
        start = time.perf_counter()
        n = sum(len(batch["name"]) for batch in loader)
        results["loader_scenes_per_s"] = n / (time.perf_counter() - start)
        print(f"DataLoader ({args.workers} workers, batch 8, incl. worker start-up): "
              f"{results['loader_scenes_per_s']:.1f} scenes/s")
    return results


if __name__ == "__main__":
    main()
