"""Shipped, empty, placeholder and guessable secrets are not usable beyond loopback (issue 12.1).

Before: the repository's config.yaml without its variables validated with exit 0, `run` served on any
address without a word, and `change-me-please-0000` opened a T1 through the admin API.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import load_config_text
from statuspage.credentials import SHIPPED_DEFAULTS, exposure_problems, is_loopback, weak_secrets, weakness
from statuspage.redaction import is_secret_path
from tests.conftest import REPO, Process, free_port, wait_for

STRONG = "Zq3-vT8pL1xR6mN0wK5yB2cH"


def repo_config(tmp_path: Path, port: int = 0) -> Path:
    """The repository's config.yaml with a free port and the database under tmp_path."""
    text = (REPO / "config.yaml").read_text().replace("port: 8080", f"port: {port}")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def shipped_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"STATUSPAGE_DB": str(tmp_path / "db.sqlite"), **extra}


def test_validate_reports_each_shipped_secret_with_its_variable(tmp_path: Path) -> None:
    config = repo_config(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)], env=shipped_env(tmp_path))
    assert result.exit_code == 0, result.output  # loopback: loud warnings, still valid
    warned = [line for line in result.output.splitlines() if "weak secret" in line]
    assert [line.split(": weak")[0] for line in warned] == [
        "warning: admins[0].token", "warning: pages[0].components[3].monitors[0].token",
        "warning: pages[1].components[3].monitors[0].token"]
    for variable in ("STATUSPAGE_ADMIN_TOKEN", "NPS_EMAIL_PUSH_TOKEN", "CXM_EMAIL_PUSH_TOKEN"):
        assert any(f"set {variable} to a random value" in line for line in warned), variable
    for secret in SHIPPED_DEFAULTS:
        assert secret not in result.output


def test_validate_fails_beyond_loopback_and_passes_with_real_secrets(tmp_path: Path) -> None:
    config = repo_config(tmp_path)
    exposed = shipped_env(tmp_path, STATUSPAGE_HOST="0.0.0.0")
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)], env=exposed)
    assert result.exit_code == 1, result.output
    assert "error: admins[0].token: weak secret: it is the example value" in result.output
    assert "server.host 0.0.0.0 is beyond loopback" in result.output
    strong = dict(exposed, STATUSPAGE_ADMIN_TOKEN=STRONG, NPS_EMAIL_PUSH_TOKEN=STRONG + "n",
                  CXM_EMAIL_PUSH_TOKEN=STRONG + "c")
    result = CliRunner().invoke(cli, ["validate", "--config", str(config)], env=strong)
    assert result.exit_code == 0, result.output
    assert "weak secret" not in result.output


def test_run_refuses_to_serve_beyond_loopback_before_opening_anything(tmp_path: Path) -> None:
    config = repo_config(tmp_path)
    result = CliRunner().invoke(cli, ["run", "--config", str(config)],
                                env=shipped_env(tmp_path, STATUSPAGE_HOST="0.0.0.0"))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "Error: refusing to serve on 0.0.0.0 (beyond loopback) with weak secrets:"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "admins[0].token", "pages[0].components[3].monitors[0].token", "pages[1].components[3].monitors[0].token"]
    assert "Traceback" not in result.output
    assert not (tmp_path / "db.sqlite").exists(), "nothing was opened"


