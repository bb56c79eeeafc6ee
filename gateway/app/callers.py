"""Where a request came from, as both transports (SOAP and the console) record it: the audit's
origin and the address a failed log-in counts against. Once here, so that a console action behind
the load balancer is audited with the same address as a SOAP call through it."""

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def caller_address(environ: Mapping[str, Any], trusted_proxies: Networks = ()) -> str | None:
    """A WSGI request's caller: the peer, or what a trusted proxy (a load balancer) says it
    forwarded for (the last address in X-Forwarded-For that is not itself a trusted proxy). From
    any other peer the header is ignored: anybody can write one."""
    peer = environ.get("REMOTE_ADDR")
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    if not forwarded or not trusted_proxies or not _within(peer, trusted_proxies):
        return peer
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _within(hop, trusted_proxies):
            return hop
    return peer


def _within(address: str | None, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
