"""The HTTP front door, against a real server: one rate limit for every answering
route, trusted proxies only, the Host allow-list, HEAD and 304s."""

from __future__ import annotations

import httpx
import pytest

from tests.support.security import chat_call

pytestmark = pytest.mark.integration


# --- rate limit ----------------------------------------------------------------------


@pytest.mark.server(rate_limit_per_minute=6)
def test_forwarded_for_does_not_dodge_the_rate_limit(server: dict) -> None:
    """Finding 4: ten requests with rotating X-Forwarded-For at 6/min get >= three 429s."""
    codes = [
        httpx.post(
            f"{server['url']}/api/ask",
            json={"question": "Which countries opposed it?"},
            headers={"X-Forwarded-For": f"203.0.113.{i}", "X-Real-IP": f"198.51.100.{i}"},
            timeout=10,
        ).status_code
        for i in range(10)
    ]
    assert codes.count(429) >= 3, codes
    assert codes[:6] == [200] * 6


@pytest.mark.server(rate_limit_per_minute=6)
def test_collection_and_document_file_routes_count_against_the_limit(server: dict) -> None:
    """The routes added for collections and the PDF view are /api/* like the others."""
    url = server["url"]
    codes = [httpx.get(f"{url}/api/collections", timeout=10).status_code for _ in range(4)]
    codes += [
        httpx.get(f"{url}/api/documents/{'0' * 16}/file", timeout=10).status_code for _ in range(4)
    ]
    assert codes[:4] == [200] * 4 and codes[4:6] == [404, 404], codes
    assert codes[6:] == [429, 429], codes


@pytest.mark.server(rate_limit_per_minute=6)
def test_gradio_chat_routes_count_against_the_same_limit(server: dict) -> None:
    """Finding 4: /gradio_api/call/chat and the queue are behind the one limiter."""
    url = server["url"]
    codes = []
    for i in range(4):
        codes.append(httpx.post(f"{url}/api/ask", json={"question": "Opposed?"}).status_code)
        got = httpx.post(
            f"{url}/gradio_api/call/chat",
            json={"data": ["Which countries opposed it?"]},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        codes.append(got.status_code)
    status, _ = chat_call(url, "Which countries opposed it?")
    codes.append(status)
    assert codes[:6] == [200] * 6, codes
    assert codes[6:] == [429] * 3, codes


@pytest.mark.server(rate_limit_per_minute=6, trusted_proxies="127.0.0.1")
def test_a_trusted_proxy_names_the_client(server: dict) -> None:
    """From a listed proxy, X-Forwarded-For separates clients (and still limits each one)."""
    url = server["url"]

    def ask(client_ip: str) -> int:
        return httpx.post(
            f"{url}/api/ask",
            json={"question": "Opposed?"},
            headers={"X-Forwarded-For": f"{client_ip}, 127.0.0.1"},
        ).status_code

    assert [ask(f"203.0.113.{i}") for i in range(10)] == [200] * 10
    assert [ask("198.51.100.7") for _ in range(8)].count(429) == 2


@pytest.mark.server()
def test_foreign_host_headers_are_refused(server: dict) -> None:
    """DNS rebinding: a page on another name that resolves here gets 400."""
    url = server["url"]
    for route in ("/", "/config", "/api/documents", "/widget", "/gradio_api/info"):
        got = httpx.get(f"{url}{route}", headers={"Host": "rebind.evil.example:7860"})
        assert got.status_code == 400, route
        assert "evil" not in got.text
    status, _ = chat_call(url, "Opposed?", headers={"Host": "evil.example"})
    assert status == 400
    for host in ("localhost", f"127.0.0.1:{server['settings'].server.port}", "[::1]:80"):
        assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 200, host


# --- HEAD and caching ----------------------------------------------------------------


@pytest.mark.server()
def test_head_answers_on_every_get_route(server: dict) -> None:
    """Finding 8: HEAD gets the GET status and headers, with no body."""
    url = server["url"]
    for route in (
        "/embed.js",
        "/widget",
        "/widget.js",
        "/widget.css",
        "/healthz",
        "/docs",
        "/gradio.js",
        "/",
        "/api/documents",
        "/api/collections",
        "/openapi.json",
        "/config",
        "/pdfview.js",
        "/pdfjs/pdf.min.mjs",
        "/pdfjs/pdf.worker.min.mjs",
    ):
        got = httpx.head(f"{url}{route}")
        assert got.status_code == 200, route
        assert got.content == b"", route
        assert got.headers.get("content-type"), route


@pytest.mark.server()
def test_static_assets_revalidate_with_304(server: dict) -> None:
    url = server["url"]
    for route in ("/embed.js", "/widget", "/widget.js", "/widget.css", "/gradio.js"):
        first = httpx.get(f"{url}{route}")
        etag, modified = first.headers.get("etag"), first.headers.get("last-modified")
        assert etag and modified, route
        assert (
            "no-cache" in first.headers["cache-control"]
            or "max-age" in first.headers["cache-control"]
        )
        again = httpx.get(f"{url}{route}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", route
        assert httpx.head(f"{url}{route}", headers={"If-None-Match": etag}).status_code == 304
        since = httpx.get(f"{url}{route}", headers={"If-Modified-Since": modified})
        assert since.status_code == 304, route
        changed = httpx.get(f"{url}{route}", headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200 and changed.content, route


def test_server_runs_uvicorn_without_trusting_proxy_headers() -> None:
    """The root of the X-Forwarded-For bypass: uvicorn must not rewrite the client address."""
    from assistant.serve.server import uvicorn_config
    from assistant.settings import Settings

    config = uvicorn_config(object(), Settings())  # type: ignore[arg-type]
    assert config.proxy_headers is False and config.server_header is False


def test_client_address_rules() -> None:
    from assistant.serve.gateway import ClientAddressMiddleware, parse_networks
    from assistant.serve.ratelimit import client_key

    mw = ClientAddressMiddleware(None, parse_networks("127.0.0.1, 10.0.0.0/8"))  # type: ignore[arg-type]
    assert mw.client_of("203.0.113.9", ["1.2.3.4"]) == "203.0.113.9"  # untrusted peer
    assert mw.client_of("127.0.0.1", ["1.2.3.4", "198.51.100.1", "10.1.1.1"]) == "198.51.100.1"
    assert mw.client_of("127.0.0.1", ["10.0.0.2"]) == "127.0.0.1"  # only proxies
    assert mw.client_of("127.0.0.1", ["not-an-ip"]) == "127.0.0.1"
    assert (
        client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match="not an IP address"):
        parse_networks("10.0.0.1, proxy.example")


def test_host_rules() -> None:
    from assistant.serve.gateway import HostCheckMiddleware, allowed_host_names

    names = allowed_host_names("127.0.0.1", ["https://news.example"], "chat.example.org")
    check = HostCheckMiddleware(None, names)  # type: ignore[arg-type]
    for ok in ("localhost:7860", "127.0.0.1", "[::1]:7860", "news.example", "chat.example.org"):
        assert check.allowed(ok), ok
    for bad in ("evil.example", "localhost.evil.example", "", "a b", "news.example.evil"):
        assert not check.allowed(bad), bad
    import socket

    assert socket.gethostname().lower() in allowed_host_names("0.0.0.0", [], "")
    assert socket.gethostname().lower() not in allowed_host_names("127.0.0.1", [], "") or (
        socket.gethostname().lower() == "localhost"
    )
