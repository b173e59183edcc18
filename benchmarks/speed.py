"""Training-step speed of the colorizer F_G (MPFNet, 1 -> 3 channels): forward + backward throughput.

    python benchmarks/speed.py                       # course setting: 256 px, batch 10, width 32, depth 5
    python benchmarks/speed.py --size 128 --batch 2 --iters 2 --device cpu
    python benchmarks/speed.py --amp                 # mixed precision (torch.autocast, float16) on CUDA

Throughput in images/s alone says little across machines, so the script also measures how many
multiply-accumulates per second (MAC/s) one large 3x3 convolution reaches on the same device in the same
run, counts the model's MACs (every Conv2d / ConvTranspose2d, with forward hooks), and reports

    efficiency = model MAC/s / big-conv MAC/s

i.e. the fraction of the device's practical convolution speed the model uses. Forward + backward is
counted as 3x the forward MACs (the backward pass computes gradients for inputs and for weights) for
both the model and the reference conv. Peak memory is reported on CUDA. No thresholds: it only prints.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch
import torch.nn as nn

from course_lib.models import MPFNet, count_parameters


def machine_description(device: torch.device) -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [f"CPU: {cpu}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}",
             f"torch {torch.__version__}, Python {platform.python_version()}, {platform.system()}"]
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        lines.append(f"GPU: {props.name}, {props.total_memory / 2**30:.1f} GiB, CUDA {torch.version.cuda}")
    else:
        lines.append("GPU: none used")
    return "\n".join(lines)


def count_macs(model: nn.Module, *inputs) -> int:
    """Forward multiply-accumulates of all convolutions, counted with forward hooks on one forward pass."""
    total = 0

    def conv_hook(module, args, output):
        nonlocal total
        kh, kw = module.kernel_size
        if isinstance(module, nn.ConvTranspose2d):  # every input element is spread over a k x k x C_out window
            total += args[0].numel() * (module.out_channels // module.groups) * kh * kw
        else:                                        # every output element gathers a k x k x C_in window
            total += output.numel() * (module.in_channels // module.groups) * kh * kw

    handles = [m.register_forward_hook(conv_hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step, device: torch.device, warmup: int, iters: int) -> float:
    """Seconds per call of step(), after warmup calls."""
    for _ in range(warmup):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        step()
    synchronize(device)
    return (time.perf_counter() - start) / iters


def reference_conv_rate(device: torch.device, amp: bool, channels: int, size: int, batch: int,
                        warmup: int, iters: int) -> float:
    """Forward + backward MAC/s of one large 3x3 conv (channels -> channels) on the device."""
    conv = nn.Conv2d(channels, channels, 3, padding=1).to(device)
    x = torch.randn(batch, channels, size, size, device=device, requires_grad=True)
    macs = 3 * batch * channels * size * size * channels * 9

    def step():
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            y = conv(x)
        y.float().mean().backward()

    return macs / time_steps(step, device, warmup, iters)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="image size in px (square)")
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--amp", action="store_true", help="mixed precision (float16 autocast) on CUDA")
    parser.add_argument("--iters", type=int, default=10, help="timed steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    args = parser.parse_args(argv)

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    amp = args.amp and device.type == "cuda"
    if args.amp and not amp:
        print("note: --amp only applies on CUDA; running in float32")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    print(machine_description(device))
    torch.manual_seed(0)
    model = MPFNet(1, 3, width=args.width, depth=args.depth).to(device).train()
    x = torch.rand(args.batch, 1, args.size, args.size, device=device) * 2 - 1
    macs = count_macs(model, x[:1])                     # per image
    print(f"F_G = MPFNet(1, 3, width={args.width}, depth={args.depth}): {count_parameters(model) / 1e6:.2f} M "
          f"parameters, {macs / 1e9:.2f} GMAC per {args.size}x{args.size} image (forward)")

    def step():
        model.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
            predictions = model(x)
        sum(p.float().mean() for p in predictions).backward()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = time_steps(step, device, args.warmup, args.iters)
    images_per_s = args.batch / seconds
    model_rate = 3 * macs * images_per_s

    # the reference conv: big enough to saturate the device, small enough to run in a second on a CPU
    ref = dict(channels=256, size=64, batch=16) if device.type == "cuda" else dict(channels=128, size=32, batch=2)
    conv_rate = reference_conv_rate(device, amp, warmup=args.warmup, iters=max(args.iters, 3), **ref)

    print(f"setting: {args.size} px, batch {args.batch}, device {device}, "
          f"{'AMP float16' if amp else 'float32'}, {args.warmup} warm-up + {args.iters} timed steps")
    print(f"forward+backward: {seconds * 1000:.1f} ms/step, {images_per_s:.2f} images/s")
    print(f"model: {model_rate / 1e9:.2f} GMAC/s (3 x forward MACs)")
    print(f"reference 3x3 conv {ref['channels']}->{ref['channels']} ch, {ref['size']} px, batch {ref['batch']}: "
          f"{conv_rate / 1e9:.2f} GMAC/s")
    print(f"efficiency (model MAC/s / conv MAC/s): {model_rate / conv_rate:.3f}")
    if device.type == "cuda":
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
