"""The console's Zones page and the dashboard's free spaces per zone (issue 16): over HTTP on SQLite
and PostgreSQL (an admin edits a zone's capacities, audited; officers are refused), and in real
headless Chromium (an admin edits a capacity and the dashboard shows it)."""

import configs
import pytest
from browser import chromium, screenshot_if_failed
from browser import wait as browser_wait
from console_client import logged_in
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select

from conftest import PASSWORD, SettableClock, migrated_with_users, start_gateway, stop_gateway, unique, unique_plate
from gateway.store.schema import AuditRecord

LOT = "LOT-LEVELS"
ZONES = [{"id": "L1", "name": "Level 1", "kind": "level", "capacity": {"car": 3}},
         {"id": "MOTO", "name": "Motorcycle area", "capacity": {"motorcycle": 2}}]


def _gateway(url, request):
    raw = configs.gateway(configs.facility(
        LOT, dict(configs.lane("L-IN", 1, "ENTRY"), zone="L1"), configs.lane("L-OUT", 2, "EXIT"), zone=ZONES,
        name="Levels Garage"))
    migrated_with_users(url, request)
    return start_gateway(configs.parse(raw, database_url=url), SettableClock())


@pytest.fixture(scope="module")
def gw(database_url, request):
    running = _gateway(database_url, request)
    yield running
    stop_gateway(running)


def enter(gw):
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": LOT, "CameraID": "L-IN", "Direction": "ENTRY", "Timestamp": gw.clock(),
        "PlateText": unique_plate(), "Confidence": "0.97"})


def test_an_admin_edits_a_zone_and_officers_are_refused(gw):
    officer = logged_in(gw, "operator")
    assert officer.get("/zones").status_code == 403
    assert officer.post("/zones/L1", {"capacity-car": "9"}).status_code == 403
    assert 'href="/console/zones"' not in officer.get("/dashboard").text
    assert enter(gw).Decision == "OPEN"
    live = officer.get("/dashboard/live").text
    assert 'id="free-L1-car" class="">2<' in live and 'id="free-MOTO-motorcycle" class="">2<' in live

    admin = logged_in(gw, "admin")
    page = admin.get("/zones").text
    assert "Level 1" in page and 'id="zone-L1-car"' in page
    r = admin.post("/zones/L1", {"name": "Level 1", "capacity-car": "12", "capacity-van": "2", "reason": "new lines"})
    assert r.status_code == 200 and "Zone Level 1 saved" in r.text
    assert 'id="free-L1-car" class="">11<' in officer.get("/dashboard/live").text
    with gw.store.transaction() as db:
        entry = db.execute(select(AuditRecord).where(AuditRecord.action == "SetZone")
                           .order_by(AuditRecord.id.desc())).scalars().first()
    assert entry.username == "admin" and "car 12" in entry.detail and "new lines" in entry.detail
    bad = admin.post("/zones/L1", {"capacity-car": "-4"})
    assert "whole number" in bad.text
    assert {z.ZoneID: z.Version for z in gw.client("ZoneService").ListZones(FacilityID=LOT)}["L1"] > 0


def test_the_zones_page_in_indonesian(gw):
    admin = logged_in(gw, "admin", language="id")
    page = admin.get("/zones").text
    assert "Zona" in page and "lantai" in page


@pytest.fixture(scope="module")
def browser_gw(tmp_path_factory, request):
    running = _gateway(f"sqlite:///{tmp_path_factory.mktemp('zones-browser') / 'parkgate.db'}", request)
    yield running
    stop_gateway(running)


@pytest.fixture
def page(browser_gw, request):
    driver = chromium()
    driver.set_window_size(1280, 720)
    yield driver
    screenshot_if_failed(request, driver)
    driver.quit()


def test_in_the_browser_an_admin_edits_a_capacity_and_the_dashboard_shows_it(page, browser_gw):
    gw, wait = browser_gw, browser_wait(page, 20)
    page.get(gw.base_url + "/console/")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys("admin")
    page.find_element(By.ID, "password").send_keys(PASSWORD + "\n")
    assert wait.until(EC.presence_of_element_located((By.ID, "free-L1-car"))).text == "3"
    page.find_element(By.LINK_TEXT, "Zones").click()
    field = wait.until(EC.presence_of_element_located((By.ID, "capacity-L1-car")))
    field.clear()
    field.send_keys("40")
    page.find_element(By.ID, "reason-L1").send_keys("level 1 extended")
    page.find_element(By.CSS_SELECTOR, "#edit-L1 button").click()
    assert "saved" in wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash"))).text
    assert page.find_element(By.ID, "zone-L1-car").text.split() == ["car", "40", "0", "40"]
    enter(gw)
    page.find_element(By.LINK_TEXT, "Dashboard").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "free-L1-car"), "39"))
