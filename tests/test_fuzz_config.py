"""Config loading never crashes: random YAML and random mutations of a valid config give a Config or
one-line ConfigError problems, never another exception or a traceback."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statuspage.cli.commands import cli
from statuspage.config import Config, ConfigError, load_config_text

KEYS = ["site", "storage", "server", "sla", "defaults", "incidents", "pages", "admins", "notifications",
        "slug", "name", "components", "monitors", "url", "interval", "timeout", "type", "token", "locale",
        "timezone", "expect_status", "severities", "T1", "limit", "mean", "webhooks", "email", "port"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=30), st.sampled_from(["30s", "3x", "1d", "${HOME}", "${NOPE:-5s}", "${NOPE}", "http://a/",
                                           "200-399", "pt-BR", "Mars/Olympus", "\u202e", "T1", "http"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner,
                                            max_size=5)),
    max_leaves=25,
)

VALID: dict[str, Any] = {
    "site": {"locale": "pt-BR", "timezone": "America/Sao_Paulo"},
    "defaults": {"interval": "30s", "timeout": "10s"},
    "admins": [{"name": "alice", "token": "0123456789abcdef0123"}],
    "pages": [{"slug": "nps", "name": "NPS", "components": [
        {"slug": "app", "name": "Plataforma", "monitors": [
            {"name": "web", "url": "https://app.example/", "expect_status": [200]},
            {"name": "hb", "type": "push", "token": "heartbeat-1"}]}]}],
}


def check(text: str) -> None:
    """Either a Config or one-line problems that each say where."""
    try:
        config = load_config_text(text, env={"HOME": "/root"})
    except ConfigError as exc:
        assert exc.problems
        for line in exc.problems:
            assert isinstance(line, str) and line and "\n" not in line and "Traceback" not in line
            assert ":" in line, line  # "<where>: <what>"
    else:
        assert isinstance(config, Config)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_yaml_never_crashes(doc: Any) -> None:
    check(yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_crashes(text: str) -> None:
    check(text)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


ALL_PATHS = _paths(VALID)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(ALL_PATHS), st.sampled_from(["drop", "replace"]), scalars)
def test_mutated_valid_config_never_crashes(path: tuple[Any, ...], how: str, value: Any) -> None:
    doc = copy.deepcopy(VALID)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if how == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    check(yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents)
def test_validate_command_exits_0_or_1_without_traceback(tmp_path: Path, doc: Any) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    result = CliRunner().invoke(cli, ["validate", "--config", str(path)])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
