"""Make docs/web.png: the search page over real media indexed with the offline ``lite`` space.

    python docs/web_screenshot.py [--out docs/web.png] [--keep DIR]

Photos from scikit-image, a narrated video made with ffmpeg, a spoken clip from espeak-ng and two
short documents; indexed for real (EfficientNet-Lite0 + MiniLM, Whisper tiny.en for speech), served
by ``mmsearch.server`` on 127.0.0.1 and photographed with headless chromium via selenium.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

QUERY = "a cat"
DOCS = {
    "cats.md": "# Living with a cat\n\nA cat sleeps most of the day and hunts at dusk. Give your kitten a scratching post, "
               "fresh water and a quiet place to hide.\n\nOlder cats like warm windowsills.\n",
    "coffee.txt": "Brewing coffee: grind the beans just before you brew, use water just off the boil, and wait four minutes.\n",
}
SPEECH = "Our cat Chelsea sat on the warm windowsill all afternoon, purring in the sun."
NARRATION = "And here is the cat again, watching the rocket launch from the window."


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _photo(name: str, size: tuple[int, int] = (480, 320)) -> Image.Image:
    import skimage.data

    image = Image.fromarray(np.asarray(getattr(skimage.data, name)())).convert("RGB")
    image.thumbnail(size)
    canvas = Image.new("RGB", size)
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return canvas


def make_library(root: Path) -> Path:
    lib = root / "library"
    for folder in ("photos", "videos", "recordings", "notes"):
        (lib / folder).mkdir(parents=True, exist_ok=True)
    for name in ("chelsea", "rocket", "coffee", "astronaut"):
        _photo(name).save(lib / "photos" / f"{name}.jpg", quality=90)
    stills = root / "stills"
    stills.mkdir(exist_ok=True)
    for name in ("rocket", "chelsea"):
        _photo(name).save(stills / f"{name}.png")
    narration = root / "narration.wav"
    _run("espeak-ng", "-s", "150", "-w", str(narration), NARRATION)
    # rocket 0-4 s, the cat 4-10 s; the narration starts at 5 s
    _run("ffmpeg", "-y", "-v", "error", "-loop", "1", "-framerate", "25", "-t", "4", "-i", str(stills / "rocket.png"),
         "-loop", "1", "-framerate", "25", "-t", "6", "-i", str(stills / "chelsea.png"), "-i", str(narration),
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0,format=yuv420p[v];[2:a]adelay=5000|5000,apad[a]",
         "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-t", "10",
         str(lib / "videos" / "launch-day.mp4"))
    raw = root / "speech.wav"
    _run("espeak-ng", "-s", "150", "-w", str(raw), SPEECH)
    _run("ffmpeg", "-y", "-v", "error", "-i", str(raw), "-c:a", "libmp3lame", str(lib / "recordings" / "voice-memo.mp3"))
    for name, text in DOCS.items():
        (lib / "notes" / name).write_text(text)
    return lib


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("web.png")))
    parser.add_argument("--keep", help="build the library and index here (default: a temporary folder)")
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    import mmsearch
    from mmsearch.server.config import ServerConfig
    from mmsearch.server.run import bind, serve

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        lib = make_library(root)
        index = root / "index"

        def open_engine() -> mmsearch.Engine:
            return mmsearch.Engine.open(index, embedders=["lite"])

        engine = open_engine()
        print(engine.index([lib]))
        engine.search(QUERY)  # warm, as `mmsearch serve` does before it listens
        sock = bind("127.0.0.1", 0)
        holder: list = []
        thread = threading.Thread(target=serve, args=(engine, open_engine, ServerConfig(), sock, "127.0.0.1"),
                                  kwargs={"started": holder.append}, daemon=True)
        thread.start()
        while not (holder and holder[0].started):
            time.sleep(0.05)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        options = webdriver.ChromeOptions()
        for option in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                       "--disable-background-networking", "--disable-component-update", "--disable-sync",
                       "--window-size=1200,900", "--hide-scrollbars"):
            options.add_argument(option)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.get(url + "/")
            driver.find_element(By.ID, "q").send_keys(QUERY, Keys.ENTER)
            wait = WebDriverWait(driver, 60)
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results li.card"))
            wait.until(lambda d: d.execute_script(
                "return [...document.querySelectorAll('#results img')].every(i => i.complete && i.naturalWidth > 0)"))
            kinds = [c.get_attribute("data-modality") for c in driver.find_elements(By.CSS_SELECTOR, "#results li.card")]
            print("hits:", kinds)
            driver.save_screenshot(args.out)
            print("wrote", args.out)
            driver.find_element(By.CSS_SELECTOR, "#results li[data-modality=video] button.open").click()
            wait.until(lambda d: d.execute_script("const p = document.getElementById('player'); return p && p.played.length && p.currentTime > 0"))
            driver.execute_script("document.getElementById('player').pause()")
            player_png = str(Path(args.out).with_name(Path(args.out).stem + "-video.png"))
            driver.save_screenshot(player_png)
            print("wrote", player_png)
        finally:
            driver.quit()
            holder[0].should_exit = True
            thread.join(30)
            engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
