"""The recognition pool's failure modes, and fetching images without server-side request forgery."""

import socket
import ssl
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

import pool_tasks
from recognition.fetch import ImageForbidden, ImageSources, ImageUnavailable, fetch
from recognition.images import ImageRejected
from recognition.pool import RecognitionBusy, RecognitionFailed, RecognitionPool
from test_recognition import encoded, scene

JPEG = encoded(scene("7ABC123"))


@pytest.fixture(scope="module")
def echo_pool():
    pool = RecognitionPool(workers=1, time_limit=2.0, queue=1, task=pool_tasks.echo)
    yield pool
    pool.close()


def test_results_come_back(echo_pool):
    assert echo_pool.run("x") == "x"


def test_a_crashed_worker_fails_its_image_only():
    pool = RecognitionPool(workers=1, time_limit=5.0, queue=4, task=pool_tasks.crash)
    try:
        with pytest.raises(RecognitionFailed, match="died"):
            pool.run(None)
        pool.task = pool_tasks.echo
        assert pool.run("still serving") == "still serving"  # the worker was replaced
    finally:
        pool.close()


def test_time_limit_and_full_queue():
    pool = RecognitionPool(workers=1, time_limit=0.5, queue=1, task=pool_tasks.hang)
    try:
        first = pool.submit(None)        # on the worker
        second = pool.submit(None)       # in the queue
        with pytest.raises(RecognitionBusy):
            pool.submit(None)            # refused at once
        with pytest.raises(FutureTimeout):
            first.result()               # killed at its time limit, the worker replaced
        with pytest.raises(FutureTimeout):
            second.result()
        pool.task = pool_tasks.echo
        assert pool.run("after") == "after"
    finally:
        pool.close()


def test_closing_the_pool_fails_the_pictures_still_in_it():
    """A gateway stopped while its workers warm up (or while pictures wait) must not leave the threads
    waiting on their futures for ever: the reactor's thread pool joins them, so the process never exits."""
    pool = RecognitionPool(workers=1, time_limit=60.0, queue=2, task=pool_tasks.hang)
    futures = [pool.submit(None) for _ in range(3)]      # one on the worker, two waiting for it
    pool.close()
    done, not_done = wait(futures, timeout=10)
    assert not not_done
    assert all(future.cancelled() or future.exception() is not None for future in done)  # on the worker: pebble's
    assert isinstance(futures[-1].exception(), RecognitionFailed)     # one that never reached a worker
    assert pool.pending == 0


def test_real_recognition_in_the_pool():
    pool = RecognitionPool(workers=1, time_limit=30)
    try:
        assert pool.run(JPEG)["plate"] == "7ABC123"
        with pytest.raises(ImageRejected):
            pool.run(b"not an image")
    finally:
        pool.close()


class Images(BaseHTTPRequestHandler):
    hosts = []  # the Host header of each request

    def do_GET(self):
        self.hosts.append(self.headers.get("Host"))
        if self.path == "/plate.jpg":
            self._send(200, JPEG)
        elif self.path == "/page.html":
            self._send(200, b"<html>no</html>", "text/html")
        elif self.path == "/big.jpg":
            self._send(200, JPEG + b"\0" * 500_000)
        elif self.path == "/away":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        elif self.path == "/here":
            self.send_response(302)
            self.send_header("Location", "/plate.jpg")
            self.end_headers()
        else:
            self._send(404, b"")

    def _send(self, status, body, kind="image/jpeg"):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def image_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def sources(**kw):
    return ImageSources.parse({"allowed_sources": ["127.0.0.1/32"], "max_image_bytes": 400_000, **kw})


def test_fetch_from_an_allowed_source(image_server):
    assert fetch(f"{image_server}/plate.jpg", sources()) == JPEG
    assert fetch(f"{image_server}/here", sources()) == JPEG  # a redirect within the allow-list


@pytest.mark.parametrize("path, error", [
    ("/page.html", ImageRejected), ("/big.jpg", ImageUnavailable), ("/missing.jpg", ImageUnavailable),
    ("/away", ImageForbidden),
])
def test_fetch_failures(image_server, path, error):
    with pytest.raises(error):
        fetch(image_server + path, sources())


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/iam/",      # cloud metadata, whatever is allowed
    "http://[fe80::1]/x.jpg",
    "http://10.0.0.5/cam.jpg",                           # not on the allow-list
    "http://127.0.0.2:1/x.jpg",                          # loopback, but not the allowed address
    "gopher://127.0.0.1/x",
    "ftp://127.0.0.1/x.jpg",
])
def test_forbidden_urls(url):
    with pytest.raises(ImageForbidden):
        fetch(url, ImageSources.parse({"allowed_sources": ["127.0.0.1/32", "169.254.0.0/16", "fe80::/10"]}))


def test_a_name_that_rebinds_after_the_check_is_not_followed(image_server, monkeypatch):
    """DNS rebinding: the allowed camera name answers 127.0.0.1 for the check, then the cloud
    metadata address. The connection goes to the checked address, with the name as Host."""
    port = int(image_server.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1"] + ["169.254.169.254"] * 10)
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "camera.lot.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    Images.hosts.clear()
    allowed = ImageSources.parse({"allowed_sources": ["camera.lot.test"], "fetch_timeout_s": 2})
    assert fetch(f"http://camera.lot.test:{port}/plate.jpg", allowed) == JPEG
    assert Images.hosts == [f"camera.lot.test:{port}"]


def test_https_to_a_rebinding_name_checks_the_certificate_against_the_name(monkeypatch, tmp_path):
    """Over TLS the pinned connection still sends the name (SNI) and checks the certificate for
    it: a camera with a certificate for another name is refused."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("camera.lot.test").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host.endswith(".lot.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    allowed = ImageSources.parse({"allowed_sources": ["*.lot.test"], "image_ca_bundle": str(tmp_path / "ca.pem")})
    try:
        assert fetch(f"https://camera.lot.test:{port}/plate.jpg", allowed) == JPEG
        with pytest.raises(ImageUnavailable):  # the certificate is for camera.lot.test
            fetch(f"https://other.lot.test:{port}/plate.jpg", allowed)
    finally:
        server.shutdown()


def test_a_dead_source_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers
    try:
        with pytest.raises(ImageUnavailable):
            fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/x.jpg", sources(fetch_timeout_s=0.3))
    finally:
        listener.close()


def test_file_urls_only_inside_the_image_directories(tmp_path):
    inside = tmp_path / "cams"
    inside.mkdir()
    (inside / "a.jpg").write_bytes(JPEG)
    (tmp_path / "secret.jpg").write_bytes(JPEG)
    allowed = sources(image_directories=[str(inside)])
    assert fetch(f"file://{inside / 'a.jpg'}", allowed) == JPEG
    for url in (f"file://{tmp_path / 'secret.jpg'}", f"file://{inside}/../secret.jpg", "file:///etc/passwd"):
        with pytest.raises(ImageForbidden):
            fetch(url, allowed)
