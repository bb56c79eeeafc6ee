"""Make the console's screenshots in docs/ (``.venv/bin/python docs/make_screenshots.py``): a gateway
on a scratch SQLite database, a month of traffic submitted through SOAP on a test clock, then the
dashboard and the entry page (its fake camera playing a real plate photo) in headless Chromium."""

import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import threading  # noqa: E402

import configs  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402
from browser import chromium  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from conftest import (  # noqa: E402
    PASSWORD,
    TEST_CONFIG,
    SettableClock,
    add_test_users,
    reactor,
    start_gateway,
    stop_gateway,
)
from gateway.store.migrate import upgrade  # noqa: E402
from test_console_entry import CROPS, PHOTO, y4m  # noqa: E402


def event(events, event_id, camera, direction, at, plate):
    events.SubmitEvent(Event={"EventID": event_id, "FacilityID": "LOT-TEST", "CameraID": camera,
                              "Direction": direction, "Timestamp": at, "PlateText": plate, "Confidence": "0.97"})


def traffic(gw, now, rng):
    events = gw.client("EventService")
    inside = []
    for day in range(29, -1, -1):
        for hour in range(6, 23):
            at = (now - timedelta(days=day)).replace(hour=hour, minute=5)
            if at > now:
                return
            gw.clock.now = at
            for _ in range(rng.randint(0, 3 if hour in (8, 9, 17, 18) else 2)):
                plate = f"D{rng.randint(100000, 999999)}"
                event(events, f"S-{plate}-{day}", "CAM-IN", "ENTRY", at, plate)
                inside.append(plate)
            for plate in [p for p in inside if rng.random() < 0.35]:
                inside.remove(plate)
                session = gw.service.use_cases.sessions.get(plate=plate, facility_id="LOT-TEST").session
                amount = Decimal(rng.choice(["3.00", "6.00", "9.00"]))
                events.RecordPayment(SessionID=session.id, Amount={"_value_1": amount, "currency": "USD"},
                                     Method=rng.choice(["CASH", "CARD", "QRIS"]))
                event(events, f"X-{plate}-{day}", "CAM-OUT", "EXIT", at, plate)


def log_in(driver, gw, username):
    driver.get(gw.base_url + "/console/login")
    driver.find_element(By.ID, "username").send_keys(username, Keys.TAB)
    driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, "vehicles-in")))


def main():
    threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True).start()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'parkgate.db'}"
    upgrade(url)
    add_test_users(url)
    raw = {**TEST_CONFIG, "server": {**TEST_CONFIG["server"], "max_body_bytes": 4 << 20},
           "storage": {"images_dir": str(folder)}, "backup": {"directory": str(folder / "backups")},
           "console": {"idle_timeout_s": 86400}}
    now = datetime(2026, 12, 1, 21, 40, tzinfo=timezone.utc)  # 16:40 in New York
    gw = start_gateway(configs.parse(raw, database_url=url), SettableClock(now))
    try:
        traffic(gw, now, random.Random(18))
        gw.clock.now = now
        gw.client("EventService").SubmitEvent(Event={"EventID": "S-REVIEW", "FacilityID": "LOT-TEST",
                                                     "CameraID": "CAM-IN", "Direction": "ENTRY", "Timestamp": now,
                                                     "PlateText": "8XK2", "Confidence": "0.41"})
        scene = np.full((480, 640, 3), (70, 72, 80), np.uint8)
        plate = cv2.imread(str(CROPS / PHOTO))
        plate = cv2.resize(plate, (300, int(300 * plate.shape[0] / plate.shape[1])))
        cv2.rectangle(scene, (60, 90), (580, 430), (40, 40, 48), -1)
        scene[250:250 + plate.shape[0], 170:170 + plate.shape[1]] = plate
        driver = chromium(1280, 900, fake_video=str(y4m(scene, folder / "cam.y4m")))
        try:
            log_in(driver, gw, "admin")
            driver.save_screenshot(str(HERE / "console-dashboard.png"))
            driver.find_element(By.LINK_TEXT, "Entry").click()
            WebDriverWait(driver, 20).until(lambda d: d.execute_script(
                "return document.getElementById('preview').videoWidth") > 0)
            driver.find_element(By.TAG_NAME, "h1").click()
            driver.switch_to.active_element.send_keys("c")
            WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "camera").get_attribute("data-captured"))
            driver.save_screenshot(str(HERE / "console-entry.png"))
            field = driver.find_element(By.ID, "plate")
            if not field.get_attribute("value"):
                field.send_keys("FUW999")                                   # what the officer reads off the car
            field.send_keys(Keys.ENTER)                                     # saved: the ticket
            number = WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "ticket-number"))).text
            gw.clock.now = now + timedelta(hours=2, minutes=20)
            driver.find_element(By.LINK_TEXT, "Exit").click()
            WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, "ticket"))).send_keys(
                number, Keys.ENTER)
            WebDriverWait(driver, 20).until(lambda d: d.execute_script(
                "return document.getElementById('preview').videoWidth") > 0)
            driver.find_element(By.TAG_NAME, "h1").click()
            driver.switch_to.active_element.send_keys("c")
            WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "camera").get_attribute("data-captured"))
            driver.find_element(By.ID, "tendered").send_keys("20")
            driver.execute_script("window.scrollTo(0, 0)")
            driver.save_screenshot(str(HERE / "console-exit.png"))
        except Exception:
            driver.save_screenshot("/tmp/make_screenshots_failed.png")
            raise
        finally:
            driver.quit()
    finally:
        stop_gateway(gw)
    print("written:", *(HERE / f"console-{name}.png" for name in ("dashboard", "entry", "exit")))


if __name__ == "__main__":
    main()
