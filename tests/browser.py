"""Debian's Chromium driven headless by Selenium through the system chromedriver, for the console's
browser tests; a screenshot of the page is saved when a test fails (``var/screenshots/``)."""

import shutil
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"


def chromium(width=1280, height=720, fake_video=None):
    """A headless Chromium; ``fake_video``: a .y4m/.mjpeg file its fake camera plays (WebRTC capture)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("the browser tests need Debian's chromium and chromium-driver (make installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream", "--lang=en-US", "--disable-extensions"):
        options.add_argument(flag)
    if fake_video:
        options.add_argument(f"--use-file-for-fake-video-capture={fake_video}")
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def wait(driver, seconds=20):
    """A wait that takes an element the page replaced while it was read (the dashboard redraws its
    figures every 5 s) as "not yet" rather than as a failure."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))


def screenshot_if_failed(request, driver):
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}.png"
        driver.save_screenshot(str(path))
        print(f"screenshot of the failure: {path}")
