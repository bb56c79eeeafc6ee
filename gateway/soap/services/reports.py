"""ReportService: revenue, traffic and occupancy over a period, with an export (CSV, XLSX, PDF)."""

from spyne import Date, ServiceBase

from ...app import exports
from ...contract import documents
from .. import faults as f
from .. import types as t
from .common import caller, operation, use_cases


def _lines(lines, cur):
    return [t.KeyedTotal(Key=line.key, Count=line.count, Amount=documents.money("Amount", line.amount, cur))
            for line in lines]


class ReportService(ServiceBase):
    @operation(t.req(t.ShortText), t.opt(Date), t.opt(Date), t.opt(t.Identifier), t.opt(t.ShortText),
               roles=("admin",), returns=t.req(t.ParkingReport), names="Report", throws=(f.UnknownFacilityFault,))
    def GetReport(ctx, Period, From, Until, FacilityID, Format):
        """Period: daily, weekly, monthly (the one holding From, default today) or custom (From to
        Until). Format: csv, xlsx or pdf adds the file."""
        report = use_cases(ctx).reports.report(str(Period), From, Until, FacilityID, username=caller(ctx))
        export = None
        if Format:
            export = t.Printout(FileName=exports.file_name(report, Format), MediaType=exports.FORMATS[
                exports.checked_format(Format)], Content=[exports.export(report, Format)])
        return t.ParkingReport(
            Period=report.period.kind, From=report.period.first_day, Until=report.period.last_day, Export=export,
            Facility=[t.FacilityFigures(
                FacilityID=r.facility.id, Revenue=documents.money("Revenue", r.revenue, r.facility.currency),
                ByMethod=_lines(r.by_method, r.facility.currency),
                ByVehicleType=_lines(r.by_vehicle_type, r.facility.currency),
                ByLane=_lines(r.by_lane, r.facility.currency), Voids=_lines([r.voids], r.facility.currency)[0],
                Refunds=_lines([r.refunds], r.facility.currency)[0],
                LostTickets=_lines([r.lost_tickets], r.facility.currency)[0],
                EntriesPerHour=list(r.entries_per_hour), ExitsPerHour=list(r.exits_per_hour),
                Stays=_lines(r.stays, r.facility.currency), OccupancyPeak=r.occupancy_peak,
                OccupancyAverage=r.occupancy_average, Capacity=r.facility.capacity)
                for r in report.facilities])
