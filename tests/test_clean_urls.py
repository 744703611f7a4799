"""Clean URLs on the live server: /nps/history serves history.html, never a file outside the site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_env import ServerEnv, close_env, open_env


@pytest.fixture
async def env(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[ServerEnv]:
    e = await open_env(tmp_path, aiohttp_client)
    for rel, text in (("nps/history.html", "history"), ("nps/incidents/3.html", "incident 3"),
                      ("nps/index.html", "page"), ("404.html", "not found")):
        (e.site_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (e.site_dir / rel).write_text(text, encoding="utf-8")
    yield e
    await close_env(e)


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [("/nps/history", 200, "history"), ("/nps/history.html", 200, "history"),
     ("/nps/incidents/3", 200, "incident 3"), ("/nps/incidents/4", 404, "not found"),
     ("/nps/history/", 404, "not found"), ("/nps/outside", 404, "not found")],
    ids=["clean", "html", "incident", "unknown-incident", "trailing-slash", "symlink-out"],
)
async def test_a_page_is_served_without_its_html_suffix(env: ServerEnv, tmp_path: Path, path: str, status: int,
                                                       body: str) -> None:
    (tmp_path / "secret.html").write_text("secret", encoding="utf-8")
    (env.site_dir / "nps" / "outside.html").symlink_to(tmp_path / "secret.html")
    response = await env.http.get(path, allow_redirects=False)
    assert response.status == status
    assert await response.text() == body
    if status == 200:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
