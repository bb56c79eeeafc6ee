"""``python -m recognition.training``: the plate recogniser and its confidence, from a seed.

    python -m recognition.training [--data ../shared/datasets/plate-crops] [--seed 1] [--resume]

trains (needs torch: the training virtualenv), exports ``recognition/models/plate-rec.onnx``,
fits the confidence on the calibration split (``plate-rec.calibration.json``), judges both on
the test split and writes the record beside the model (``plate-rec.json``). ``--stage``
runs one step alone (``calibrate`` and ``judge`` need no torch).
"""

import argparse
import json
import time
from pathlib import Path

from ..platemodel import MODEL

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "plate-crops"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recognition.training", description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA), help="the plate-crops folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(MODEL), help="the ONNX file to write")
    parser.add_argument("--work", default="var/training", help="checkpoints and caches")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--epoch-size", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resume", action="store_true", help="go on from the last checkpoint in --work")
    parser.add_argument("--site", action="append", default=[], metavar="DIR",
                        help="crops exported from a site (parkgate training export), repeatable")
    parser.add_argument("--stage", choices=("all", "train", "calibrate", "judge"), default="all")
    parser.add_argument("--compare", action="append", default=[], metavar="FILE",
                        help="another calibration file judged on the same test reads (repeatable)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    card = out.with_suffix(".json")
    record = json.loads(card.read_text()) if card.is_file() else {}

    def log(text):
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    def save():
        card.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")

    if args.stage in ("all", "train"):
        from ..inference import recogniser_path
        from .train import train
        record = {"training": train(args.data, recogniser_path(), out, args.work, seed=args.seed, epochs=args.epochs,
                                    epoch_size=args.epoch_size, threads=args.threads, resume=args.resume,
                                    sites=args.site, log=log)}
        save()
    if args.stage in ("all", "calibrate"):
        from .calibrate import calibrate
        record["calibration"] = calibrate(args.data, out, args.work, seed=args.seed, log=log)
        save()
    if args.stage in ("all", "judge"):
        from .calibrate import judge
        record["test"] = judge(args.data, out, args.work, seed=args.seed, log=log,
                               others={Path(f).name: Path(f) for f in args.compare})
        save()


if __name__ == "__main__":
    main()
