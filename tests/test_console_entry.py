"""The entry page in a real browser whose camera is Chromium's fake device playing a real photo
(a licence plate from the training crops, set in a scene and converted to .y4m): the picture is
captured through WebRTC, read by the gateway's recogniser, the officer checks the plate (typing
the right one over whatever was read), saves, and the ticket shows the session the entry opened."""

from pathlib import Path

import configs
import cv2
import numpy as np
import pytest
from browser import chromium, screenshot_if_failed
from browser import wait as browser_wait
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from conftest import PASSWORD, TEST_CONFIG, SettableClock, add_test_users, start_gateway, stop_gateway
from gateway.store.migrate import upgrade

CROPS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "plate-crops" / "us"
PHOTO, PLATE = "ak1165.png", "FUW999"


def y4m(scene, path, frames=5):
    """``scene`` (BGR) as a YUV4MPEG2 file (4:2:0), what Chromium's fake camera plays."""
    h, w = scene.shape[:2]
    yuv = cv2.cvtColor(scene, cv2.COLOR_BGR2YUV_I420).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + yuv)
    return path


@pytest.fixture(scope="module")
def camera_file(tmp_path_factory):
    photo = cv2.imread(str(CROPS / PHOTO))
    if photo is None:
        pytest.skip(f"the plate photo {CROPS / PHOTO} is not here (../shared/datasets)")
    scene = np.full((480, 640, 3), (70, 72, 80), np.uint8)
    cv2.rectangle(scene, (60, 90), (580, 430), (40, 40, 48), -1)          # the car's rear
    plate = cv2.resize(photo, (300, int(300 * photo.shape[0] / photo.shape[1])))
    y, x = 250, 170
    scene[y:y + plate.shape[0], x:x + plate.shape[1]] = plate
    return y4m(scene, tmp_path_factory.mktemp("camera") / "booth.y4m")


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console-entry")
    url = f"sqlite:///{folder / 'parkgate.db'}"
    upgrade(url)
    add_test_users(url)
    raw = {**TEST_CONFIG, "server": {**TEST_CONFIG["server"], "max_body_bytes": 4 * 1024 * 1024},
           "storage": {"images_dir": str(folder)}, "console": {"idle_timeout_s": 4 * 3600}}
    gateway = start_gateway(configs.parse(raw, database_url=url), SettableClock())
    yield gateway
    stop_gateway(gateway)


@pytest.fixture
def page(camera_file, request):
    browser = chromium(fake_video=str(camera_file))
    yield browser
    screenshot_if_failed(request, browser)
    browser.quit()


def test_an_entry_from_the_booth_camera_prints_a_ticket(page, gw):
    page.get(gw.base_url + "/console/login")
    page.find_element(By.ID, "username").send_keys("operator", Keys.TAB)
    page.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    browser_wait(page, 20).until(EC.presence_of_element_located((By.ID, "vehicles-in")))
    page.find_element(By.LINK_TEXT, "Entry").click()
    browser_wait(page, 20).until(lambda d: d.execute_script(
        "return document.getElementById('preview').videoWidth") == 640)   # the live picture plays
    page.find_element(By.TAG_NAME, "h1").click()
    page.switch_to.active_element.send_keys("c")                        # the capture key
    browser_wait(page, 120).until(lambda d: d.find_element(By.ID, "camera").get_attribute("data-captured"))
    assert page.find_element(By.ID, "reading").text                     # read (or "no plate read")
    assert page.find_element(By.ID, "captured").get_attribute("src").startswith("blob:")
    field = page.find_element(By.ID, "plate")
    assert page.switch_to.active_element == field                        # ready to be checked
    field.clear()
    field.send_keys(PLATE, Keys.ENTER)                                   # the officer confirms (or corrects)
    number = browser_wait(page, 30).until(EC.presence_of_element_located((By.ID, "ticket-number"))).text
    assert page.find_element(By.ID, "ticket-plate").text == PLATE
    session = gw.service.use_cases.tickets.get("LOT-TEST", number=number.replace("-", "")).session
    assert (session.plate, session.status, session.lane_number) == (PLATE, "OPEN", 1)
    assert page.find_element(By.ID, "ticket-code").get_attribute("naturalWidth") != "0"   # the ticket with its code
    # the print stylesheet keeps the ticket only, at receipt width
    page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    width = page.execute_script("return document.getElementById('ticket').getBoundingClientRect().width")
    assert 250 <= width <= 290                                           # 72 mm at 96 dpi: 272 px
    assert not page.find_element(By.CSS_SELECTOR, "header.bar").is_displayed()


