"""End to end: the review page in headless Chromium against a real server on loopback."""
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("OVERCLAIM_REQUIRE_BROWSER") == "1"  # set by CI so a missing browser fails
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

if not REQUIRED and (CHROMIUM is None or sync_playwright is None):
    pytest.skip("needs Debian's chromium and the playwright package", allow_module_level=True)


@pytest.fixture(scope="module")
def server(trained_tiny):
    import uvicorn

    from overclaim import Classifier
    from overclaim.serve import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(Classifier.load(trained_tiny, backend="torch"), api_key=""),
                            host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def test_review_page_scores_text_and_a_csv(server, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "posts.csv"
    upload.write_text('id,text\n1,"Sea moss cures thyroid disease. Stop your pills."\n2,"Clinic opens at 9."\n3,\n')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(server)
        page.select_option("#threshold", "high_recall")
        page.fill("#text", "Sea moss cures thyroid disease. Stop your pills.")
        page.click("#score")
        page.wait_for_selector("#verdict")
        verdict = page.inner_text("#verdict")
        assert verdict.startswith(("Flagged", "Not flagged")) and "score" in verdict
        page.set_input_files("#file", str(upload))
        page.click("#upload")
        page.wait_for_selector("#results")
        assert page.locator("#results tbody tr").count() == 2
        assert "1 skipped (lines 4)" in page.inner_text("#table")
        with page.expect_download() as download:
            page.click("#download")
        saved = tmp_path / "results.csv"
        download.value.save_as(saved)
        assert saved.read_text().startswith("id,line,score,flagged")
        page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)
        browser.close()
