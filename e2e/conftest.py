"""Browser tests: the built book, the Voila app and JupyterLab in Debian's Chromium.

Every test serves what it needs on 127.0.0.1 at a free port, blocks every request
that leaves that server, and stops its servers (and their children) when done.
Screenshots for a person to look at go to ``_build/screenshots/``.
"""

import contextlib
import functools
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


class Visit:
    """A page whose problems are recorded: console errors, failed and outside requests.

    Every request that leaves ``base`` is blocked. ``tolerate`` (a regex) names outside
    URLs that are blocked without being counted, with the console errors they cause.
    """

    def __init__(self, browser, base, viewport=None, tolerate=None):
        self.base, self.tolerate = base, tolerate
        self.errors, self.failed, self.outside = [], [], []
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        # Playwright's 30 s default: the API page (1.1 MB, hundreds of formulas) has taken
        # longer than that to settle while the machine ran other builds beside the tests.
        self.context.set_default_timeout(120_000)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(
            f"{r.status} {r.url}"))

    def _tolerated(self, url):
        return bool(self.tolerate and self.tolerate.search(url))

    def _console(self, message):
        if message.type == "error" and not self._tolerated(message.location.get("url", "")):
            self.errors.append(message.text)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base):
            route.continue_()
        else:
            if not self._tolerated(url):
                self.outside.append(url)
            route.abort()

    def _request_failed(self, request):
        if request.url.startswith(self.base):
            self.failed.append(f"{request.failure} {request.url}")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser):
    visits = []

    def open_visit(base, **kwargs):
        visits.append(Visit(browser, base, **kwargs))
        return visits[-1]

    yield open_visit
    for v in visits:
        v.close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def book_url():
    """The built book (``make book``), served by a thread of this process."""
    if not (SITE / "index.html").exists():
        pytest.fail("no built book: run `make book` first (`make e2e` does)")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def serve(command, url, timeout=90, **kwargs):
    """Run a server command in its own process group until ``url`` answers; stop it after."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, **kwargs)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited with {process.returncode}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not answer in {timeout} s") from None
                time.sleep(0.5)
        yield process
    finally:
        # Kernels run in their own sessions: note them before the server goes.
        children = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(process.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        _, alive = psutil.wait_procs(children, timeout=20)
        for child in alive:
            child.kill()
        assert not alive, f"{command[0]} left processes behind: {alive}"
