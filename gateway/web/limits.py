"""Request bodies over the configured limit are refused with 413 as soon as their length is
known (Content-Length, or the chunks so far), before buffering: Twisted itself has no limit.
A request line or headers past Twisted's limits get an answer that says so: Twisted itself hangs
up without one on a long line, and answers other malformed requests with an empty 400.
"""

from twisted.web import http, server


class LimitedRequest(server.Request):
    """A request that refuses bodies over ``max_body`` bytes (Content-Length or chunked)."""

    max_body = 1024 * 1024

    def gotLength(self, length):
        self._body_bytes = 0
        self._refused = False
        if length is not None and length > self.max_body:
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._body_bytes += len(data)
        if self._body_bytes > self.max_body:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if not self._refused:
            super().requestReceived(command, path, version)

    def _refuse(self):
        self._refused = True
        self.channel.transport.write(_refusal(b"413 Payload Too Large", b"request body too large.\n"))
        self.channel.loseConnection()


def _refusal(status: bytes, why: bytes) -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: " + str(len(why)).encode()
            + b"\r\nConnection: close\r\n\r\n" + why)


class LimitedChannel(http.HTTPChannel):
    """Twisted's channel, with answers for the requests it cannot read."""

    def lineLengthExceeded(self, line):
        # No request yet: the request line (its URL) is too long; else one of its headers.
        if self.requests:
            self.transport.write(_refusal(b"431 Request Header Fields Too Large", b"a header line is too long.\n"))
        else:
            self.transport.write(_refusal(b"414 URI Too Long", b"the request line is too long.\n"))
        self.loseConnection()

    def _respondToBadRequestAndDisconnect(self):
        self.transport.write(_refusal(b"400 Bad Request", b"the request is not well-formed HTTP.\n"))
        self.loseConnection()


def request_factory(max_body):
    return type("Request", (LimitedRequest,), {"max_body": max_body})
