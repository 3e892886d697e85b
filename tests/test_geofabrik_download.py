"""fetch_geofabrik against a local HTTP server (no internet): MD5 check, retry, resume from ``.part``.

The server speaks the parts of HTTP that Geofabrik's download server uses: ``<file>`` and ``<file>.md5``
(``<md5>  <name>``), ``Range: bytes=N-`` answered with 206. The payload is synthetic bytes (a download
test needs no real extract).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jlp_geo.errors import MissingInputError
from jlp_geo.sources.osm.geofabrik import fetch_geofabrik

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
NAME = "test-latest.osm.pbf"


class _Server(ThreadingHTTPServer):
    fail_next = 0  # answer this many file requests with 500
    md5 = hashlib.md5(PAYLOAD).hexdigest()  # noqa: S324 - Geofabrik publishes MD5
    served: list[tuple[int, int]]  # (start offset, bytes sent) per file request


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.endswith(".md5"):
            body = f"{self.server.md5}  {NAME}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.server.fail_next:
            self.server.fail_next -= 1
            self.send_error(500)
            return
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
        if start >= len(PAYLOAD):
            self.send_response(416)
            self.end_headers()
            return
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.end_headers()
        self.server.served.append((start, len(body)))  # before sending: the client may check as soon as it has the bytes
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.served = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _url(srv: _Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/asia/{NAME}"


def test_downloads_verifies_and_skips_a_good_copy(server: _Server, tmp_path: Path) -> None:
    path = fetch_geofabrik(tmp_path, url=_url(server), timeout=10)
    assert path == tmp_path / NAME and path.read_bytes() == PAYLOAD
    assert server.served == [(0, len(PAYLOAD))] and not list(tmp_path.glob("*.part"))
    fetch_geofabrik(tmp_path, url=_url(server), timeout=10)  # MD5 matches: nothing downloaded again
    assert len(server.served) == 1


def test_resumes_from_the_partial_file(server: _Server, tmp_path: Path) -> None:
    half = len(PAYLOAD) // 2 + 123
    (tmp_path / f"{NAME}.part").write_bytes(PAYLOAD[:half])  # an earlier run stopped here
    path = fetch_geofabrik(tmp_path, url=_url(server), timeout=10)
    assert path.read_bytes() == PAYLOAD
    assert server.served == [(half, len(PAYLOAD) - half)]  # only the missing bytes were sent


def test_retries_after_a_server_error(server: _Server, tmp_path: Path) -> None:
    server.fail_next = 1
    path = fetch_geofabrik(tmp_path, url=_url(server), timeout=10, retries=2)
    assert path.read_bytes() == PAYLOAD and server.served == [(0, len(PAYLOAD))]


def test_checksum_mismatch_is_a_clear_error_and_writes_nothing(server: _Server, tmp_path: Path) -> None:
    server.md5 = "0" * 32
    with pytest.raises(MissingInputError) as info:
        fetch_geofabrik(tmp_path, url=_url(server), timeout=10, retries=0)
    assert "MD5" in str(info.value) and "browser" in str(info.value)
    assert not (tmp_path / NAME).exists()
