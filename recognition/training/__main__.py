"""``python -m recognition.training``: the plate recogniser and its confidence, from a seed.

    python -m recognition.training [--data ../shared/datasets/plate-crops] [--seed 1] [--resume]

trains (needs torch: the training virtualenv), exports ``recognition/models/plate-rec.onnx``,
fits the confidence on the calibration split (``plate-rec.calibration.json``), judges both on
the test split and writes the record beside the model (``plate-rec.json``). ``--stage``
runs one step alone (``calibrate``, ``judge``, ``crops`` and ``pseudo`` need no torch); ``crops``
reads the test split's single crops with the model and any ``--other-model`` side by side, in about
a minute; ``pseudo`` labels the unlabelled European crops with the model and the generic
recogniser where both agree (:mod:`recognition.training.pseudo`) into the ``--pseudo`` folder,
which training and ``crops`` then read as the source ``pseudo``.
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
    parser.add_argument("--pseudo", action="append", default=[], metavar="DIR",
                        help="pseudo-labelled crops (--stage pseudo writes the first), repeatable")
    parser.add_argument("--mix", metavar="SOURCE=SHARE,...", help="each epoch's sources and shares "
                        "(default: recognition.training.train.MIX)")
    parser.add_argument("--lr", type=float, default=3e-4, help="the learning rate's peak")
    parser.add_argument("--far", type=float, default=0.0, metavar="SHARE", help="the share of degraded "
                        "training samples seen by a far camera: 14-26 px high, blurred, coarse JPEG")
    parser.add_argument("--stage", choices=("all", "train", "calibrate", "judge", "crops", "pseudo"), default="all")
    parser.add_argument("--other-model", action="append", default=[], metavar="ONNX",
                        help="another plate recogniser judged beside --out on the test split's crops (repeatable)")
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

    if args.stage == "pseudo":
        from .pseudo import pseudo_label
        if not args.pseudo:
            parser.error("--stage pseudo writes to the --pseudo folder")
        print(json.dumps(pseudo_label(args.data, args.pseudo[0], out, seed=args.seed, log=log), indent=1))
        return
    if args.stage in ("all", "train"):
        from ..inference import recogniser_path
        from .train import train
        mix = {k: float(v) for k, v in (p.split("=") for p in args.mix.split(","))} if args.mix else None
        record = {"training": train(args.data, recogniser_path(), out, args.work, seed=args.seed,
                                    epochs=args.epochs, epoch_size=args.epoch_size, threads=args.threads,
                                    resume=args.resume, sites=args.site, log=log, mix=mix, lr=args.lr,
                                    far=args.far, pseudo=args.pseudo)}
        record["training"]["command"] = {"mix": mix, "lr": args.lr, "epochs": args.epochs,
                                         "epoch_size": args.epoch_size, "seed": args.seed, "far": args.far,
                                         "pseudo": args.pseudo}
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
    if args.stage == "crops":
        from .heldout import judge_crops
        models = {str(out): out, **{f: Path(f) for f in args.other_model}}
        print(json.dumps(judge_crops(args.data, models, seed=args.seed, log=log, pseudo=args.pseudo), indent=1))


if __name__ == "__main__":
    main()
