"""Training speed of the default detector and its quality over time:
``python -m benchmarks training`` (images/s of training steps at 256x256,
batch 32, median over steps) and, with ``--history runs/drive/history.csv``,
the validation mAP-vs-minutes curve of a finished ``nesy train`` run.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import time


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

    from perception.backbone import STRIDE
    from perception.datasets import SyntheticDataset, collate_detection
    from perception.losses import detection_loss
    from perception.model import Detector
    from perception.targets import encode_targets
    from perception.world import preset_config

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    detector = Detector(input_size=args.size)
    network = detector.build_network().train()
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3)
    data = SyntheticDataset(preset_config("default", image_size=args.size), args.batch, seed=1)
    images, targets = collate_detection([data[i] for i in range(len(data))])
    print(f"threads {args.threads}, {args.size}x{args.size}, batch {args.batch}, "
          f"load average before: {os.getloadavg()[0]:.2f}")

    def step():
        encoded = encode_targets(targets, num_classes=len(detector.class_names), height=args.size // STRIDE,
                                 width=args.size // STRIDE, attribute_names=tuple(detector.attribute_sizes))
        loss = detection_loss(network(images), encoded, num_classes=len(detector.class_names),
                              attribute_sizes=detector.attribute_sizes)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    render = []
    for i in range(min(8, len(data))):
        start = time.perf_counter()
        data[i]
        render.append(time.perf_counter() - start)
    print(f"{'what':<40} {'median':>10}")
    print(f"{'training step (fwd+loss+bwd+AdamW)':<40} {args.batch / statistics.median(times):>7.1f} img/s")
    print(f"{'rendering a default scene':<40} {statistics.median(render) * 1000:>7.1f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.history:
        rows = list(csv.DictReader(open(args.history)))
        print(f"\n{'epoch':>5} {'minutes':>8} {'val mAP@0.5':>12} {'val mAP@[.5:.95]':>17} {'light acc':>10} {'img/s':>7}")
        for row in rows:
            print(f"{row['epoch']:>5} {float(row['elapsed_seconds']) / 60:>8.1f} {float(row['val_map_50']):>12.4f} "
                  f"{float(row['val_map_50_95']):>17.4f} {row.get('val_light_state_accuracy', ''):>10} "
                  f"{float(row['images_per_second']):>7.1f}")


if __name__ == "__main__":
    main()
