"""What the gateway tells Prometheus (``/metrics``): requests and latency per operation, decisions by
reason, recognition latency and queue depth, relay backlog and oldest age per destination, PLC
online per lane, and how the audit, retention and backup jobs went.

One registry per gateway (tests run several in one process). What a request pays is a dictionary
look-up and two updates of pre-bound children; what costs a query (the relay queues) is read when
Prometheus scrapes, in a thread, never per request.
"""

import threading
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

#: Seconds: SOAP operations run from about a millisecond (Ping) to seconds (pictures, backups).
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class _Scraped(Collector):
    """Gauges worked out at scrape time by the functions the composition root registers."""

    def __init__(self) -> None:
        self.sources: list[Callable[[], Iterable[GaugeMetricFamily]]] = []

    def collect(self):
        for source in self.sources:
            yield from source()

    def describe(self):
        return []


class Metrics:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        self._requests = Counter("parkgate_requests", "SOAP requests answered, by service, operation and "
                                 "outcome (ok, or the fault code)", ["service", "operation", "outcome"], registry=r)
        self._latency = Histogram("parkgate_request_seconds", "SOAP request time in the service, by operation",
                                  ["service", "operation"], buckets=LATENCY_BUCKETS, registry=r)
        self._decisions = Counter("parkgate_decisions", "Lane decisions made (replays not counted)",
                                  ["direction", "decision", "reason"], registry=r)
        self._recognition = Histogram("parkgate_recognition_seconds", "Plate reading time per picture "
                                      "(in the pool, queueing included), by outcome", ["outcome"],
                                      buckets=LATENCY_BUCKETS, registry=r)
        self._audit_checks = Counter("parkgate_audit_verifications", "Audit chain verifications, by result",
                                     ["result"], registry=r)
        self._audit_valid = Gauge("parkgate_audit_chain_valid", "1 when the last audit chain check passed, 0 "
                                  "when it failed, NaN before the first check", registry=r)
        self._audit_valid.set(float("nan"))  # the first check is verify_interval_s after start: 0 would be an alarm
        self._audit_last = Gauge("parkgate_audit_last_verified_entry", "The last audit entry the chain was "
                                 "verified to", registry=r)
        self._retention_runs = Counter("parkgate_retention_runs", "Retention job runs, by result", ["result"],
                                       registry=r)
        self._retention_rows = Counter("parkgate_retention_rows", "Rows purged or anonymised, by step", ["step"],
                                       registry=r)
        self._retention_seconds = Gauge("parkgate_retention_last_run_seconds", "How long the last retention "
                                        "run took", registry=r)
        self._retention_when = Gauge("parkgate_retention_last_run_timestamp_seconds", "When the last retention "
                                     "run ended", registry=r)
        self._backups = Counter("parkgate_backups", "Backups made, by result", ["result"], registry=r)
        self._backup_when = Gauge("parkgate_backup_last_success_timestamp_seconds", "When the last good backup "
                                  "was made", registry=r)
        self._backup_bytes = Gauge("parkgate_backup_last_size_bytes", "Size of the last good backup", registry=r)
        self._scraped = _Scraped()
        r.register(self._scraped)
        self._ops: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
        self._decided: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    # --- per request ---------------------------------------------------------------

    def request(self, service: str, operation: str, outcome: str, seconds: float) -> None:
        if not self.enabled:
            return
        bound = self._ops.get((service, operation))
        if bound is None:
            with self._lock:
                bound = self._ops.setdefault((service, operation),
                                             (self._latency.labels(service, operation), {}))
        latency, outcomes = bound
        latency.observe(seconds)
        counter = outcomes.get(outcome)
        if counter is None:
            counter = outcomes.setdefault(outcome, self._requests.labels(service, operation, outcome))
        counter.inc()

    def decided(self, direction: str, decision: str, reason: str) -> None:
        if self.enabled:
            key = (direction, decision, reason)
            counter = self._decided.get(key)
            if counter is None:
                counter = self._decided.setdefault(key, self._decisions.labels(*key))
            counter.inc()

    def recognised(self, outcome: str, seconds: float) -> None:
        if self.enabled:
            self._recognition.labels(outcome).observe(seconds)

    # --- jobs ----------------------------------------------------------------------

    def audit_checked(self, check: Any) -> None:
        self._audit_checks.labels("verified" if check.verified else "broken").inc()
        self._audit_valid.set(1 if check.verified else 0)
        if check.verified and check.last_id is not None:
            self._audit_last.set(check.last_id)

    def retention_ran(self, rows: dict[str, int], seconds: float, ended_at: float, failed: bool) -> None:
        self._retention_runs.labels("failed" if failed else "ok").inc()
        for step, count in rows.items():
            self._retention_rows.labels(step).inc(count)
        self._retention_seconds.set(seconds)
        self._retention_when.set(ended_at)

    def backed_up(self, size: int | None, ended_at: float) -> None:
        self._backups.labels("failed" if size is None else "ok").inc()
        if size is not None:
            self._backup_when.set(ended_at)
            self._backup_bytes.set(size)

    # --- scraping ------------------------------------------------------------------

    def at_scrape(self, source: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        """``source()`` yields gauge families each time Prometheus scrapes (called in a thread)."""
        self._scraped.sources.append(source)

    def exposition(self) -> bytes:
        """The text format; blocking (the scraped sources may query the database)."""
        return generate_latest(self.registry)


def gauge(name: str, documentation: str, labels: list[str], values: Iterable[tuple[list[str], float]]):
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, value in values:
        family.add_metric(label_values, value)
    return family
