"""Fetching the image a lane event points to, without becoming a way into the operator's network.

- ``http``/``https`` only to hosts or networks the configuration allows (per facility), with
  one deadline for the whole image (connect, headers, body, redirects: a server that sends a byte
  at a time is cut off when it passes, its socket shut) and a size limit; every address the name
  resolves to is checked,
  link-local (cloud metadata) addresses are refused whatever the allow-list says, and
  redirects are followed by hand, each hop checked again.
- ``file`` URLs only inside the configured directories.
- The content is sniffed (JPEG or PNG); what the server says it is does not count.

Blocking: call it in a thread. The connection goes to the very address that was checked (the
name is resolved once per hop): a name that resolves to an allowed address for the check and
to another for the connection (DNS rebinding) does not lead anywhere else. The Host header,
TLS server name and certificate check still use the name.
"""

import ipaddress
import os
import socket
import threading
import time
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .images import ImageRejected, sniff
from .sources import ImageSources  # noqa: F401  (what fetch() is given, importable from here as before)

MAX_REDIRECTS = 3


class ImageForbidden(ValueError):
    """The URL points somewhere the gateway must not go."""


class ImageUnavailable(ValueError):
    """The image could not be fetched (down, slow, too big, not an image)."""


def fetch(url, sources, image=True):
    """The image's bytes, or ImageForbidden / ImageUnavailable / ImageRejected. ``image=False``: any
    content (a hotlist feed), under the same rules of where it may come from."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return _read_file(parts, sources, image)
    with _Deadline(sources.timeout) as deadline:
        for _ in range(MAX_REDIRECTS + 1):
            address = _check(url, sources)
            left = deadline.left()
            try:
                with _pinned_session(address, sources.ca_bundle, deadline.opened) as session, \
                        session.get(url, stream=True, allow_redirects=False, timeout=(left, left)) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("Location", ""))
                        continue
                    if response.status_code != 200:
                        raise ImageUnavailable(f"the image server answered HTTP {response.status_code}")
                    data = _read_limited(response, sources.max_bytes)
            except requests.RequestException as e:
                deadline.check()
                raise ImageUnavailable(f"the image could not be fetched: {type(e).__name__}") from None
            deadline.check()  # a body cut off at the deadline can look complete
            if image and sniff(data) is None:
                raise ImageRejected("the URL did not return a JPEG or PNG image")
            return data
    raise ImageForbidden(f"more than {MAX_REDIRECTS} redirects")


class _Deadline:
    """One deadline for a whole fetch: when it passes, every socket the fetch opened is shut, which
    ends whatever read is waiting on it (a socket's own timeout restarts with every byte)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._sockets = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()

    def left(self):
        self.check()
        return max(0.001, self.ends - time.monotonic())

    def check(self):
        if self.expired or time.monotonic() >= self.ends:
            raise ImageUnavailable(f"the image took longer than {self.seconds:g} s")

    def opened(self, sock):
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self):
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


def _pinned_session(address, ca_bundle=None, opened=None):
    """A requests session whose connections all go to ``address``, whatever the URL's name;
    ``opened`` is told of each socket."""
    def pinned(connection_class):
        class Pinned(connection_class):
            def _new_conn(self):
                # urllib3 opens the socket to _dns_host; the Host header, TLS server name and
                # certificate check read it again afterwards, so the name is put back.
                name, self._dns_host = self._dns_host, address
                try:
                    sock = super()._new_conn()
                finally:
                    self._dns_host = name
                if opened is not None:
                    opened(sock)
                return sock
        return Pinned

    class Http(HTTPConnectionPool):
        ConnectionCls = pinned(HTTPConnection)

    class Https(HTTPSConnectionPool):
        ConnectionCls = pinned(HTTPSConnection)

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Http, "https": Https}

    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the checked address is the peer
    session.verify = ca_bundle or True
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session


def _check(url, sources):
    """The address to connect to, once the URL's host and every address it resolves to are allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageForbidden("image URLs are http, https or file URLs")
    host = parts.hostname
    named = sources.host_allowed(host)
    try:
        literal = ipaddress.ip_address(host)
        addresses = [str(literal)]
    except ValueError:
        if not named and not sources.networks:
            raise ImageForbidden(f"{host} is not an allowed image source") from None
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)}
        except socket.gaierror:
            raise ImageUnavailable(f"{host} does not resolve") from None
    if not all(sources.address_allowed(a, named) for a in addresses):
        raise ImageForbidden(f"{host} is not an allowed image source")
    return min(addresses)


def _read_limited(response, limit):
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ImageUnavailable("the image is larger than allowed")
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ImageUnavailable("the image is larger than allowed")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_file(parts, sources, image=True):
    path = os.path.realpath(unquote(parts.path))
    if not any(path == d or path.startswith(d + os.sep) for d in sources.directories):
        raise ImageForbidden("file URLs are only read from the configured image directories")
    try:
        if os.path.getsize(path) > sources.max_bytes:
            raise ImageUnavailable("the image is larger than allowed")
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise ImageUnavailable("the image file cannot be read") from None
    if image and sniff(data) is None:
        raise ImageRejected("the file is not a JPEG or PNG image")
    return data

