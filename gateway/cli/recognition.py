"""``parkgate recognize``, ``bench-alpr`` and ``training export``: plates read from image files, as the
pool reads them, and this site's confirmed plates as training crops."""

import json
import os
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path

from recognition import PRECISIONS, READERS

REGIONS = ("US", "EU", "UK", "BR")


def register(sub):
    recognize = sub.add_parser("recognize", help="read the plates in images",
                               description="Read the plate in each image file and print the reading.")
    recognize.add_argument("images", nargs="+", metavar="IMAGE")
    recognize.add_argument("--region", action="append", choices=REGIONS,
                           help="plate formats to admit (repeatable; default: the configured facilities' "
                                "plate_regions, all when none is set)")
    fmt = recognize.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per image per line")
    fmt.add_argument("--xml", action="store_true", help="the LicensePlate element of a ParkingEvent")
    recognize.add_argument("--clips", metavar="DIR", help="write each plate's clip there as NAME.plate.jpg")
    recognize.add_argument("--precision", choices=PRECISIONS,
                           help="how the networks compute (default: recognition.precision in the config, f32)")
    recognize.add_argument("--reader", choices=READERS,
                           help="plate: the plate recogniser, calibrated; ppocr: the generic one; tesseract "
                                "(default: recognition.reader in the config, plate)")
    recognize.set_defaults(run=cmd_recognize)

    bench_alpr = sub.add_parser("bench-alpr", help="recognition accuracy and speed on labelled folders",
                                description="For each folder in the dataset format (NAME.jpg + NAME.txt: "
                                            "'NAME.jpg x y w h PLATE'): exact match, match within candidates, "
                                            "plate detection rate, precision and coverage at confidence "
                                            "thresholds, latency p50/p95.")
    bench_alpr.add_argument("folders", nargs="+", metavar="DIR")
    bench_alpr.add_argument("--reader", choices=READERS, action="append",
                            help="the reader (repeatable: side by side in one run; default plate)")
    bench_alpr.add_argument("--calibration", action="append", default=[], metavar="FILE",
                            help="also the plate reader with this calibration file (and the cuts it was fitted "
                                 "with), side by side (repeatable): an older or a candidate calibration")
    bench_alpr.add_argument("--baseline", metavar="DIR",
                            help="also the same readers of another checkout (e.g. main's, by git worktree add), "
                                 "side by side: old and new code in one run")
    bench_alpr.add_argument("--region", action="append", choices=REGIONS,
                            help="plate formats to admit (repeatable; default: all), as a facility would set")
    bench_alpr.add_argument("--precision", choices=PRECISIONS,
                            help="how the networks compute (default: recognition.precision in the config, f32)")
    bench_alpr.set_defaults(run=cmd_bench_alpr)

    training = sub.add_parser("training", help="this site's confirmed plates as training data",
                              description="Plate crops for fine-tuning the reader on this site's cameras.")
    training_sub = training.add_subparsers(dest="training_command", required=True, metavar="ACTION")
    export = training_sub.add_parser(
        "export", help="resolved reviews as labelled plate crops",
        description="Write the plate of every resolved review that kept its picture (the plate a person "
                    "confirmed) as a crop in the plate-crops format: DIR/labels.tsv with FILE, REGION, PLATE. "
                    "Exporting again adds only what is new.")
    export.add_argument("--out", required=True, metavar="DIR")
    export.add_argument("--since", type=date.fromisoformat, metavar="DATE",
                        help="only reviews resolved on or after this day (UTC), YYYY-MM-DD")
    export.set_defaults(run=cmd_training_export)


def cmd_recognize(args, cfg):
    from recognition.images import ImageRejected, decode
    from recognition.pipeline import recognizer as make_recognizer
    recognizer = make_recognizer(args.reader or cfg.recognition.reader, args.precision or cfg.recognition.precision,
                                 args.region or configured_regions(cfg))
    status = 0
    for name in args.images:
        try:
            with open(name, "rb") as f:
                reading = recognizer.recognize(decode(f.read()), clip=bool(args.clips))
        except (OSError, ImageRejected) as e:
            status = 1
            print(json.dumps({"image": name, "error": str(e)}) if args.json else f"{name}: {e}")
            continue
        if args.clips and reading.clip:
            clip = Path(args.clips) / f"{Path(name).stem}.plate.jpg"
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.write_bytes(reading.clip)
        if args.json:
            print(json.dumps({"image": name, **reading.as_dict()}))
        elif args.xml:
            from lxml import etree

            from ..contract.documents import license_plate
            plate = license_plate(reading.plate or None, Decimal(f"{reading.confidence:.4f}"), reading.jurisdiction,
                                  reading.country)
            print(etree.tostring(plate, pretty_print=True).decode(), end="")
        else:
            others = ", ".join(f"{t} {c:.2f}" for t, c in reading.candidates[1:])
            print(f"{name}: {reading.plate or '-'} ({reading.confidence:.2f})"
                  f"{' ' + reading.jurisdiction if reading.jurisdiction else ''}"
                  f"{f' {reading.colour.lower()} body ({reading.colour_confidence:.2f})' if reading.colour else ''}"
                  f"{' [' + others + ']' if others else ''} {reading.timings['total']:.0f} ms")
    return status


def configured_regions(cfg):
    """The plate formats the configured facilities read (None: all), as the gateway would read them."""
    regions = sorted({r for fac in cfg.facilities.values() for r in fac.plate_regions or ()})
    return regions if regions and all(fac.plate_regions for fac in cfg.facilities.values()) else None


def cmd_bench_alpr(args, cfg):
    from recognition import bench
    from recognition.pipeline import recognizer
    precision = args.precision or cfg.recognition.precision
    readers = list(dict.fromkeys(args.reader or [cfg.recognition.reader]))
    recognizers = {f"{name} ({precision})" if name != "tesseract" else name: recognizer(name, precision, args.region)
                   for name in readers}
    for path in args.calibration:
        recognizers[f"plate {Path(path).stem}"] = recognizer("plate", precision, args.region, calibration=path)
    if args.baseline:
        recognizers |= {f"{name} baseline": bench.baseline(args.baseline, name, precision, args.region)
                        for name in readers}
    print(f"parkgate bench-alpr: {os.cpu_count()} cores; one image at a time on one core (as a pool worker), "
          f"readers {', '.join(recognizers)}, formats {', '.join(args.region or ['all'])}")
    for folder in args.folders:
        bench.run(recognizers, folder)


def cmd_training_export(args, cfg):
    from recognition.pipeline import recognizer
    from recognition.training.export import Review, export_reviews, locate_with

    from ..app.reviews import resolved_with_images
    from .admin import cli_origin, open_store, operator

    since = datetime.combine(args.since, time(), timezone.utc) if args.since else None
    store = open_store(cfg)
    try:
        with cli_origin():
            resolved = resolved_with_images(store, datetime.now(timezone.utc), operator(), since)
    finally:
        store.dispose()
    region = {fac.id: (fac.plate_regions or (None,))[0] for fac in cfg.facilities.values()}
    result = export_reviews(
        (Review(image=r.image or b"", plate=r.resolved_plate or "", region=region.get(r.facility_id))
         for r in resolved),
        args.out, locate=locate_with(recognizer(cfg.recognition.reader, cfg.recognition.precision, None)))
    print(f"{len(result.written)} crop(s) written to {args.out}, {len(result.skipped)} review(s) skipped "
          f"({len(resolved)} resolved with a picture)")
    for index, why in result.skipped:
        print(f"  review {resolved[index].id}: {why}")
