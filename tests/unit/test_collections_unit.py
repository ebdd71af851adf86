"""Collections without a model: names, the per-collection origin policy, the registry, the
UI handlers and the /v1 model names (fakes only; the real leak tests are in
tests/integration/test_collections_server.py, tests/integration/test_collections_cli.py
and tests/browser/test_collections_browser.py)."""

from __future__ import annotations

import pytest

from assistant.errors import ConfigError, ForbiddenError, InputError, NotFoundError
from assistant.serve.openai_api import OpenAIError, collection_of, model_id
from assistant.serve.origins import OriginPolicy, origin_allowed, parse_collection_origins
from assistant.serve.registry import Collections
from assistant.serve.ui.handlers import Handlers
from assistant.settings import Settings
from index.collection_names import (
    DEFAULT,
    check_name,
    chroma_names,
    names_from,
    store_prefix,
    upload_dir,
)
from tests.support.fakes import FakeAssistant

SHOP, INTRANET, EVIL = "https://shop.example", "https://intranet.example", "https://evil.example"


@pytest.mark.parametrize("name", ["faq", "a", "staff_handbook-2", "x" * 32, "0"])
def test_good_names_are_kept(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["FAQ", "../etc", "a/b", "a.b", "-faq", "faq-", "x" * 33, " faq", "fa q", "é", "a\x00", 5],
)
def test_bad_names_are_refused_with_the_rule(name: object) -> None:
    with pytest.raises(InputError, match="lower-case letters, digits") as err:
        check_name(name)
    assert "/" not in str(err.value).replace("'../etc'", "").replace("'a/b'", "")


def test_missing_name_is_the_default_collection() -> None:
    assert check_name(None) == check_name("") == DEFAULT


def test_default_keeps_todays_chroma_names_and_others_map_back() -> None:
    base = "idx-0123456789ab"
    assert store_prefix(base, DEFAULT) == base  # existing data dirs keep working
    assert chroma_names(base, DEFAULT) == [f"{base}-docs", f"{base}-chunks", f"{base}-meta"]
    stored = [n for c in ("faq", "x-docs", "hr_2") for n in chroma_names(base, c)]
    stored += chroma_names(base, DEFAULT) + chroma_names("idx-other", "elsewhere")
    assert names_from(stored, base) == ["faq", "hr_2", "x-docs"]
    assert all(3 <= len(n) <= 63 for n in chroma_names(base, "x" * 32))  # Chroma's limits


def test_upload_folders_stay_under_the_data_dir(tmp_path) -> None:
    assert upload_dir(tmp_path, DEFAULT) == tmp_path / "uploads"
    assert upload_dir(tmp_path, "faq") == tmp_path / "uploads" / "faq"
    with pytest.raises(InputError):
        upload_dir(tmp_path, "..")


def test_collection_origins_setting_is_parsed_and_checked() -> None:
    parsed = parse_collection_origins(f" faq={SHOP}/,https://Help.example ; hr={INTRANET};")
    assert parsed == {"faq": [SHOP, "https://help.example"], "hr": [INTRANET]}
    for bad in ("faq", "faq=", "FAQ=https://a.example", "faq=shop.example", "faq=https://a/b"):
        with pytest.raises(ConfigError):
            parse_collection_origins(bad)


def test_a_collection_site_reaches_only_its_collection() -> None:
    policy = OriginPolicy([INTRANET], {"faq": [SHOP]})
    host = "assistant.example"
    policy.check(SHOP, host, "faq")
    policy.check(INTRANET, host, "faq")  # the owner's sites reach every collection
    policy.check(INTRANET, host, "handbook")
    policy.check("", host, "handbook")  # not a browser: no Origin
    policy.check("https://assistant.example", host, "handbook")  # our own pages
    for origin, name in ((SHOP, "handbook"), (SHOP, DEFAULT), (EVIL, "faq"), ("null", "faq")):
        with pytest.raises(ForbiddenError):
            policy.check(origin, host, name)
    names = [DEFAULT, "faq", "handbook"]
    assert policy.visible(SHOP, host, names) == ["faq"]
    assert policy.visible(INTRANET, host, names) == names
    assert set(policy.cors()) == {INTRANET, SHOP}


def test_widget_frame_ancestors_follow_its_collection() -> None:
    policy = OriginPolicy([INTRANET], {"faq": [SHOP]})

    def ancestors(query: bytes) -> str:
        return policy.widget_ancestors({"query_string": query})

    assert ancestors(b"collection=faq") == f"frame-ancestors 'self' {INTRANET} {SHOP}"
    assert ancestors(b"collection=handbook") == f"frame-ancestors 'self' {INTRANET}"
    assert ancestors(b"") == f"frame-ancestors 'self' {INTRANET}"
    assert ancestors(b"collection=..%2Fetc") == "frame-ancestors 'self'"


