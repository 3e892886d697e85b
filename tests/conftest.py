"""Shared fixtures: a headless Chromium that opens generated maps with no network."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


@dataclass
class OfflinePage:
    """A page opened from disk, with what it tried to fetch and every error it raised."""

    page: Any  # playwright.sync_api.Page
    external_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium via Playwright; skips only when /usr/bin/chromium is absent."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install it with `apt-get install -y chromium fonts-noto-cjk` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)  # on CI the browser checks must run, never silently skip
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Callable[..., OfflinePage]]:
    """Return ``open_offline(path) -> OfflinePage``.

    Every request that is not ``file:``/``data:``/``about:``/``blob:`` is
    recorded and aborted, as on a machine without network.
    """
    contexts: list[Any] = []

    def open_offline(path: str | Path, viewport: tuple[int, int] = (1280, 860)) -> OfflinePage:
        ctx = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(ctx)
        page = ctx.new_page()
        report = OfflinePage(page)

        def route(r: Any) -> None:
            if r.request.url.startswith(_LOCAL_SCHEMES):
                r.continue_()
            else:
                report.external_requests.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
        page.on("console", lambda msg: report.console_errors.append(msg.text) if msg.type == "error" else None)
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(200)
        return report

    yield open_offline
    for ctx in contexts:
        ctx.close()


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Keep tests away from the user's real cache (``jlp-geo build`` looks there for fetched OSM data)."""
    from jlp_geo.settings import configure, get_settings

    old = get_settings().cache_dir
    configure(cache_dir=tmp_path_factory.mktemp("cache"))
    yield
    configure(cache_dir=old)
