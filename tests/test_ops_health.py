"""/healthz, /readyz and /metrics over HTTP (issue 19): readiness check by check, a Prometheus scrape
that shows requests, decisions, relay backlog, PLC state and the jobs' results; TLS 1.2+ with zeep
against a certificate from trustme."""

import json
import math
import ssl
import urllib.error
import urllib.request
from datetime import datetime, timezone
from types import SimpleNamespace

import configs
import pytest
import requests
import trustme
import zeep
from prometheus_client.parser import text_string_to_metric_families
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from conftest import (
    FACILITY,
    PASSWORD,
    TEST_CONFIG,
    SettableClock,
    migrated_with_users,
    start_gateway,
    stop_gateway,
    unique,
    unique_plate,
)
from gateway import config as configuration
from gateway.app.metrics import Metrics


def get(url, context=None):
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape(gateway):
    status, body = get(gateway.base_url + "/metrics")
    assert status == 200
    return {s.name + repr(sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}, body


def submit(gateway, plate, camera="CAM-IN", direction="ENTRY"):
    return gateway.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": FACILITY, "CameraID": camera, "Direction": direction,
        "Timestamp": gateway.clock(), "PlateText": plate, "Confidence": "0.97"})


def test_healthz_and_readyz(gateway, clock):
    assert get(gateway.base_url + "/healthz") == (200, "ok\n")
    status, body = get(gateway.base_url + "/readyz")
    report = json.loads(body)
    assert status == 200 and report["ready"] is True
    assert set(report["checks"]) == {"database", "plcs", "recognition", "relays"}
    assert report["checks"]["recognition"]["detail"].startswith("not started")


def test_metrics_scrape(gateway, clock):
    submit(gateway, unique_plate())
    gateway.client("PermitService").LookupPermit(Plate=unique_plate(), FacilityID=FACILITY)
    try:
        gateway.client("PermitService").LookupPermit(Plate=unique_plate(), FacilityID="LOT-NOWHERE")
    except zeep.exceptions.Fault:
        pass
    samples, body = scrape(gateway)
    ok = samples["parkgate_requests_total" + repr([("operation", "SubmitEvent"), ("outcome", "ok"),
                                                   ("service", "EventService")])]
    assert ok >= 1
    assert samples["parkgate_requests_total" + repr([("operation", "LookupPermit"),
                                                     ("outcome", "Client.UnknownFacility"),
                                                     ("service", "PermitService")])] >= 1
    assert samples["parkgate_request_seconds_count" + repr([("operation", "SubmitEvent"),
                                                            ("service", "EventService")])] >= ok
    assert samples["parkgate_decisions_total" + repr([("decision", "OPEN"), ("direction", "ENTRY"),
                                                      ("reason", "TRANSIENT_ENTRY")])] >= 1
    assert "parkgate_recognition_queue_depth 0.0" in body
    for name in ("parkgate_retention_runs_total", "parkgate_backups_total", "parkgate_audit_verifications_total",
                 "parkgate_relay_backlog", "parkgate_plc_online"):
        assert f"# TYPE {name.removesuffix('_total')}" in body


def test_the_audit_chain_is_not_reported_broken_before_its_first_check():
    metrics = Metrics()
    assert math.isnan(metrics.registry.get_sample_value("parkgate_audit_chain_valid"))
    metrics.audit_checked(SimpleNamespace(verified=False, last_id=None))
    assert metrics.registry.get_sample_value("parkgate_audit_chain_valid") == 0.0


def test_metrics_show_the_jobs_results(gateway, clock):
    gateway.client("MaintenanceService", user="admin").RunRetention(Wait=True)
    gateway.client("AuditService", user="admin").VerifyAudit()
    samples, _ = scrape(gateway)
    assert samples["parkgate_retention_runs_total" + repr([("result", "ok")])] >= 1
    assert samples["parkgate_audit_chain_valid" + repr([])] == 1.0
    assert samples["parkgate_audit_verifications_total" + repr([("result", "verified")])] >= 1


