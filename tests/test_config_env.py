"""Environment references in config.yaml follow POSIX shells and docker compose, and config errors never
show a secret's value (issue 11, kind 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from statuspage.config import ConfigError, interpolate, load_config_text, parse_config
from statuspage.incidents.service import IncidentService
from statuspage.probe.checks import PushBoard
from statuspage.redaction import is_secret_path, redact_url
from statuspage.store.sqlite import SQLiteStore
from statuspage.web.metrics import Metrics
from statuspage.web.server import build_app

ENV = {"SET": "value", "EMPTY": "", "OTHER": "other"}

# (template, expanded, problem or None): the POSIX meaning of each form, set / empty / unset.
FORMS = [
    ("${SET}", "value", None),
    ("${EMPTY}", "", None),
    ("${UNSET}", "", "environment variable UNSET is not set"),
    ("${SET:-dflt}", "value", None),
    ("${EMPTY:-dflt}", "dflt", None),
    ("${UNSET:-dflt}", "dflt", None),
    ("${SET-dflt}", "value", None),
    ("${EMPTY-dflt}", "", None),
    ("${UNSET-dflt}", "dflt", None),
    ("${SET:?say why}", "value", None),
    ("${EMPTY:?say why}", "", "environment variable EMPTY is empty: say why"),
    ("${UNSET:?say why}", "", "environment variable UNSET is not set: say why"),
    ("${SET?say why}", "value", None),
    ("${EMPTY?say why}", "", None),
    ("${UNSET?say why}", "", "environment variable UNSET is not set: say why"),
    ("${UNSET:?}", "", "environment variable UNSET is not set"),
    ("${SET:+alt}", "alt", None),
    ("${EMPTY:+alt}", "", None),
    ("${EMPTY+alt}", "alt", None),
    ("${UNSET+alt}", "", None),
    ("$$", "$", None),
    ("pa$$word", "pa$word", None),
    ("$${SET}", "${SET}", None),
    ("$$$${SET}", "$${SET}", None),
    ("cost $5, $SET", "cost $5, $SET", None),
    ("trailing $", "trailing $", None),
    ("http://${SET}:${UNSET-8080}/x", "http://value:8080/x", None),
    ("${UNSET:-${OTHER}}", "other", None),
    ("${SET:-${UNSET}}", "value", None),  # an unused default is never expanded
    ("${UNSET:-${ALSO_UNSET}}", "", "environment variable ALSO_UNSET is not set"),
    ("${UNSET:-a}b}", "ab}", None),
    ("${}", "${}", "${} names no variable"),
    ("${1X}", "${1X}", "${1X} is not a variable reference"),
    ("${SET:x}", "${SET:x}", "${SET:x} is not a supported form"),
    ("${SET/a/b}", "${SET/a/b}", "${SET/a/b} is not a supported form"),
    ("${SET", "${SET", "a ${ is never closed by }"),
    ("${UNSET:-${SET}", "${UNSET:-${SET}", "a ${ is never closed by }"),
]


@pytest.mark.parametrize(("template", "expanded", "problem"), FORMS, ids=[f[0] for f in FORMS])
def test_every_form(template: str, expanded: str, problem: str | None) -> None:
    problems: list[str] = []
    assert interpolate(template, ENV, "site.title", problems) == expanded
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(f"site.title: {problem}"), problems


MINIMAL = {"pages": [{"slug": "nps", "name": "NPS", "components": [
    {"slug": "app", "name": "App", "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]}


def _config(**sections: Any) -> dict[str, Any]:
    return {**MINIMAL, **sections}


def test_compose_default_form_reads_the_environment() -> None:
    """Input 6: `${ALICE_TOKEN-dev-only-token-000000}` is the real $ALICE_TOKEN when it is set."""
    raw = _config(admins=[{"name": "alice", "token": "${ALICE_TOKEN-dev-only-token-000000}"}])
    real = "alice-real-token-5f0c9e1d2b"
    assert parse_config(raw, env={"ALICE_TOKEN": real}).admins[0].token == real
    assert parse_config(raw, env={}).admins[0].token == "dev-only-token-000000"


async def test_the_real_token_works_and_the_literal_does_not(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    real = "alice-real-token-5f0c9e1d2b"
    config = parse_config(_config(
        admins=[{"name": "alice", "token": "${ALICE_TOKEN-dev-only-token-000000}"}],
        storage={"path": str(tmp_path / "db.sqlite")},
    ), env={"ALICE_TOKEN": real})
    store = await SQLiteStore.open(config.storage.path)
    try:
        app = build_app(config=config, store=store, push_board=PushBoard(), metrics=Metrics(),
                        incidents=IncidentService(store, config), site_dir=tmp_path, on_change=lambda: None)
        client: TestClient[Any, Any] = await aiohttp_client(app)
        answers = {}
        for token in (real, "${ALICE_TOKEN-dev-only-token-000000}", "dev-only-token-000000"):
            resp = await client.get("/api/admin/incidents", headers={"Authorization": f"Bearer {token}"})
            answers[token] = resp.status
    finally:
        await store.close()
    assert answers == {real: 200, "${ALICE_TOKEN-dev-only-token-000000}": 401, "dev-only-token-000000": 401}


SECRET = "s3cr3t-VALUE-never-shown"

# (sections, path of the problem): each config puts SECRET where an error is reported about it.
SECRET_CASES = [
    ({"admins": [{"name": "alice", "token": "short-" + SECRET[:5]}]}, "admins[0].token"),
    ({"admins": [{"name": "alice", "token": 12345678901234567890}]}, "admins[0].token"),
    ({"admins": [{"name": "alice", "tokn": SECRET}]}, "admins[0]"),
    ({"admins": [{"name": "alice", "token": SECRET + "${"}]}, "admins[0].token"),
    ({"admins": [{"name": "alice", "token": SECRET + "${NOPE:x}"}]}, "admins[0].token"),
    ({"notifications": {"webhooks": [{"url": f"https://hook:{SECRET}@hooks.example:99999/x"}]}},
     "notifications.webhooks[0].url"),
    ({"notifications": {"webhooks": [{"url": f"ftp://hooks.example/x?token={SECRET}"}]}},
     "notifications.webhooks[0].url"),
    ({"notifications": {"webhooks": [{"url": "https://hooks.example/x", "secret": ["x", SECRET]}]}},
     "notifications.webhooks[0].secret"),
    ({"notifications": {"email": {"host": "smtp.example", "to": ["a@b.c"], "password": {"v": SECRET}}}},
     "notifications.email.password"),
    ({"pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "app", "name": "App", "monitors": [
        {"name": "hb", "type": "push", "token": SECRET + "!"}]}]}]},
     "pages[0].components[0].monitors[0].token"),
    ({"pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "app", "name": "App", "monitors": [
        {"name": "web", "url": "http://127.0.0.1/", "headers": {"Authorization": ["Bearer", SECRET]}}]}]}]},
     "pages[0].components[0].monitors[0].headers.Authorization"),
]


@pytest.mark.parametrize(("sections", "path"), SECRET_CASES, ids=[c[1] for c in SECRET_CASES])
def test_errors_about_secrets_never_show_them(sections: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_config(**sections), env={})
    problems = info.value.problems
    assert any(p.startswith(path) for p in problems), problems
    assert not any(SECRET in p or SECRET[:5] in p for p in problems), problems


def test_a_bad_ordinary_value_is_still_shown() -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text("site: {title: '${1X}'}\npages: []\n", env={})
    assert any(p.startswith('site.title: ${1X} is not a variable reference (in "${1X}")')
               for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(("path", "secret"), [
    ("admins[0].token", True), ("notifications.email.password", True), ("webhooks[0].secret", True),
    ('monitors[0].headers["X-Api-Key"]', True), ("headers.Cookie", True), ("tokens[2]", True),
    ("site.title", False), ("monitors[0].url", False), ("admins[0].name", False), ("", False),
])
def test_secret_paths(path: str, secret: bool) -> None:
    assert is_secret_path(path) is secret


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@hooks.example/x", "https://user:***@hooks.example/x"),
    ("https://pw-only@hooks.example/", "https://***@hooks.example/"),
    ("https://hooks.example/x?token=abc&page=2", "https://hooks.example/x?token=***&page=2"),
    ("https://hooks.example/x?page=2", "https://hooks.example/x?page=2"),
    ("not a url", "not a url"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
