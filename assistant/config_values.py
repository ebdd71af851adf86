"""Checks for the values of settings, and messages that name the setting a person typed.

Pure functions (no web framework imported), so ``assistant.settings`` can validate origins and
proxy networks when the settings are read, not later when the server is being built.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from assistant.errors import ConfigError

PREFIX = "ASSISTANT_"
# The test suite's own switches share the prefix; they are not settings.
NOT_SETTINGS = frozenset({"ASSISTANT_TEST_FAST", "ASSISTANT_UPDATE_DOCS"})


def split_list(value: Any) -> list[str]:
    """A comma-separated string (how env vars carry lists) or a list, as stripped items."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case; raises ``ConfigError`` for anything else."""
    value = value.strip().rstrip("/")
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ConfigError(
            f"Allowed origin {value!r} is not an origin like https://example.com or "
            "http://localhost:8000 (scheme and host, optional port, no path)."
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_list(value: Any) -> list[str]:
    """Origins, normalised and without repeats; ``ValueError`` names a bad one."""
    try:
        return list(dict.fromkeys(normalize_origin(o) for o in split_list(value)))
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def network_list(value: Any) -> list[str]:
    """Proxy addresses or networks in canonical form; ``ValueError`` names a bad entry."""
    found = []
    for item in split_list(value):
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(
                f"Trusted proxy {item!r} is not an IP address or network (e.g. 10.0.0.5 or "
                "10.0.0.0/8)."
            ) from None
    return found


def host_list(value: Any) -> list[str]:
    """Host names in lower case; ``ValueError`` for one with a scheme, path or space."""
    found = []
    for item in split_list(value):
        if any(c in item for c in "/ @?#") or (item.count(":") > 1 and not item.startswith("[")):
            raise ValueError(f"Allowed host {item!r} is not a host name (e.g. chat.example.org).")
        found.append(item.lower())
    return found


def env_name(loc: Iterable[Any]) -> str:
    """``("server", "port")`` as the env var that sets it: ``ASSISTANT_SERVER__PORT``."""
    return PREFIX + "__".join(str(p) for p in loc if not isinstance(p, int)).upper()


def describe(exc: ValidationError) -> str:
    """Every problem in the settings, each on its own line with the env var that sets it."""
    lines = []
    for err in exc.errors(include_url=False):
        message = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        plain = isinstance(given, str | int | float) and str(given) not in message
        shown = f" (got {given!r})" if plain else ""
        lines.append(f"{env_name(err['loc'])}: {message}{shown}")
    return "Bad settings:\n  " + "\n  ".join(lines)


def unknown_env(environ: Mapping[str, str], known: Iterable[str]) -> str | None:
    """A message naming ``ASSISTANT_*`` variables that set nothing (a typo is silently ignored
    otherwise: ``ASSISTANT_ALLOWED_ORIGIN`` would leave the widget closed to every site, with
    nothing said about why)."""
    names = set(known)
    unknown = sorted(k for k in environ if k.upper().startswith(PREFIX) and k not in NOT_SETTINGS)
    unknown = [k for k in unknown if k.upper() not in names]
    if not unknown:
        return None
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key.upper(), names, n=1)
        parts.append(f"{key}" + (f" (did you mean {close[0]}?)" if close else ""))
    return "Ignored, not settings: " + ", ".join(parts) + ". The README lists every setting."
