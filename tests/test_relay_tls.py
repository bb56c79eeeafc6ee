"""A relay destination that demands a client certificate (mutual TLS), over a real TLS socket."""

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from adapters.channels import DeliveryFailed, HttpChannel
from adapters.destinations import Destination
from gateway.service import relay_contract
from test_contract import SEED


class Taker(BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        peer = self.connection.getpeercert()
        names = [value for kind, value in peer.get("subjectAltName", ())]
        Taker.seen.append((self.headers["Idempotency-Key"], names, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def mutual_tls(tmp_path_factory):
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    client_cert = ca.issue_cert("parkgate-relay")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
    server = ThreadingHTTPServer(("127.0.0.1", 0), Taker)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    files = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(files / "ca.pem"))
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(files / "client.pem"))
    yield f"https://127.0.0.1:{server.server_address[1]}/feed", files
    server.shutdown()


class Row:
    id, kind, key, document, provisional = 1, "ParkingEvent", "evt-tls-1", SEED.read_text(), False


def test_client_certificate_is_presented(mutual_tls):
    url, files = mutual_tls
    channel = HttpChannel(Destination(name="tls", kind="xml", url=url, client_cert=str(files / "client.pem"),
                                      ca_bundle=str(files / "ca.pem"), timeout=5), relay_contract())
    channel.deliver([Row()])
    key, client, body = Taker.seen[-1]
    assert (key, client) == ("evt-tls-1", ["parkgate-relay"])
    assert b"ParkingEvent" in body


def test_without_a_client_certificate_delivery_fails(mutual_tls):
    url, files = mutual_tls
    channel = HttpChannel(Destination(name="tls", kind="xml", url=url, ca_bundle=str(files / "ca.pem"), timeout=5),
                          relay_contract())
    with pytest.raises(DeliveryFailed):
        channel.deliver([Row()])
