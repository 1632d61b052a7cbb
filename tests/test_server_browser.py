"""The web page in a real browser (Debian chromium + chromium-driver, driven by selenium): search,
see thumbnails, open a video hit and find the player at the evidence time, take a screenshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REQUIRED = os.environ.get("MMSEARCH_REQUIRE_BROWSER") == "1"
CHROMEDRIVER = "/usr/bin/chromedriver"
OPTIONS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900",
           "--autoplay-policy=no-user-gesture-required")


def _missing() -> str | None:
    if not Path(CHROMEDRIVER).exists() or shutil.which("chromium") is None:
        return "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    try:
        import fastapi  # noqa: F401
        import selenium  # noqa: F401
        import skimage  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[dev,server]')"
    return None


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    reason = _missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"MMSEARCH_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for option in OPTIONS:
        options.add_argument(option)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # never Selenium Manager: no download
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_page_search_thumbnails_and_video_at_evidence_time(browser, open_engine, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    from server_live import live_server
    from video_media import photo, slideshow

    black, cat = tmp_path / "black.png", tmp_path / "cat.png"
    photo("astronaut", (320, 240)).point(lambda v: 0).save(black)
    photo("chelsea", (320, 240)).save(cat)
    # 2 s of black (never sampled as a frame), then the cat: the video's evidence starts at about 2 s.
    slideshow(library / "clip.mp4", [(black, 2.0), (cat, 3.0)], fps=10)
    engine = open_engine()
    engine.index([library])
    with live_server(engine, open_engine) as url:
        browser.get(url + "/")
        box = browser.find_element(By.ID, "q")
        box.send_keys("kitten whiskers", Keys.ENTER)
        wait = WebDriverWait(browser, 30)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li.card")) >= 4)
        loaded = "return [...document.querySelectorAll('#results img')].every(i => i.complete && i.naturalWidth > 0)"
        wait.until(lambda d: d.execute_script(loaded))
        cards = browser.find_elements(By.CSS_SELECTOR, "#results li.card")
        assert cards[0].get_attribute("data-modality") == "image" and "photos/cat.png" in cards[0].text
        assert {c.get_attribute("data-modality") for c in cards} >= {"image", "text", "video"}
        video = browser.find_element(By.CSS_SELECTOR, "#results li[data-modality=video]")
        start = float(video.get_attribute("data-start"))
        assert start >= 1.5  # the black intro is not evidence
        video.find_element(By.CSS_SELECTOR, "button.open").send_keys(Keys.ENTER)  # by keyboard
        # It plays on its own, so read where playback began (the first played range), not "now".
        played = "const p = document.getElementById('player'); return p && p.played.length ? [p.played.start(0), p.currentTime] : null"
        began, now = wait.until(lambda d: d.execute_script(played))
        assert abs(began - start) < 0.3 and now >= start - 0.05, (began, now, start)
        assert browser.execute_script("return document.getElementById('player').error") is None
        shot = tmp_path / "page.png"
        assert browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        browser.find_element(By.ID, "viewer-close").click()
        # A text hit opens its passage with the matched range highlighted.
        text = browser.find_element(By.CSS_SELECTOR, "#results li[data-modality=text] button.open")
        text.click()
        mark = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#viewer-body mark"))
        assert mark[0].text.strip()
        browser.find_element(By.ID, "viewer-close").click()
        # Phone width: no sideways scrolling, two columns of results.
        browser.set_window_size(390, 844)
        wait.until(lambda d: d.execute_script("return window.innerWidth") <= 400)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        columns = browser.execute_script("return getComputedStyle(document.getElementById('results')).gridTemplateColumns")
        assert len(columns.split()) == 2, columns
