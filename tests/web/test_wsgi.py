"""`csei serve` runs on waitress; the WSGI factory and the reverse-proxy setting work as documented."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from csei_nlp.errors import ConfigError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_csei_serve_runs_on_waitress(scan_out):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "csei_nlp.cli", "serve", "--db", str(scan_out), "--port",
                             str(port), "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(300):  # start-up imports Flask, SQLAlchemy and the catalog
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body, server = r.read(), r.headers.get("Server")
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(proc.stderr.read().decode())
                time.sleep(0.2)
        else:
            pytest.fail("csei serve did not answer")
        assert body.strip() == b'{"ok":true}' and server == "csei-nlp"  # waitress's ident, not Werkzeug
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_wsgi_factory_reads_the_environment(scan_out, monkeypatch, tmp_path):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from csei_nlp.web.wsgi import create_from_env

    monkeypatch.delenv("CSEI_DB", raising=False)
    with pytest.raises(ConfigError, match="CSEI_DB is not set"):
        create_from_env()
    conf = tmp_path / "prod.toml"
    conf.write_text("[web]\nproxy_hops = 1\nsecure_cookies = true\n", "utf-8")
    monkeypatch.setenv("CSEI_DB", str(scan_out))
    monkeypatch.setenv("CSEI_CONFIG", str(conf))
    app = create_from_env()
    try:
        assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_proto == 1
        assert app.config["SESSION_COOKIE_SECURE"] is True
        # a request as the proxy forwards it is served (and still needs a sign-in)
        r = app.test_client().get("/ranking", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "csei.example.org"})
        assert r.status_code == 302
    finally:
        app.extensions["csei"].db.dispose()
