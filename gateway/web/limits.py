"""Request bodies over the configured limit are refused with 413 as soon as their length is
known (Content-Length, or the chunks so far), before buffering: Twisted itself has no limit.
"""

from twisted.web import server

_TOO_LARGE = (b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n"
              b"Connection: close\r\n\r\nrequest body too large.\n")


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
        self.channel.transport.write(_TOO_LARGE)
        self.channel.loseConnection()


def request_factory(max_body):
    return type("Request", (LimitedRequest,), {"max_body": max_body})
