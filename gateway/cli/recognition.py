"""``parkgate recognize`` and ``bench-alpr``: plates read from image files, as the pool reads them."""

import json
import os
from decimal import Decimal
from pathlib import Path

from recognition import PRECISIONS

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
    recognize.set_defaults(run=cmd_recognize)

    bench_alpr = sub.add_parser("bench-alpr", help="recognition accuracy and speed on labelled folders",
                                description="For each folder in the dataset format (NAME.jpg + NAME.txt: "
                                            "'NAME.jpg x y w h PLATE'): exact match, match within candidates, "
                                            "plate detection rate, precision and coverage at confidence "
                                            "thresholds, latency p50/p95.")
    bench_alpr.add_argument("folders", nargs="+", metavar="DIR")
    bench_alpr.add_argument("--reader", choices=("ppocr", "tesseract"), default="ppocr",
                            help="the text engine (default ppocr; tesseract for comparison)")
    bench_alpr.add_argument("--region", action="append", choices=REGIONS,
                            help="plate formats to admit (repeatable; default: all), as a facility would set")
    bench_alpr.add_argument("--precision", choices=PRECISIONS,
                            help="how the networks compute (default: recognition.precision in the config, f32)")
    bench_alpr.set_defaults(run=cmd_bench_alpr)


def cmd_recognize(args, cfg):
    from recognition.images import ImageRejected, decode
    from recognition.pipeline import PlateRecognizer, PPOCRReader
    recognizer = PlateRecognizer(PPOCRReader(precision=args.precision or cfg.recognition.precision),
                                 regions_allowed=args.region or configured_regions(cfg))
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
    from recognition.pipeline import PlateRecognizer, PPOCRReader, TesseractReader
    precision = args.precision or cfg.recognition.precision
    reader, engine = ((PPOCRReader(precision=precision), f"ppocr ({precision})") if args.reader == "ppocr"
                      else (TesseractReader(), args.reader))
    recognizer = PlateRecognizer(reader, regions_allowed=args.region)
    print(f"parkgate bench-alpr: {os.cpu_count()} cores; one image at a time on one core (as a pool worker), "
          f"reader {engine}, formats {', '.join(args.region or ['all'])}")
    for folder in args.folders:
        bench.run(recognizer, folder)
