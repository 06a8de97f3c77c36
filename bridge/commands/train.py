"""``nesy train``: train the detector of an experiment file.

Renders the training and validation scenes of the ``world:`` section (or
reads a COCO folder with ``--data``), trains with the ``model:`` and
``training:`` sections, and writes into ``OUT``: ``last.safetensors`` (+ its
training state, every epoch, for ``--resume``), ``best.safetensors`` (best
validation mAP@0.5), ``model.safetensors`` (final weights with metrics),
``history.csv`` and ``metrics.json``. Under ``torchrun`` each process trains
on its shard and rank 0 writes the files.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bridge.commands.arguments import config_file, int_in_range
from bridge.errors import UsageError
from bridge.shipped import config_names


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train the detector from an experiment file",
        description="Train the detector: synthetic scenes from the world section (or a COCO folder), "
                    "model and training sections of CONFIG. Launch with torchrun for data-parallel training.")
    parser.add_argument("config", nargs="?", type=config_file, metavar="CONFIG",
                        help=f"experiment file, or the name of a shipped one: {', '.join(config_names())}")
    parser.add_argument("--config", dest="config_option", type=config_file, metavar="CONFIG",
                        help="the same as CONFIG")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: runs/<config name>)")
    parser.add_argument("--epochs", type=int_in_range(1, 100_000), metavar="N", help="override training.epochs")
    parser.add_argument("--seed", type=int_in_range(0, 2**31 - 1), metavar="S", help="override training.seed")
    parser.add_argument("--data", metavar="DIR", help="train on a COCO folder or annotations file instead of "
                                                      "generated scenes")
    parser.add_argument("--val-data", metavar="DIR", help="validate on a COCO folder (default: generated scenes)")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in OUT/last.safetensors")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    parser.set_defaults(handler=run)


def experiment_file(args) -> Path:
    """The experiment file of ``nesy train CONFIG`` or ``nesy train --config CONFIG``; one is required."""
    if args.config is not None and args.config_option is not None and args.config != args.config_option:
        raise UsageError(f"the experiment file is given twice: {args.config} and --config {args.config_option}")
    path = args.config if args.config is not None else args.config_option
    if path is None:
        raise UsageError(f"an experiment file is required: nesy train CONFIG, a file or a shipped name "
                         f"({', '.join(config_names())})")
    return path


def run(args) -> int:
    import dataclasses

    from bridge.experiment import load_config
    from perception import distributed
    from perception.callbacks import BackupAndRestore, CSVLogger, ModelCheckpoint
    from perception.files import write_atomic
    from perception.evaluation import format_metrics
    from perception.model import Detector

    args.config = experiment_file(args)
    config = load_config(args.config)
    training = config.training
    if args.epochs is not None:
        training = dataclasses.replace(training, epochs=args.epochs)
    if args.seed is not None:
        training = dataclasses.replace(training, seed=args.seed)
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    last = out / "last.safetensors"
    if last.exists() and not args.resume:
        raise ValueError(f"{out} already holds a training run ({last}); pass --resume to continue it "
                         "or choose another --out")
    if args.resume and not last.exists():
        raise ValueError(f"--resume: {last} does not exist; nothing to continue")
    distributed.init_from_environment()
    verbose = not args.quiet and distributed.is_main_process()
    finished = False
    try:
        train_data, val_data = _datasets(config, training, args, verbose)
        model_config = config.model
        data_classes = getattr(train_data, "class_names", None)
        if data_classes and tuple(data_classes) != tuple(model_config.class_names):
            if args.data:
                model_config = dataclasses.replace(model_config, class_names=tuple(data_classes))
        detector = Detector(model_config)
        callbacks = [BackupAndRestore(last, restore=args.resume),
                     ModelCheckpoint(out / "best.safetensors", monitor="val_map_50", mode="max"),
                     CSVLogger(out / "history.csv")]
        detector.fit(train_data, val_data, training=training, callbacks=callbacks, verbose=verbose)
        if distributed.is_main_process():
            metrics = detector.evaluate(val_data, batch_size=training.batch_size) if val_data is not None else {}
            detector.save(out / "model.safetensors", metrics=metrics or None)
            report = {"config": str(args.config), "epochs": training.epochs, "seed": training.seed,
                      "history": detector.history_, "validation": metrics}
            write_atomic(out / "metrics.json", json.dumps(report, indent=1) + "\n")
            if metrics:
                print(format_metrics(metrics))
            print(f"wrote {out / 'model.safetensors'}", file=sys.stderr)
        finished = True
    finally:
        distributed.shutdown(wait=finished)   # after an error the peers may never reach the barrier
    return 0


def _datasets(config, training, args, verbose):
    from perception.datasets import CocoDataset, SyntheticDataset
    from perception.training import InMemoryDataset

    if args.data:
        train_data = CocoDataset(args.data)
    else:
        train_data = InMemoryDataset(SyntheticDataset(config.world, training.num_train_scenes, seed=training.seed),
                                     verbose=verbose, desc="render training scenes")
    if args.val_data:
        val_data = CocoDataset(args.val_data)
    elif training.num_val_scenes:
        val_data = InMemoryDataset(SyntheticDataset(config.world, training.num_val_scenes, seed=training.val_seed),
                                   verbose=verbose, desc="render validation scenes")
    else:
        val_data = None
    return train_data, val_data
