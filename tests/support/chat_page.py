"""The chat page in headless Chromium, for the browser tests: ``open_page`` loads it and
waits for the question box; ``Watch`` records what the page must never do (reach another
host, raise, be refused a route by the server)."""

from __future__ import annotations

from playwright.sync_api import Page, expect


class Watch:
    """Requests to other hosts, uncaught page errors and requests the server refused (a
    route the page needs but the server's Gradio route list lacks): all must stay empty."""

    def __init__(self, page: Page, url: str) -> None:
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.refused: list[str] = []
        page.on("request", self._request(url))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "response",
            lambda r: (
                self.refused.append(f"{r.status} {r.url}")
                if r.url.startswith(url) and r.status in (400, 403, 404, 405)
                else None
            ),
        )

    def _request(self, url: str):  # noqa: ANN202 - a playwright callback
        def record(request) -> None:  # noqa: ANN001
            if not request.url.startswith((url, "data:", "blob:")):
                self.foreign.append(request.url)

        return record

    def check(self) -> None:
        assert self.foreign == [], f"the page reached outside hosts: {self.foreign}"
        assert self.errors == [], f"the page raised: {self.errors}"
        assert self.refused == [], f"the server refused the page: {self.refused}"


def open_page(page: Page, url: str) -> Watch:
    watch = Watch(page, url)
    page.goto(url)
    expect(page.locator("#question textarea")).to_be_visible(timeout=20_000)
    return watch
