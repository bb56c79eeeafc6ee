"""A person's browser, as far as HTTP goes: a cookie jar, the CSRF token of the page last read, forms
posted with it. For the console's HTTP tests (the real-browser tests drive Chromium)."""

import re
from html import unescape

import requests

from conftest import PASSWORD

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, base_url, language=None):
        self.base = base_url.rstrip("/") + "/console"
        self.http = requests.Session()
        if language:
            self.http.headers["Accept-Language"] = language
        self.csrf = None
        self.last = None

    def get(self, path, **kw):
        r = self.http.get(self.base + path, timeout=30, **kw)
        self._read(r)
        return r

    def post(self, path, data=None, csrf=True, **kw):
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        r = self.http.post(self.base + path, data=form, timeout=60, **kw)
        self._read(r)
        return r

    def _read(self, r):
        self.last = r
        found = TOKEN.search(r.text) if "html" in r.headers.get("Content-Type", "") else None
        if found:
            self.csrf = unescape(found.group(1))

    def log_in(self, username, password=PASSWORD):
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})


def logged_in(gw, username, password=PASSWORD, language=None):
    client = ConsoleClient(gw.base_url, language)
    r = client.log_in(username, password)
    assert r.status_code == 200 and r.url.endswith("/console/dashboard"), (r.status_code, r.url)
    return client
