"""Inference speed of the detector at 256x256, including decoding, and what
each optimisation buys: ``python -m benchmarks inference`` or
``python -m benchmarks.bench_inference --compile --map-scenes 200``.

Variants run side by side in one process on the same weights (the shipped
model when present): float32 eager, then inference_mode + conv-bn fusion,
channels_last, bfloat16 autocast and optionally torch.compile. Prints
images/s at batch 32, p50/p99 ms at batch 1, GFLOPs per image and the
measured GFLOP/s, and (with ``--map-scenes``) mAP@0.5 of each variant.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time


def _variants(detector, use_compile: bool):
    import torch

    from perception.backbone import fuse_conv_bn

    plain = copy.deepcopy(detector.network_).eval()
    fused = fuse_conv_bn(copy.deepcopy(detector.network_).eval())
    fused_cl = copy.deepcopy(fused).to(memory_format=torch.channels_last)
    variants = [
        ("fp32 eager (no_grad)", plain, None, False, torch.no_grad),
        ("+ inference_mode + conv-bn fusion", fused, None, False, torch.inference_mode),
        ("+ channels_last", fused_cl, None, True, torch.inference_mode),
        ("+ bf16 autocast (predict default)", fused_cl, torch.bfloat16, True, torch.inference_mode),
    ]
    if use_compile:
        compiled = torch.compile(copy.deepcopy(fused_cl))
        variants.append(("+ torch.compile", compiled, torch.bfloat16, True, torch.inference_mode))
    return variants


def _run(detector, network, dtype, channels_last, context, images, threshold=0.3):
    import torch

    from perception.decode import decode_outputs

    with context():
        x = images.contiguous(memory_format=torch.channels_last) if channels_last else images
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            outputs = network(x)
        return decode_outputs(outputs.float(), num_classes=len(detector.class_names),
                              attribute_sizes=detector.attribute_sizes, score_threshold=threshold)


def _time(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _gflops_per_image(network, size: int) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        network(torch.rand(1, 3, size, size))
    return counter.get_total_flops() / 1e9


def _map(detector, network, dtype, channels_last, context, data) -> float:
    from perception.evaluation import coco_map

    predictions, targets = [], []
    for index in range(0, len(data), 32):
        items = [data[i] for i in range(index, min(len(data), index + 32))]
        import torch
        images = torch.stack([image for image, _ in items])
        for item in _run(detector, network, dtype, channels_last, context, images, threshold=0.01):
            predictions.append(detector._to_detections(item, images.shape[-2:]))
        targets += [target for _, target in items]
    return coco_map(predictions, targets, detector.class_names, [tuple(images.shape[-2:])] * len(targets))["map_50"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="bench_inference", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile (slow to warm up)")
    parser.add_argument("--map-scenes", type=int, default=0, help="also measure mAP@0.5 on N default scenes")
    parser.add_argument("--weights", help="checkpoint (default: the shipped model, else random weights)")
    args = parser.parse_args(argv)

    import os

    import torch

    from perception.model import DEFAULT_WEIGHTS, Detector

    torch.set_num_threads(args.threads)
    if args.weights or DEFAULT_WEIGHTS.exists():
        detector = Detector.load(args.weights or DEFAULT_WEIGHTS)
    else:
        detector = Detector()
        detector.network_ = detector.build_network().eval()
    generator = torch.Generator().manual_seed(0)
    big = torch.rand(args.batch, 3, args.size, args.size, generator=generator)
    one = torch.rand(1, 3, args.size, args.size, generator=generator)
    gflops = _gflops_per_image(detector.network_.eval(), args.size)
    data = None
    if args.map_scenes:
        from perception.datasets import SyntheticDataset
        from perception.training import InMemoryDataset
        from perception.world import preset_config
        data = InMemoryDataset(SyntheticDataset(preset_config("default", image_size=args.size), args.map_scenes,
                                                seed=4242))
    print(f"threads {args.threads}, {args.size}x{args.size}, load average before: {os.getloadavg()[0]:.2f}, "
          f"{gflops:.3f} GFLOPs/image (forward), {sum(p.numel() for p in detector.network_.parameters()) / 1e6:.2f} M params")
    header = f"{'variant':<36} {'img/s b' + str(args.batch):>10} {'GFLOP/s':>8} {'p50 ms b1':>10} {'p99 ms b1':>10}"
    print(header + (f" {'mAP@0.5':>8}" if data is not None else ""))
    for name, network, dtype, channels_last, context in _variants(detector, args.compile):
        run_big = lambda: _run(detector, network, dtype, channels_last, context, big)  # noqa: E731
        run_one = lambda: _run(detector, network, dtype, channels_last, context, one)  # noqa: E731
        _time(run_big, 2)
        _time(run_one, 5)
        big_times = _time(run_big, args.repeats)
        one_times = sorted(_time(run_one, args.repeats * 10))
        rate = args.batch / statistics.median(big_times)
        p50 = statistics.median(one_times) * 1000
        p99 = one_times[min(len(one_times) - 1, int(0.99 * len(one_times)))] * 1000
        line = f"{name:<36} {rate:>10.1f} {rate * gflops:>8.1f} {p50:>10.2f} {p99:>10.2f}"
        if data is not None:
            line += f" {_map(detector, network, dtype, channels_last, context, data):>8.4f}"
        print(line, flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
