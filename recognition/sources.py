"""Where a facility's images (and a hotlist feed) may come from, apart from the fetcher
(:mod:`recognition.fetch`) so that reading the configuration does not import requests or OpenCV."""

import ipaddress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImageSources:
    hosts: tuple = ()               # names, or "*.example.net"
    networks: tuple = ()            # ipaddress networks
    directories: tuple = ()         # for file:// URLs
    max_bytes: int = 10 * 1024 * 1024
    timeout: float = 3.0            # the whole fetch: connect, headers, body, redirects
    ca_bundle: str | None = None    # PEM file of the CAs that sign the cameras' certificates

    @classmethod
    def parse(cls, table):
        hosts, networks = [], []
        for entry in table.get("allowed_sources", []):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.append(entry.lower())
        return cls(tuple(hosts), tuple(networks),
                   tuple(str(Path(d).resolve()) for d in table.get("image_directories", [])),
                   int(table.get("max_image_bytes", 10 * 1024 * 1024)), float(table.get("fetch_timeout_s", 3)),
                   table.get("image_ca_bundle"))

    def host_allowed(self, host):
        host = host.lower().rstrip(".")
        return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in self.hosts)

    def address_allowed(self, address, named):
        ip = ipaddress.ip_address(address)
        if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
            return False  # 169.254.169.254 and friends: never
        return named or any(ip in net for net in self.networks)
