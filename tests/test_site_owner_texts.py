"""Contact details and the SLA page's policy text come from the config: another company's site shows
none of Track's, and its own where it gives them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statuspage.config import ConfigError, load_config_text, parse_config
from statuspage.site.render import render_site
from statuspage.store.sqlite import SQLiteStore
from tests.site_data import TRACK

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _track_texts() -> Iterator[str]:
    """Every word Track's config.yaml puts on the site: contact details and the SLA's texts."""
    contact = TRACK["site"]["contact"]
    yield contact["email"]
    yield contact["phone"]

    def texts(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from texts(v)
        elif isinstance(value, list):
            for v in value:
                yield from texts(v)

    sla = TRACK["sla"]
    yield from texts(sla["policy"])
    for times in sla["severities"].values():
        yield from texts(times.get("description"))
        yield from texts(times.get("example"))
    yield from ("WhatsApp", "4858", "Track")


def _loja(tmp_path: Path, locale: str, **site: Any) -> dict[str, Any]:
    return {
        "site": {"title": "Loja Status", "locale": locale, "output_dir": str(tmp_path / "site"), **site},
        "storage": {"path": str(tmp_path / "db.sqlite")},
        "pages": [{"slug": "loja", "name": "Loja", "components": [
            {"slug": "web", "name": "Vitrine", "monitors": [{"name": "web", "url": "https://loja.example/"}]}]}],
    }


async def _render(tmp_path: Path, data: dict[str, Any]) -> dict[str, str]:
    config = parse_config(data, env={})
    store = await SQLiteStore.open(config.storage.path)
    try:
        await store.register_monitors({m.key: m for _, _, m in config.monitors()})
        await render_site(config, store, now=NOW)
    finally:
        await store.close()
    root = tmp_path / "site"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8", errors="replace")
            for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_another_companys_site_shows_nothing_of_tracks(tmp_path: Path, locale: str) -> None:
    files = await _render(tmp_path, _loja(tmp_path, locale))
    assert "sla.html" in files and "loja/index.html" in files
    for text in _track_texts():
        found = [name for name, body in files.items() if text.lower() in body.lower()]
        assert not found, f"{text!r} appears in {found}"
    sla = files["sla.html"]
    assert "Loja Status" in sla and ("99,5 %" in sla or "99.5%" in sla)
    # Without a support policy the SLA page has no support or outcomes section, and no contact line.
    assert 'id="support-h"' not in sla and 'id="outcomes-h"' not in sla
    assert "mailto:" not in files["loja/index.html"]


async def test_the_companys_own_contact_and_policy_are_shown(tmp_path: Path) -> None:
    data = _loja(tmp_path, "pt-BR", contact={"email": "ajuda@loja.example", "url": "https://ajuda.loja.example/"})
    data["sla"] = {
        "severities": {"T1": {"mean": "30m", "limit": "2h", "example": "Checkout fora do ar."},
                       "T2": {"mean": "8h", "limit": "1d"}, "T3": {"mean": "2d", "limit": "5d"},
                       "T4": {"mean": "3d", "limit": "7d"}},
        "policy": {"intro": {"pt-BR": "O compromisso da Loja.", "en": "Loja's promise."},
                   "outcomes": ["Resolvido."]},
    }
    files = await _render(tmp_path, data)
    sla = files["sla.html"]
    for text in ("O compromisso da Loja.", "Checkout fora do ar.", "Resolvido.", "mailto:ajuda@loja.example",
                 'href="https://ajuda.loja.example/"'):
        assert text in sla, text
    assert "Loja's promise." not in sla  # the pt-BR site takes the pt-BR text
    page = files["loja/index.html"]
    assert "mailto:ajuda@loja.example" in page and "tel:" not in page  # only what is configured


@pytest.mark.parametrize(
    ("sla", "problem"),
    [({"policy": {"intro": {"fr": "Bonjour"}}}, 'sla.policy.intro: "fr" is not a locale (use pt-BR or en)'),
     ({"policy": {"outcomes": [""]}}, 'sla.policy.outcomes[0]: "": is empty'),
     ({"policy": {"intro": 3}}, "sla.policy.intro: 3 is not text")],
    ids=["unknown-locale", "empty", "not-text"],
)
def test_bad_policy_texts_name_their_key_path(sla: dict[str, Any], problem: str) -> None:
    import yaml

    with pytest.raises(ConfigError) as err:
        load_config_text(yaml.safe_dump({"sla": sla, "pages": _loja(Path("/tmp"), "en")["pages"]}), env={})
    assert any(line.startswith(problem) for line in err.value.problems), err.value.problems