def test_an_officers_day_in_the_browser(page, gw):
    """Shift opened, an entry from the camera, the dashboard's count up, the exit paid in cash with the
    change, the barrier, the shift closed and its report read."""
    from datetime import timedelta

    from selenium.webdriver.support.ui import Select

    wait = browser_wait(page, 30)
    page.get(gw.base_url + "/console/login")
    page.find_element(By.ID, "username").send_keys("operator", Keys.TAB)
    page.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    before = int(wait.until(EC.presence_of_element_located((By.ID, "vehicles-in"))).text)

    page.find_element(By.LINK_TEXT, "Shift").click()
    if page.find_elements(By.ID, "close-shift"):                  # left open by the other test of this module
        page.find_element(By.ID, "declared-CASH").send_keys("0", Keys.ENTER)
        page.find_element(By.LINK_TEXT, "Shift").click()
    wait.until(EC.presence_of_element_located((By.ID, "float"))).send_keys("100", Keys.ENTER)
    assert "Shift opened" in wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash"))).text

    page.find_element(By.LINK_TEXT, "Entry").click()
    wait.until(lambda d: d.execute_script("return document.getElementById('preview').videoWidth") == 640)
    page.find_element(By.TAG_NAME, "h1").click()
    page.switch_to.active_element.send_keys("c")
    browser_wait(page, 120).until(lambda d: d.find_element(By.ID, "camera").get_attribute("data-captured"))
    Select(page.find_element(By.ID, "vehicle-type")).select_by_value("car")
    field = page.find_element(By.ID, "plate")
    field.clear()
    field.send_keys("B1234XYZ", Keys.ENTER)
    number = wait.until(EC.presence_of_element_located((By.ID, "ticket-number"))).text

    page.find_element(By.LINK_TEXT, "Dashboard").click()
    assert int(wait.until(EC.presence_of_element_located((By.ID, "vehicles-in"))).text) == before + 1

    gw.clock.advance(timedelta(minutes=50))                       # one started hour: $3.00
    page.find_element(By.LINK_TEXT, "Exit").click()
    wait.until(EC.presence_of_element_located((By.ID, "ticket"))).send_keys(number, Keys.ENTER)  # as a scanner types
    assert wait.until(EC.presence_of_element_located((By.ID, "due"))).text == "$3.00"
    assert page.find_element(By.ID, "session-plate").text == "B1234XYZ"
    assert page.find_element(By.ID, "entry-photo").get_attribute("naturalWidth") != "0"   # kept at the entry
    wait.until(lambda d: d.execute_script("return document.getElementById('preview').videoWidth") == 640)
    page.find_element(By.TAG_NAME, "h1").click()
    page.switch_to.active_element.send_keys("c")                 # the vehicle at the exit, beside it
    match = browser_wait(page, 120).until(EC.visibility_of_element_located((By.ID, "match")))
    assert float(match.get_attribute("data-score")) >= 0.9 and "ok" in match.get_attribute("class").split()
    Select(page.find_element(By.ID, "method")).select_by_value("CASH")
    tendered = page.find_element(By.ID, "tendered")
    tendered.send_keys("1")
    captured = page.find_element(By.ID, "camera").get_attribute("data-captured")
    page.execute_script("document.getElementById('capture').click()")    # a read that ends while typing
    browser_wait(page, 120).until(lambda d: d.find_element(By.ID, "camera").get_attribute("data-captured")
                                  != captured)
    assert page.switch_to.active_element.get_attribute("id") == "tendered"   # the keys stay where typed
    tendered.send_keys("0", Keys.ENTER)
    assert wait.until(EC.presence_of_element_located((By.ID, "change"))).text == "$7.00"
    page.find_element(By.ID, "open-exit").click()
    assert "Exit: OPEN" in wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.flash"))).text

    page.find_element(By.LINK_TEXT, "Shift").click()
    wait.until(EC.presence_of_element_located((By.ID, "declared-CASH"))).send_keys("103", Keys.ENTER)
    report = wait.until(EC.presence_of_element_located((By.ID, "shift-report")))
    assert "$103.00" in page.find_element(By.ID, "method-CASH").text       # float 100 + 3 taken
    assert page.find_element(By.ID, "report-taken").text == "$3.00" and report.is_displayed()
    page.save_screenshot(str(Path(__file__).resolve().parents[1] / "var" / "screenshots" / "shift-report.png"))
