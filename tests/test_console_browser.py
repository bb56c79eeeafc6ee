"""The console in a real browser (issue 18): Debian's Chromium, headless, through Selenium. An officer
logs in with the keyboard, watches the dashboard's counts follow lane events by themselves, confirms
a plate from the review queue and commands a lane; an admin disables a user who then cannot log in;
the language switch; every control labelled; readable at 1280x720 and on a tablet. A screenshot is
saved when a test fails (``var/screenshots/``)."""

import configs
import pytest
from browser import SCREENSHOTS, chromium, screenshot_if_failed, wait
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from conftest import (
    PASSWORD,
    TEST_CONFIG,
    SettableClock,
    migrated_with_users,
    start_gateway,
    stop_gateway,
    unique,
    unique_plate,
)


@pytest.fixture(scope="module")
def gw(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("console-browser")
    url = f"sqlite:///{folder / 'parkgate.db'}"
    migrated_with_users(url, request)
    raw = {**TEST_CONFIG, "backup": {"directory": str(folder / "backups")}, "storage": {"images_dir": str(folder)}}
    gateway = start_gateway(configs.parse(raw, database_url=url), SettableClock())
    yield gateway
    stop_gateway(gateway)


@pytest.fixture(scope="module")
def driver():
    browser = chromium()
    yield browser
    browser.quit()


@pytest.fixture
def page(driver, gw, request):
    """The browser, logged out, at 1280x720; a screenshot if the test fails."""
    driver.set_window_size(1280, 720)
    driver.delete_all_cookies()
    yield driver
    screenshot_if_failed(request, driver)


def log_in(driver, gw, username, password=PASSWORD):
    """As a person at a booth does it: the keyboard only."""
    driver.get(gw.base_url + "/console/")
    field = wait(driver).until(EC.presence_of_element_located((By.ID, "username")))
    assert driver.switch_to.active_element == field  # the cursor waits in the first field
    field.send_keys(username, Keys.TAB)
    driver.switch_to.active_element.send_keys(password, Keys.ENTER)


def flash(driver, says):
    """Wait until the page's message says ``says``: just after a click the last page's message may
    still be on screen (and gone by the time it is read)."""
    try:
        wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "p.flash"), says))
    except TimeoutException:
        shown = [p.text for p in driver.find_elements(By.CSS_SELECTOR, "p.flash")]
        raise AssertionError(f"no message says {says!r}: {shown}") from None


def submit(gw, camera, direction, plate, confidence="0.97"):
    return gw.client("EventService").SubmitEvent(Event={
        "EventID": unique(), "FacilityID": "LOT-TEST", "CameraID": camera, "Direction": direction,
        "Timestamp": gw.clock(), "PlateText": plate, "Confidence": confidence})


def test_an_officer_watches_the_dashboard_reviews_and_commands_lanes(page, gw):
    log_in(page, gw, "operator")
    wait(page).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Dashboard"))
    before = int(page.find_element(By.ID, "vehicles-in").text)
    for _ in range(2):
        submit(gw, "CAM-IN", "ENTRY", unique_plate())
    # the page refreshes its figures by itself (every 5 s), without a reload
    wait(page).until(lambda d: d.find_element(By.ID, "vehicles-in").text == str(before + 2))
    assert page.find_element(By.ID, "live").get_attribute("data-refreshed")

    plate = unique_plate()
    assert submit(gw, "CAM-IN", "ENTRY", plate, confidence="0.30").Decision == "REVIEW"
    page.find_element(By.LINK_TEXT, "Review queue").click()
    fields = wait(page).until(EC.presence_of_all_elements_located((By.CSS_SELECTOR, "input.plate")))
    field = fields[-1]
    field.clear()
    field.send_keys(plate, Keys.ENTER)
    flash(page, "Review resolved: decision OPEN")

    page.find_element(By.LINK_TEXT, "Lanes").click()
    Select(wait(page).until(EC.presence_of_element_located((By.ID, "command-2")))).select_by_value("CLOSE")
    page.find_element(By.ID, "reason-2").send_keys("spill on the exit ramp", Keys.ENTER)
    flash(page, "Lane 2: CLOSE -> NOT_CONTROLLED")

    page.find_element(By.ID, "logout").click()
    wait(page).until(EC.presence_of_element_located((By.ID, "username")))
    page.get(gw.base_url + "/console/dashboard")
    assert "/console/login" in page.current_url


def test_an_officer_finds_no_admin_pages(page, gw):
    log_in(page, gw, "operator")
    wait(page).until(EC.presence_of_element_located((By.ID, "vehicles-in")))
    assert not page.find_elements(By.LINK_TEXT, "Users")
    page.get(gw.base_url + "/console/users")
    assert "for administrators" in page.find_element(By.TAG_NAME, "main").text


