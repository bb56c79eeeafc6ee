"""Property-based fuzzing of the console over HTTP, against a live gateway, as a logged-in admin.

The forms are the ones the pages themselves serve (their fields and values read from the HTML);
each field is kept, left out, emptied, or given text that no form would send (junk, numbers past
their edges, very long, other scripts). Pages with a part in their path are asked with parts that
name nothing or are not what they should be. Every answer must be a page, a redirect or a file,
never a 500 (the console's "could not show this page": a bug in a page), and the console keeps
serving. The budget is bounded (``FUZZ_EXAMPLES``; ``FUZZ_RANDOM``), as in test_fuzz.py.
"""

from datetime import timedelta
from urllib.parse import quote, urlsplit

import configs
import pytest
import requests
from console_client import logged_in
from hypothesis import event, given
from hypothesis import strategies as st
from lxml import html

from conftest import TEST_CONFIG, SettableClock, migrated_with_users, start_gateway, stop_gateway, unique, unique_plate
from test_fuzz import FUZZ

#: The pages whose forms are fuzzed (each read once, as an admin sees it).
PAGES = ("/dashboard", "/entry", "/exit", "/exit?plate={plate}", "/lost", "/overnight", "/shift", "/reviews",
         "/lanes", "/users", "/activity", "/backups", "/reports", "/tariffs", "/zones")
#: Forms left out: the admin's own log-out and account (the fuzzing would end its own session), and a
#: backup per example (test_ops_backup.py has them).
SPARED = ("/console/logout", "/console/users/admin", "/console/backups")
#: Pages with a part in their path, and what can stand in it.
PARTS = ("/ticket/{}", "/ticket/{}/ticket.png", "/sessions/{}/entry-picture", "/receipts/{}", "/shift/{}",
         "/reviews/{}/image", "/users/{}", "/backups/{}/download", "/reports/export.{}", "/zones/{}", "/lanes/{}")
JUNK = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["", " ", "-1", "0", "1e309", "NaN", "-0.001", "99999999999999999999999", "0x10", "1,5",
                     "2025-02-30", "2025-01-22T24:00:00Z", "9999-12-31", "../../etc/passwd", "%00", "\x00",
                     "<script>x</script>", "' OR 1=1 --", "LOT-TEST", "CAM-IN", "ENTRY", "car", "x" * 5000]))


#: Values a person would type into a field whose name has the word in it (the pages leave them empty).
LIKELY = (("plate", "B1234XYZ"), ("plate", "AB12CDE"), ("declared", "10.00"), ("tendered", "20.00"),
          ("amount", "5.00"), ("price", "2.50"), ("minutes", "60"), ("maximum", "30.00"), ("lost", "25.00"),
          ("username", "fuzzed"), ("password", "long-enough-password-1"), ("reason", "fuzzed"),
          ("effective_from", "2025-01-23T08:00"), ("rate_code", "FUZZ"), ("float", "50.00"))


@pytest.fixture(scope="module")
def gw(tmp_path_factory, request):
    """On SQLite only, as test_fuzz.py: what is fuzzed is the console's surface."""
    folder = tmp_path_factory.mktemp("fuzz-console")
    url = f"sqlite:///{folder / 'parkgate.db'}"
    raw = {**TEST_CONFIG, "backup": {"directory": str(folder / "backups"), "keep": 2},
           "storage": {"images_dir": str(folder / "images")}}
    migrated_with_users(url, request)
    gateway = start_gateway(configs.parse(raw, database_url=url), SettableClock())
    yield gateway
    stop_gateway(gateway)


@pytest.fixture(scope="module")
def admin(gw):
    """An admin at the console, with a car in and a shift open, so that the forms are all there."""
    plate = unique_plate()
    gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": "LOT-TEST", "CameraID": "CAM-IN", "Direction": "ENTRY",
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": "0.97"})
    gw.clock.advance(timedelta(hours=3))         # a fee is due: the exit desk shows its payment form
    client = logged_in(gw, "admin")
    client.plate = plate
    client.post("/shift/open", {"float": "50.00"})
    return client


@pytest.fixture(scope="module")
def forms(admin):
    """(action path, its fields with the values the page gave them) of each form the pages serve."""
    found = {}
    for path in PAGES:
        r = admin.get(path.format(plate=admin.plate))
        assert r.status_code == 200, path
        for form in html.fromstring(r.text).forms:
            action = urlsplit(form.action or path).path
            if form.method.upper() != "POST" or action in SPARED or not action.startswith("/console/"):
                continue
            fields = {}
            for element in form.inputs:
                if element.name and element.name != "csrf":
                    options = list(getattr(element, "value_options", None) or []) or [element.value or ""]
                    fields.setdefault(element.name, []).extend(options + [v for k, v in LIKELY if k in element.name])
            found.setdefault(action, fields)
    assert len(found) >= 10, sorted(found)
    return sorted(found.items())


def fill(draw, fields):
    form = {}
    for name, values in fields.items():
        how = draw(st.sampled_from(["keep", "keep", "leave out", "junk"]))
        if how == "keep":
            form[name] = draw(st.sampled_from(values))
        elif how == "junk":
            form[name] = draw(JUNK)
    return form


def check(admin, r):
    """A page, a redirect followed, or a file; never the console's 500."""
    assert r.status_code < 500, (r.status_code, r.request.method, urlsplit(r.url).path, r.text[:200])
    assert r.content, f"HTTP {r.status_code} with an empty body"
    event(str(r.status_code))
    if urlsplit(r.url).path.endswith("/console/login"):   # a form that ended the session: log in again
        admin.log_in("admin")


@FUZZ
@given(data=st.data())
def test_the_pages_forms_with_fields_left_out_or_wrong(admin, forms, data):
    action, fields = data.draw(st.sampled_from(forms))
    admin.get("/dashboard")                      # a fresh CSRF token
    form = fill(data.draw, fields)
    try:
        r = admin.post(action.removeprefix("/console"), form)
    except requests.ConnectionError as e:        # the console hung up: no answer at all
        raise AssertionError(f"{action} {form!r}: {e}") from None
    check(admin, r)


@FUZZ
@given(path=st.sampled_from(PARTS), part=JUNK,
       query=st.dictionaries(st.sampled_from(["facility", "day", "from", "to", "kind", "after", "ticket", "plate",
                                              "lane", "barrier", "next", "expired", "q"]),
                             JUNK, max_size=3))
def test_pages_with_parts_and_queries_that_name_nothing(admin, path, part, query):
    r = admin.get(path.format(quote(part, safe="") or "x"), params=query)
    check(admin, r)


@FUZZ
@given(path=st.sampled_from(PAGES), query=st.dictionaries(st.text(max_size=12), JUNK, max_size=4))
def test_pages_with_queries_of_junk(admin, path, query):
    r = admin.get(path, params=query)
    check(admin, r)


def test_the_console_still_serves_after_the_fuzzing(admin):
    r = admin.get("/dashboard")
    assert r.status_code == 200 and urlsplit(r.url).path.endswith("/console/dashboard")