@pytest.fixture(scope="module")
def relayed(tmp_path_factory, request):
    """A gateway whose relay destination never answers: its backlog grows and readiness says so."""
    db = f"sqlite:///{tmp_path_factory.mktemp('relay-lag') / 'lag.db'}"
    raw = {**TEST_CONFIG, "relay": [configs.relay("nowhere", "http://127.0.0.1:9/", timeout_s=0.2, backoff_s=60)],
           "health": {"max_relay_lag_s": 60}}
    clock = SettableClock(datetime.now(timezone.utc))
    migrated_with_users(db, request)
    gw = start_gateway(configs.parse(raw, database_url=db), clock)
    yield gw
    stop_gateway(gw)


def test_relay_lag_makes_a_node_unready_and_shows_in_the_backlog(relayed):
    submit(relayed, unique_plate())
    samples, _ = scrape(relayed)
    assert samples["parkgate_relay_backlog" + repr([("destination", "nowhere")])] >= 1
    assert json.loads(get(relayed.base_url + "/readyz")[1])["ready"] is True
    relayed.clock.advance(configuration.timedelta(minutes=5))
    status, body = get(relayed.base_url + "/readyz")
    report = json.loads(body)
    assert status == 503 and not report["checks"]["relays"]["ok"] and "nowhere" in report["checks"]["relays"]["detail"]
    samples, _ = scrape(relayed)
    assert samples["parkgate_relay_oldest_pending_seconds" + repr([("destination", "nowhere")])] >= 300


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(folder / "key.pem")
    cert.cert_chain_pems[0].write_to_path(folder / "cert.pem")
    for extra in cert.cert_chain_pems[1:]:
        with open(folder / "cert.pem", "ab") as f:
            f.write(extra.bytes())
    ca.cert_pem.write_to_path(folder / "ca.pem")
    db = f"sqlite:///{folder / 'tls.db'}"
    raw = {**TEST_CONFIG, "server": {**TEST_CONFIG["server"], "tls_cert": str(folder / "cert.pem"),
                                     "tls_key": str(folder / "key.pem")}}
    migrated_with_users(db, request)
    gw = start_gateway(configs.parse(raw, database_url=db), SettableClock())
    yield gw, folder / "ca.pem"
    stop_gateway(gw)


def test_soap_over_tls_with_zeep(tls_gateway):
    gw, ca = tls_gateway
    assert gw.base_url.startswith("https://127.0.0.1:")
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would take the place of the test's CA
    session.verify = str(ca)
    client = zeep.Client(gw.base_url + "/soap/PermitService?wsdl", transport=Transport(session=session),
                         wsse=UsernameToken("operator", PASSWORD))
    assert client.service.LookupPermit(Plate=unique_plate(), FacilityID=FACILITY).Status == "NONE"
    # The WSDL names the https address, so zeep posts there too.
    assert 'location="https://127.0.0.1:' in session.get(gw.base_url + "/soap/PermitService?wsdl").text


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
def test_tls_refuses_old_versions_and_unknown_certificates(tls_gateway):
    gw, ca = tls_gateway
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(ca)
    old.check_hostname = False
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(gw.base_url + "/healthz", timeout=10, context=old)
    good = ssl.create_default_context(cafile=str(ca))
    assert get(gw.base_url + "/healthz", context=good) == (200, "ok\n")
    with pytest.raises(urllib.error.URLError):  # not our CA: no trust
        urllib.request.urlopen(gw.base_url + "/healthz", timeout=10, context=ssl.create_default_context())
    with pytest.raises(requests.exceptions.ConnectionError):  # plain HTTP to the TLS port
        requests.get(gw.base_url.replace("https", "http") + "/healthz", timeout=5)


def test_tls_settings_go_together(tmp_path):
    with pytest.raises(configuration.ConfigError, match="tls_cert and server.tls_key"):
        configs.parse({**TEST_CONFIG, "server": {"tls_cert": "cert.pem"}})


def test_operations_settings_are_checked():
    with pytest.raises(configuration.ConfigError, match="retention: unknown setting.s. image_days"):
        configs.parse({**TEST_CONFIG, "retention": {"image_days": 10}})
    with pytest.raises(configuration.ConfigError, match="retention.batch must be at least 1"):
        configs.parse({**TEST_CONFIG, "retention": {"batch": 0}})
    shipped = configuration.load()
    assert shipped.ops.retention.images_days == 90 and shipped.ops.retention.plates_days == 30
    assert shipped.ops.retention.records_days == 183 and shipped.ops.lane_lease_s == 6
