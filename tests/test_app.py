"""The explorer app: ``make app``'s notebooks render live in Voila on 127.0.0.1."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


@pytest.mark.slow
def test_voila_serves_the_index_and_a_live_explorer(tmp_path):
    bin_dir = Path(sys.executable).parent
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_app.py"), str(tmp_path)],
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(bin_dir / "voila"), str(tmp_path), "--no-browser", "--Voila.ip=127.0.0.1",
         f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = get(base + "/", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        assert status == 200
        status, index = get(f"{base}/voila/render/00_index.ipynb", timeout=60)
        assert status == 200 and "Playground" in index and "Kernel explorer" in index
        status, page = get(f"{base}/voila/render/01_playground.ipynb", timeout=90)
        assert status == 200 and "Playground(children" in page
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