def test_origin_allowed_uses_the_request_host_only() -> None:
    assert origin_allowed("http://a.example:8", "a.example:8", [])
    assert not origin_allowed("http://a.example:8", "b.example:8", [])
    assert origin_allowed("http://b.example", "a.example,b.example", [])  # trusted proxy
    assert not origin_allowed("ftp://a.example", "a.example", [])


class _Named(FakeAssistant):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


def _registry(existing: list[str]) -> tuple[Collections, list[str]]:
    opened: list[str] = []
    default = _Named(DEFAULT)

    def open_named(parent: object, name: str) -> _Named:
        assert parent is default
        opened.append(name)
        return _Named(name)

    return Collections(lambda timeout=None: default, lambda: list(existing), open_named), opened


def test_registry_opens_a_collection_once_on_first_use() -> None:
    registry, opened = _registry([DEFAULT, "faq", "hr"])
    assert registry.names() == [DEFAULT, "faq", "hr"] and opened == []  # nothing loaded yet
    assert registry.get(None).name == DEFAULT and registry.get(DEFAULT).name == DEFAULT
    first = registry.get("faq")
    assert first.name == "faq" and registry.get("faq") is first and opened == ["faq"]
    assert registry.loaded() == ["faq"]


def test_registry_readers_never_create_and_bad_names_fail() -> None:
    registry, opened = _registry([DEFAULT])
    with pytest.raises(NotFoundError, match="assistant ingest --collection nope"):
        registry.get("nope")
    with pytest.raises(InputError):
        registry.get("../x")
    assert opened == []
    assert registry.create("nope").name == "nope" and opened == ["nope"]  # ingest creates


def test_registry_forgets_a_deleted_collection() -> None:
    existing = [DEFAULT, "faq"]
    registry, opened = _registry(existing)
    registry.get("faq")
    existing.remove("faq")
    registry._names = (-1e9, [])  # the next listing is due (normally after a second)
    with pytest.raises(NotFoundError):
        registry.get("faq")
    assert registry.loaded() == []


def test_ui_handlers_answer_and_cite_from_the_chosen_collection() -> None:
    registry, _ = _registry([DEFAULT, "faq"])
    h = Handlers(lambda: registry.get(DEFAULT), Settings(), registry)
    *_, (_, _, turns, _) = h.respond("Which countries opposed it?", [], [], [], "faq")
    assert turns[-1]["collection"] == "faq"
    faq = registry.get("faq")
    assert [q for q, _ in faq.calls] == ["Which countries opposed it?"]
    assert registry.get(DEFAULT).calls == []
    assert h.collection_names() == [DEFAULT, "faq"]
    *_, (chat, *_rest) = h.respond("Anything?", [], [], [], "nope")
    assert "No collection 'nope'" in chat[-1]["content"]


def test_ui_api_history_belongs_to_one_collection() -> None:
    registry, _ = _registry([DEFAULT, "faq"])
    h = Handlers(lambda: registry.get(DEFAULT), Settings(), registry)
    *_, (_, state, _) = h.api_chat("How many leaders attended?", [], "faq")
    *_, (_, state, _) = h.api_chat("And Denmark?", state, "faq")
    assert len(registry.get("faq").calls[-1][1]) == 2  # the follow-up carried the history
    *_, (_, state, _) = h.api_chat("And Denmark?", state, "")
    assert registry.get(DEFAULT).calls == [("And Denmark?", [])]  # another collection: afresh
    assert state["collection"] == DEFAULT


def test_without_a_registry_the_ui_has_only_the_default_collection() -> None:
    fake = FakeAssistant()
    h = Handlers(lambda: fake, Settings())
    assert h.collection_names() == [DEFAULT]
    with pytest.raises(NotFoundError):
        h.assistant("faq")


def test_v1_model_names_choose_the_collection() -> None:
    assert collection_of("grounded-assistant") == DEFAULT
    assert collection_of("grounded-assistant:faq") == "faq"
    assert collection_of("grounded-assistant", "faq") == "faq"
    assert model_id(DEFAULT) == "grounded-assistant" and model_id("faq").endswith(":faq")
    for model, field, status in (
        ("gpt-4o", None, 404),
        ("grounded-assistant:faq", "hr", 400),
        ("grounded-assistant:../x", None, 400),
    ):
        with pytest.raises(OpenAIError) as err:
            collection_of(model, field)
        assert err.value.status == status
