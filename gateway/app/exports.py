"""A report as a file: CSV (one row per figure), XLSX (a sheet per part, openpyxl) or PDF (tables
and a chart of the traffic per hour, reportlab)."""

import csv
import io
from collections.abc import Iterator
from decimal import Decimal

from openpyxl import Workbook
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..domain.errors import InvalidInput
from .reports import FacilityReport, Report

FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf"}
HEADER = ("facility", "section", "key", "count", "amount")
#: How a spreadsheet shows an amount: two decimals, thousands grouped (the cell holds the exact digits).
MONEY = "#,##0.00"


def checked_format(fmt: str) -> str:
    f = (fmt or "").lower()
    if f not in FORMATS:
        raise InvalidInput(f"a report is exported as {', '.join(FORMATS)}", "Format")
    return f


def rows(report: Report) -> Iterator[tuple]:
    """Every figure of the report as (facility, section, key, count, amount)."""
    for f in report.facilities:
        fid, cur = f.facility.id, f.facility.currency
        yield fid, "revenue", cur, sum(line.count for line in f.by_method), f.revenue
        for section, lines in (("method", f.by_method), ("vehicle type", f.by_vehicle_type), ("lane", f.by_lane)):
            for line in lines:
                yield fid, f"revenue by {section}", line.key, line.count, line.amount
        for line in (f.voids, f.refunds, f.lost_tickets):
            yield fid, "exceptions", line.key, line.count, line.amount
        for hour in range(24):
            yield fid, "entries per hour", f"{hour:02d}:00", f.entries_per_hour[hour], ""
            yield fid, "exits per hour", f"{hour:02d}:00", f.exits_per_hour[hour], ""
        for line in f.stays:
            yield fid, "stay length", line.key, line.count, ""
        yield fid, "occupancy", "peak", f.occupancy_peak, ""
        yield fid, "occupancy", "average", f.occupancy_average, ""
        yield fid, "occupancy", "at the end", f.occupancy_end, ""
        yield fid, "occupancy", "capacity", f.facility.capacity, ""


def export(report: Report, fmt: str) -> bytes:
    return {"csv": _csv, "xlsx": _xlsx, "pdf": _pdf}[checked_format(fmt)](report)


def file_name(report: Report, fmt: str) -> str:
    p = report.period
    return f"report-{p.kind}-{p.first_day}-{p.last_day}.{checked_format(fmt)}"


def _csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows(report))
    return out.getvalue().encode()


def _xlsx(report: Report) -> bytes:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Figures"
    sheet.append(HEADER)
    for row in rows(report):
        sheet.append(row)   # an amount as its Decimal's digits (openpyxl writes str(value)), not a float
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY
    traffic = wb.create_sheet("Traffic")
    traffic.append(("facility", "hour", "entries", "exits"))
    for f in report.facilities:
        for hour in range(24):
            traffic.append((f.facility.id, hour, f.entries_per_hour[hour], f.exits_per_hour[hour]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _chart(f: FacilityReport) -> Drawing:
    drawing = Drawing(170 * mm, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 10 * mm, 8 * mm, 155 * mm, 48 * mm
    chart.data = [list(f.entries_per_hour), list(f.exits_per_hour)]
    chart.categoryAxis.categoryNames = [f"{h:02d}" for h in range(24)]
    chart.bars[0].fillColor, chart.bars[1].fillColor = colors.steelblue, colors.orange
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    return drawing


def _pdf(report: Report) -> bytes:
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    p = report.period
    story: list = [Paragraph(f"Parking report, {p.kind}: {p.first_day} to {p.last_day}", styles["Title"])]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)])
    for f in report.facilities:
        cur = f.facility.currency
        story += [Paragraph(f"{f.facility.name} ({f.facility.id})", styles["Heading2"]),
                  Paragraph(f"Revenue {f.revenue} {cur}; occupancy peak {f.occupancy_peak} of "
                            f"{f.facility.capacity}, average {f.occupancy_average}", styles["Normal"])]
        table: list[tuple] = [("Revenue by", "Key", "Count", f"Amount ({cur})")]
        for section, lines in (("method", f.by_method), ("vehicle type", f.by_vehicle_type), ("lane", f.by_lane)):
            table += [(section, line.key, line.count, str(line.amount)) for line in lines]
        table += [("exceptions", line.key, line.count, str(line.amount))
                  for line in (f.voids, f.refunds, f.lost_tickets)]
        story += [Spacer(1, 4 * mm), Table(table, style=grid), Spacer(1, 4 * mm),
                  Paragraph("Entries (blue) and exits (orange) per hour", styles["Heading3"]), _chart(f),
                  Table([("Stay length", "Stays")] + [(line.key, line.count) for line in f.stays], style=grid)]
    SimpleDocTemplate(out, pagesize=A4, title="Parking report").build(story)
    return out.getvalue()
