"""/api/docs and /api/redoc from the sidecar's files (no CDN), and the site under gunicorn
with its static files served by WhiteNoise, as `make serve` runs it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

ROOT = Path(settings.BASE_DIR)
CDNS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs", "googleapis")


def assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_docs_load_nothing_from_a_cdn(db, page):
    response = APIClient().get(page, HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema" in html
    assert not any(cdn in html for cdn in CDNS)
    found = assets(html)
    assert found and all(a.startswith("/static/drf_spectacular_sidecar/") for a in found)
    for asset in found:
        assert finders.find(asset.removeprefix("/static/")), asset


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (local)
        return response.status, response.read()


def test_gunicorn_serves_the_api_the_docs_and_their_static_files(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "serving-test-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "authcore.settings",
        "LOG_FORMAT": "json",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "authcore.wsgi:application", "--bind", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                status, body = fetch(f"{base}/api/health")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not answer")
        assert status == 200 and b"healthy" in body
        status, page = fetch(f"{base}/api/docs")
        assert status == 200
        for asset in assets(page.decode()):
            assert fetch(f"{base}{asset}")[0] == 200, asset
        assert fetch(f"{base}/static/admin/css/base.css")[0] == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    request_lines = [line for line in output.splitlines() if '"authcore.request"' in line]
    assert request_lines, output