def test_an_admin_disables_a_user_who_then_cannot_log_in(page, gw):
    name = f"booth-{unique_plate().lower()}"
    log_in(page, gw, "admin")
    wait(page).until(EC.presence_of_element_located((By.ID, "vehicles-in")))
    page.find_element(By.LINK_TEXT, "Users").click()
    page.find_element(By.ID, "new-username").send_keys(name)
    page.find_element(By.ID, "new-password").send_keys("booth-password-1")
    Select(page.find_element(By.ID, "new-role")).select_by_value("operator")
    page.find_element(By.CSS_SELECTOR, "#add-user button").click()
    flash(page, f"User {name} added")
    page.find_element(By.ID, f"disable-{name}").click()
    flash(page, "can no longer log in")
    assert "disabled" in page.find_element(By.ID, f"user-{name}").text
    page.find_element(By.ID, "logout").click()
    log_in(page, gw, name, "booth-password-1")
    flash(page, "Wrong user name or password, or the account is disabled.")
    assert "/console/login" in page.current_url


def test_the_language_switch(page, gw):
    log_in(page, gw, "admin")
    wait(page).until(EC.presence_of_element_located((By.ID, "vehicles-in")))
    Select(page.find_element(By.ID, "language-choice")).select_by_value("id")  # applies at once (no button press)
    wait(page).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Dasbor"))
    assert page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    assert "Kendaraan di dalam" in page.page_source and page.find_element(By.ID, "logout").text == "Keluar"
    Select(page.find_element(By.ID, "language-choice")).select_by_value("en")
    wait(page).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Dashboard"))


def test_an_admin_sets_a_new_car_rate_and_the_quote_follows(page, gw):
    """On the tiny lot (the other tests' fees stay as they were), with the keyboard."""
    log_in(page, gw, "admin")
    wait(page).until(EC.presence_of_element_located((By.ID, "vehicles-in")))
    choice = page.find_element(By.ID, "facility-choice")
    Select(choice).select_by_value("LOT-TINY")                         # applies at once: the page reloads
    wait(page).until(EC.staleness_of(choice))
    page.find_element(By.LINK_TEXT, "Tariffs").click()

    def quote():
        Select(wait(page).until(EC.presence_of_element_located((By.ID, "quote-type")))).select_by_value("car")
        hours = page.find_element(By.ID, "quote-hours")
        hours.clear()
        hours.send_keys("3", Keys.ENTER)
        return wait(page).until(EC.presence_of_element_located((By.ID, "quote-fee"))).text
    assert quote() == "$5.00"                                          # FLAT: 5.00 a day
    page.find_element(By.ID, "tariff-price_per_period").send_keys("2.50")
    page.find_element(By.ID, "tariff-daily_maximum").send_keys("20.00")
    page.find_element(By.ID, "tariff-reason").send_keys("hourly from today", Keys.ENTER)
    flash(page, "Tariff version")
    flash(page, "for car")
    current = page.find_element(By.CSS_SELECTOR, "#tariff-list tr.current")
    assert "$2.50" in current.text and "in force" in current.text
    assert quote() == "$7.50"                                          # three hours at 2.50
    page.find_element(By.ID, "tariff-price_per_period").send_keys("two", Keys.ENTER)
    assert "is not an amount" in wait(page).until(EC.presence_of_element_located((By.ID, "tariff-error"))).text
    assert page.find_element(By.ID, "tariff-price_per_period").get_attribute("value") == "two"   # kept to correct


UNLABELLED = """return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(e => !(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML);"""
NAMELESS_BUTTONS = "return Array.from(document.querySelectorAll('button')).filter(b => !b.innerText.trim()).length;"
OVERFLOW = "return document.documentElement.scrollWidth - window.innerWidth;"


@pytest.mark.parametrize("size", [(1280, 720), (800, 1280)], ids=["1280x720", "tablet"])
def test_every_control_is_labelled_and_pages_fit(page, gw, size):
    log_in(page, gw, "admin")
    wait(page).until(EC.presence_of_element_located((By.ID, "vehicles-in")))
    page.set_window_size(*size)
    shots = SCREENSHOTS / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    for path in ("dashboard", "reviews", "lanes", "users", "zones", "activity", "backups", "tariffs"):
        page.get(f"{gw.base_url}/console/{path}")
        wait(page).until(EC.presence_of_element_located((By.TAG_NAME, "h1")))
        assert page.execute_script(UNLABELLED) == [], path
        assert page.execute_script(NAMELESS_BUTTONS) == 0, path
        assert page.execute_script(OVERFLOW) <= 0, f"{path} scrolls sideways at {size}"
        page.save_screenshot(str(shots / f"{path}-{size[0]}x{size[1]}.png"))


def test_an_idle_dashboard_returns_to_the_login(page, gw):
    from datetime import timedelta
    log_in(page, gw, "operator")
    wait(page).until(EC.presence_of_element_located((By.ID, "vehicles-in")))
    gw.clock.advance(timedelta(minutes=16))          # past the 15 idle minutes; its refreshes are no use
    try:
        wait(page, 30).until(EC.presence_of_element_located((By.ID, "username")))
        flash(page, "ended after a while without use")
    finally:
        gw.clock.now = SettableClock().now
