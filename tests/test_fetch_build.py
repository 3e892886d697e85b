"""`make run` online: short connectivity check, fetch into the cache; offline one line, no long wait."""

from __future__ import annotations

import json
import os
import socket
import time

import pyrosm

from jlp_geo.config import load_profile
from jlp_geo.pipeline import fetch as fetch_mod
from jlp_geo.settings import configure, get_settings
from jlp_geo.sources.osm import cached_osm_path, read_osm, read_osm_file

TEST_PBF = os.path.join(os.path.dirname(pyrosm.__file__), "data", "test.osm.pbf")


def test_connectivity_check_is_short_and_right() -> None:
    import http.server
    import threading

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"Connected as: 1")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert fetch_mod.internet_reachable(f"http://127.0.0.1:{server.server_port}/api/status", timeout_s=2.0) is True
    finally:
        server.shutdown()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: refused at once
    assert fetch_mod.internet_reachable(f"http://127.0.0.1:{port}/", timeout_s=2.0) is False
    silent = socket.socket()  # accepts the connection, never answers (as an intercepting network does)
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        t = time.perf_counter()
        assert fetch_mod.internet_reachable(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout_s=0.5) is False
        assert time.perf_counter() - t < 1.5  # the limit holds
    finally:
        silent.close()


def test_offline_says_so_in_one_line(tmp_path) -> None:
    old = get_settings().cache_dir
    configure(cache_dir=tmp_path)
    try:
        path, line = fetch_mod.osm_for_build(load_profile(), check=lambda: False)
    finally:
        configure(cache_dir=old)
    assert path is None and "\n" not in line and "offline" in line and "--osm" in line


def test_online_fetches_into_the_cache_build_uses(tmp_path, monkeypatch) -> None:
    recorded = read_osm_file(TEST_PBF)  # stands in for the Overpass answer (the Overpass path itself: tests/test_osm.py)
    calls = []
    monkeypatch.setattr(fetch_mod, "fetch_overpass", lambda polygon: calls.append(polygon) or recorded)
    old = get_settings().cache_dir
    configure(cache_dir=tmp_path)
    try:
        path, line = fetch_mod.osm_for_build(load_profile(), check=lambda: True)
        assert path == cached_osm_path() == tmp_path / "osm" / "jiulongpo.overpass.json"
        again, line2 = fetch_mod.osm_for_build(load_profile(), check=lambda: True)  # second run: the cache, no fetch
    finally:
        configure(cache_dir=old)
    assert len(calls) == 1 and calls[0].geom_type in ("Polygon", "MultiPolygon")
    assert again == path and "cache" in line2 and "Overpass" in line
    back = read_osm(path)
    assert len(back.nodes) == len(recorded.nodes) and len(back.ways) == len(recorded.ways)
    assert json.loads(path.read_text(encoding="utf-8"))["elements"]
