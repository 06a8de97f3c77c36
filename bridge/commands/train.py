"""``nesy train``: train the detector of an experiment file.

Renders the training and validation scenes of the ``world:`` section (or
reads a COCO folder with ``--data``), trains with the ``model:`` and
``training:`` sections, and writes into ``OUT``: ``last.safetensors`` (+ its
training state, every epoch, for ``--resume``), ``best.safetensors`` (best
validation mAP@0.5), ``model.safetensors`` (final weights with metrics),
``history.csv`` and ``metrics.json``, and with TensorBoard installed (or
``--logger tensorboard``) event files in ``tensorboard/``. The model summary
(blocks, parameters, input size, FLOPs) is printed first unless ``--quiet``.
``--early-stopping N`` stops after N epochs without a better validation
mAP@0.5 and keeps the best epoch's weights; ``--device`` overrides
``training.device``. Under ``torchrun`` each process trains on its shard and
rank 0 writes the files.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bridge.commands.generate import positive_int

DEVICES = ("auto", "cpu", "cuda")
LOGGERS = ("auto", "tensorboard", "csv")  # perception.callbacks.LOGGERS, kept here so --help imports no torch


def device_name(text: str) -> str:
    """An argparse type for ``--device``: auto, cpu or cuda (when a CUDA device is present).

    Example:
        >>> device_name("cpu")
        'cpu'
        >>> device_name("tpu")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: expected one of auto, cpu, cuda, got 'tpu'
    """
    if text not in DEVICES:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(DEVICES)}, got {text!r}")
    if text == "cuda":
        import torch  # only when CUDA is asked for: --help stays fast

        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError("'cuda' was asked for but this machine has no CUDA device "
                                             "(use --device cpu or auto)")
    return text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train the detector from an experiment file",
        description="Train the detector: synthetic scenes from the world section (or a COCO folder), "
                    "model and training sections of CONFIG. Launch with torchrun for data-parallel training.")
    parser.add_argument("config", help="experiment file, e.g. configs/drive.yaml")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: runs/<config name>)")
    parser.add_argument("--epochs", type=int, metavar="N", help="override training.epochs")
    parser.add_argument("--seed", type=int, metavar="S", help="override training.seed")
    parser.add_argument("--data", metavar="DIR", help="train on a COCO folder or annotations file instead of "
                                                      "generated scenes")
    parser.add_argument("--val-data", metavar="DIR", help="validate on a COCO folder (default: generated scenes)")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in OUT/last.safetensors")
    parser.add_argument("--device", type=device_name, metavar="{auto,cpu,cuda}",
                        help="where to train (default: training.device of CONFIG; auto: CUDA when available)")
    parser.add_argument("--early-stopping", type=positive_int, metavar="N",
                        help="stop after N epochs without a better validation mAP@0.5 and keep the best "
                             "epoch's weights (needs validation scenes or --val-data)")
    parser.add_argument("--logger", choices=LOGGERS, default="auto",
                        help="epoch logs: history.csv always; 'auto' (default) adds TensorBoard event files in "
                             "OUT/tensorboard when the tensorboard package is installed, 'tensorboard' requires "
                             "them, 'csv' writes history.csv only")
    parser.add_argument("--quiet", action="store_true", help="no model summary, progress bar or epoch lines")
    parser.set_defaults(handler=run)


def run(args) -> int:
    import dataclasses

    from bridge.experiment import load_config
    from perception import distributed
    from perception.callbacks import (BackupAndRestore, CSVLogger, EarlyStopping, ModelCheckpoint,
                                      TensorBoardLogger, tensorboard_available)
    from perception.files import write_atomic
    from perception.evaluation import format_metrics
    from perception.model import Detector

    config = load_config(args.config)
    training = config.training
    if args.epochs is not None:
        if args.epochs < 1:
            raise ValueError(f"`--epochs` must be a positive integer. Received: --epochs={args.epochs}")
        training = dataclasses.replace(training, epochs=args.epochs)
    if args.seed is not None:
        training = dataclasses.replace(training, seed=args.seed)
    if args.device is not None:
        training = dataclasses.replace(training, device=args.device)
    if args.early_stopping is not None and not (args.val_data or training.num_val_scenes):
        print("nesy train: error: --early-stopping watches the validation mAP@0.5, but this run has no validation "
              "data (training.num_val_scenes is 0 and no --val-data)", file=sys.stderr)
        return 2
    if args.logger == "tensorboard" and not tensorboard_available():
        raise ValueError("--logger tensorboard needs the tensorboard package: pip install 'nesy[tensorboard]' "
                         "(or pip install tensorboard), or use --logger csv")
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
        if args.logger == "tensorboard" or (args.logger == "auto" and tensorboard_available()):
            callbacks.append(TensorBoardLogger(out / "tensorboard"))
        stopper = None
        if args.early_stopping is not None:
            stopper = EarlyStopping(monitor="val_map_50", mode="max", patience=args.early_stopping,
                                    restore_best_weights=True)
            callbacks.append(stopper)
        detector.fit(train_data, val_data, training=training, callbacks=callbacks, verbose=verbose)
        if verbose and stopper is not None and stopper.stopped_epoch is not None:
            print(f"early stopping after epoch {stopper.stopped_epoch + 1}: val_map_50 did not improve for "
                  f"{stopper.wait} epochs; kept epoch {stopper.best_epoch + 1} (val_map_50 {stopper.best:.4f})",
                  file=sys.stderr)
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
