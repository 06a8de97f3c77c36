"""Training speed of the default detector and its quality over time:
``python -m benchmarks training`` (images/s of whole training steps at
256x256, batch 32, for each precision/memory-format variant side by side,
and the cost of batch augmentation and target encoding against doing them
image by image) and, with ``--history runs/drive/history.csv``, the
validation mAP-vs-minutes curve of a finished ``nesy train`` run.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import time


def _median_ms(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="bench_training", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--history", help="history.csv of a nesy train run: print its mAP-vs-minutes curve")
    args = parser.parse_args(argv)

    import os

    import torch

    from perception.augment import augment, augment_batch
    from perception.backbone import STRIDE
    from perception.datasets import SyntheticDataset, collate_detection
    from perception.device import cpu_supports_bfloat16
    from perception.losses import detection_loss
    from perception.model import Detector
    from perception.targets import encode_targets
    from perception.world import preset_config

    torch.set_num_threads(args.threads)
    detector = Detector(input_size=args.size)
    data = SyntheticDataset(preset_config("default", image_size=args.size), args.batch, seed=1)
    images, targets = collate_detection([data[i] for i in range(len(data))])
    num_classes, cells = len(detector.class_names), args.size // STRIDE
    attributes = tuple(detector.attribute_sizes)
    print(f"threads {args.threads}, {args.size}x{args.size}, batch {args.batch}, "
          f"load average before: {os.getloadavg()[0]:.2f}")

    def encode(batch_targets):
        return encode_targets(batch_targets, num_classes=num_classes, height=cells, width=cells,
                              attribute_names=attributes)

    def step_for(channels_last: bool, dtype):
        torch.manual_seed(0)
        network = detector.build_network().train()
        if channels_last:
            network = network.to(memory_format=torch.channels_last)
        optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(0)

        def step():
            batch, batch_targets = augment_batch(images, targets, generator)
            if channels_last:
                batch = batch.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
                outputs = network(batch)
            loss = detection_loss(outputs.float(), encode(batch_targets), num_classes=num_classes,
                                  attribute_sizes=detector.attribute_sizes)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return step

    variants = [("float32", False, None), ("float32, channels_last", True, None)]
    if cpu_supports_bfloat16():
        variants.append(("bfloat16 autocast, channels_last (default)", True, torch.bfloat16))
    print(f"\n{'whole training step (augment, encode, fwd, loss, bwd, AdamW)':<62} {'img/s':>8}")
    for name, channels_last, dtype in variants:
        milliseconds = _median_ms(step_for(channels_last, dtype), args.steps)
        print(f"{name:<62} {args.batch / milliseconds * 1000:>8.1f}")

    generator = torch.Generator().manual_seed(0)
    rows = [
        ("augment image by image", lambda: [augment(i, t, generator) for i, t in zip(images, targets)]),
        ("augment_batch", lambda: augment_batch(images, targets, generator)),
        ("encode_targets", lambda: encode(targets)),
        ("render one default scene (x batch)", lambda: data[0]),
    ]
    print(f"\n{'data work per batch of ' + str(args.batch):<40} {'median ms':>10}")
    for name, function in rows:
        milliseconds = _median_ms(function, args.steps)
        if name.startswith("render"):
            milliseconds *= args.batch
        print(f"{name:<40} {milliseconds:>10.1f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.history:
        print_history(args.history)


def print_history(path: str) -> None:
    """The mAP-vs-minutes curve of a ``nesy train`` run's history.csv."""
    rows = list(csv.DictReader(open(path)))
    print(f"\n{'epoch':>5} {'minutes':>8} {'val mAP@0.5':>12} {'val mAP@[.5:.95]':>17} {'light acc':>10} {'img/s':>7}")
    for row in rows:
        print(f"{row['epoch']:>5} {float(row['elapsed_seconds']) / 60:>8.1f} {float(row['val_map_50']):>12.4f} "
              f"{float(row['val_map_50_95']):>17.4f} {row.get('val_light_state_accuracy', ''):>10} "
              f"{float(row['images_per_second']):>7.1f}")


if __name__ == "__main__":
    main()
