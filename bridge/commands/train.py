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

from bridge.commands.arguments import config_file, int_in_range, positive_int
from bridge.errors import UsageError
from bridge.shipped import config_names

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
    from perception.callbacks import (BackupAndRestore, CSVLogger, EarlyStopping, ModelCheckpoint,
                                      TensorBoardLogger, tensorboard_available)
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
        detector = _initial_detector(model_config, training, config.path)
        if data_classes and tuple(data_classes) != tuple(detector.class_names):
            raise ValueError(f"{args.config}: training.init_from has classes {list(detector.class_names)} but the "
                             f"training data has {list(data_classes)}")
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


def _initial_detector(model_config, training, config_path: str):
    """The detector training starts from: fresh, or warm-started from ``training.init_from``."""
    from perception.model import Detector
    from bridge.perception_stage import load_detector

    if not training.init_from:
        return Detector(model_config)
    source = training.init_from
    if source != "shipped" and not Path(source).is_absolute():
        source = str(Path(config_path).parent / source)
    start = load_detector(None if source == "shipped" else source)
    if start.num_frames != 1:
        raise ValueError(f"{config_path}: training.init_from must be a single-frame checkpoint. "
                         f"Received {training.init_from} with num_frames={start.num_frames}")
    if model_config.num_frames == 1:
        return start
    # the stream's calibration comes from the config; the architecture from the checkpoint
    return Detector.from_single_frame(start, num_frames=model_config.num_frames,
                                      metres_per_pixel=model_config.metres_per_pixel, fps=model_config.fps)


def _datasets(config, training, args, verbose):
    from perception.datasets import CocoDataset, EpisodeDataset, SyntheticDataset
    from perception.training import InMemoryDataset

    num_frames = config.model.num_frames
    if num_frames > 1 and (args.data or args.val_data):
        raise ValueError(f"{args.config}: model.num_frames={num_frames} trains on frame stacks from generated "
                         "episodes; a COCO folder (--data, --val-data) holds single images")

    def generated(count: int, seed: int, desc: str):
        if num_frames == 1:
            return InMemoryDataset(SyntheticDataset(config.world, count, seed=seed), verbose=verbose, desc=desc)
        stacks = training.frames_per_episode - num_frames + 1
        if stacks < 1:
            raise ValueError(f"{args.config}: training.frames_per_episode must be at least model.num_frames "
                             f"({num_frames}). Received: {training.frames_per_episode}")
        episodes = EpisodeDataset(config.world, -(-count // stacks), training.frames_per_episode,
                                  num_frames=num_frames, fps=config.model.fps, seed=seed)
        return InMemoryDataset(episodes, verbose=verbose, desc=desc)

    train_data = CocoDataset(args.data) if args.data else generated(
        training.num_train_scenes, training.seed, "render training episodes" if num_frames > 1 else
        "render training scenes")
    if args.val_data:
        val_data = CocoDataset(args.val_data)
    elif training.num_val_scenes:
        val_data = generated(training.num_val_scenes, training.val_seed,
                             "render validation episodes" if num_frames > 1 else "render validation scenes")
    else:
        val_data = None
    return train_data, val_data