@pytest.mark.slow
async def test_run_on_loopback_warns_loudly_per_key(
    tmp_path: Path, spawn: Callable[..., Process], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NPS_APP_URL", "NPS_API_URL", "NPS_REPORTS_URL", "CXM_APP_URL", "CXM_API_URL", "CXM_REPORTS_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/")  # no request leaves the machine
    port = free_port()
    proc = spawn("run", "--config", str(repo_config(tmp_path, port)))
    try:
        assert await asyncio.to_thread(wait_for, lambda: "serving http://" in proc.output(), 30), proc.output()
    finally:
        proc.stop()
    warned = re.findall(r"WARNING \S+ WEAK SECRET (\S+): weak secret", proc.output())
    assert warned == ["admins[0].token", "pages[0].components[3].monitors[0].token",
                      "pages[1].components[3].monitors[0].token"]
    assert "change-me-please-0000" not in proc.output()


def test_shipped_defaults_are_every_secret_default_of_the_repository_config() -> None:
    defaults: set[str] = set()

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str) and is_secret_path(path):
            defaults.update(re.findall(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", value))

    walk(yaml.safe_load((REPO / "config.yaml").read_text()), "")
    assert defaults and defaults <= SHIPPED_DEFAULTS


@pytest.mark.parametrize(("value", "why"), [
    ("", "it is empty"),
    ("change-me-please-0000", "it is the example value of the repository's config.yaml"),
    ("CHANGE_ME_before_production_7781", "it looks like a placeholder ('changeme')"),
    ("your-secret-here-please-1234", "it looks like a placeholder ('yoursecret')"),
    ("password123", "it is a common word"),
    ("Secret2024", "it is a common word"),
    ("k8Jq2mX0pLz", "it is shorter than 16 characters"),
    ("aaaaaaaaaaaaaaaaaaaaaaaa", "it is too predictable (about 4 bits; use 128)"),
    ("abababababababababababab", "it is too predictable (about 8 bits; use 128)"),
    ("0000111122223333", "it is too predictable (about 16 bits; use 128)"),
    (STRONG, None),
    ("6f1d0c2b9a8e7f3d4c5b6a7e", None),  # hex, as `secrets.token_hex(12)`
    ("demo-nps-email-heartbeat", None),
], ids=["empty", "shipped", "change-me", "your-secret", "common-word", "common-word-digits", "short",
        "one-char", "two-chars", "four-digits", "random", "hex", "long-words"])
def test_weakness(value: str, why: str | None) -> None:
    assert weakness(value) == why


def test_which_secrets_are_judged_and_how(tmp_path: Path) -> None:
    config = load_config_text(f"""
admins: [{{name: a, token: "{STRONG}"}}, {{name: b, token: "${{B_TOKEN:-bbbbbbbbbbbbbbbbbbbb}}"}}]
notifications:
  webhooks: [{{url: "https://hooks.example/x"}}, {{url: "https://hooks.example/y", secret: changeme}}]
  email: {{host: smtp.example, username: bot, password: short, to: [a@b.c]}}
support:
  channels: {{chat: {{first_response: 4m}}}}
  chatwoot: {{secret: "${{CW_SECRET}}"}}
pages:
  - slug: nps
    name: NPS
    components:
      - slug: email
        name: E-mail
        monitors: [{{name: sender, type: push, token: "${{PUSH:-heartbeat}}"}}]
""", env={"CW_SECRET": "example-chatwoot-secret"})
    found = {w.path: w for w in weak_secrets(config)}
    assert sorted(found) == ["admins[1].token", "notifications.webhooks[0].secret",
                             "notifications.webhooks[1].secret", "pages[0].components[0].monitors[0].token",
                             "support.chatwoot.secret"]
    assert found["admins[1].token"].env == ("B_TOKEN",)
    assert found["support.chatwoot.secret"].why == "it looks like a placeholder ('example')"
    assert not found["notifications.webhooks[0].secret"].refuse  # unsigned: a choice, only warned
    assert found["notifications.webhooks[1].secret"].refuse
    # An SMTP password's strength is the provider's rule: only empty and placeholders count.
    assert "notifications.email.password" not in found
    errors, warnings = exposure_problems(config, ["0.0.0.0"])
    assert len(errors) == 4 and len(warnings) == 1
    errors, warnings = exposure_problems(config, ["127.0.0.1", "::1"])
    assert not errors and len(warnings) == 5
    for line in errors + warnings:
        assert STRONG not in line and "example-chatwoot-secret" not in line


@pytest.mark.parametrize(("addresses", "loopback"), [
    (["127.0.0.1"], True), (["::1", "127.0.0.2"], True), (["localhost"], True), (["0.0.0.0"], False),
    (["::"], False), ([""], False), (["10.0.0.5"], False), (["status.example"], False), ([], False),
])
def test_is_loopback(addresses: list[str], loopback: bool) -> None:
    assert is_loopback(addresses) is loopback
