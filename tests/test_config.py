"""Config loading: interpolation, durations, defaults, and one clear line per problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from statuspage.cli.commands import cli
from statuspage.config import ConfigError, load_config, load_config_text
from statuspage.durations import format_duration, parse_duration

REPO = Path(__file__).resolve().parents[1]

GOOD = """
pages:
  - slug: nps
    name: NPS
    components:
      - slug: app
        name: Plataforma
        monitors:
          - {name: web, url: "https://app.example/"}
"""


def bad(text: str) -> str:
    """A config with one problem on the first monitor (by replacing its line)."""
    return GOOD.replace('{name: web, url: "https://app.example/"}', text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", 0.5), ("30s", 30), ("15m", 900), ("4h", 14400), ("1d", 86400), ("1h30m", 5400),
        ("2w", 1209600), (" 10S ", 10),
    ],
    ids=lambda v: str(v),
)
def test_durations_parse(text: str, expected: float) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["3x", "", "s", "10", "1.5.2h", "-1s", "1h-"], ids=repr)
def test_durations_reject(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(3 * 3600 + 36 * 60) == "3h 36m"
    assert format_duration(0.25) == "250ms"
    assert format_duration(90061) == "1d 1h"


def test_repository_config_is_valid_and_has_track_pages() -> None:
    config = load_config(REPO / "config.yaml", env={})
    assert [p.slug for p in config.pages] == ["nps", "cxm"]
    for page in config.pages:
        assert {c.slug for c in page.components} >= {"app", "api", "reports", "email"}
        email = next(c for c in page.components if c.slug == "email")
        assert email.monitors[0].type == "push"
    assert config.sla.uptime_target == 99.5
    assert config.sla.severities["T1"].limit == 4 * 3600
    assert config.sla.severities["T2"].limit == 86400
    assert config.sla.severities["T4"].mean == 3 * 86400
    assert config.site.locale == "pt-BR" and config.site.timezone == "America/Sao_Paulo"
    assert config.site.contact.email == "suporte@track.co"


def test_defaults_are_applied_and_keys_filled() -> None:
    config = load_config_text(GOOD, env={})
    mon = config.pages[0].components[0].monitors[0]
    assert mon.key == "nps/app/web"
    assert (mon.interval_s, mon.timeout_s, mon.confirm_down, mon.confirm_up) == (30, 10, 2, 2)
    assert mon.expect_status == tuple(range(200, 400))


def test_monitor_values_override_defaults() -> None:
    config = load_config_text(
        GOOD.replace("pages:", "defaults: {interval: 1m, confirm_down: 3}\npages:").replace(
            '{name: web, url: "https://app.example/"}',
            '{name: web, url: "https://app.example/", interval: 1s, expect_status: [200, "300-302"]}'),
        env={},
    )
    mon = config.pages[0].components[0].monitors[0]
    assert mon.interval_s == 1 and mon.confirm_down == 3
    assert mon.expect_status == (200, 300, 301, 302)


def test_env_interpolation_with_and_without_default() -> None:
    text = GOOD.replace('"https://app.example/"', '"${APP_URL:-https://fallback.example/}"')
    assert load_config_text(text, env={}).pages[0].components[0].monitors[0].url == "https://fallback.example/"
    got = load_config_text(text, env={"APP_URL": "https://real.example/x"})
    assert got.pages[0].components[0].monitors[0].url == "https://real.example/x"


BAD_CASES = [
    ("bad duration", bad('{name: web, url: "https://a.example/", interval: 3x}'),
     'pages[0].components[0].monitors[0].interval: "3x" is not a duration'),
    ("interval below 1s", bad('{name: web, url: "https://a.example/", interval: 500ms}'),
     'pages[0].components[0].monitors[0].interval: must be at least 1s (got 500ms)'),
    ("bad url scheme", bad('{name: web, url: "ftp://a.example/"}'),
     'pages[0].components[0].monitors[0].url: "ftp://a.example/" is not an http(s) URL'),
    ("url without host", bad('{name: web, url: "https://"}'),
     'pages[0].components[0].monitors[0].url: "https://" is not an http(s) URL'),
    ("unknown key", bad('{name: web, url: "https://a.example/", intervall: 30s}'),
     'pages[0].components[0].monitors[0].intervall: unknown key (value "30s")'),
    ("unknown top-level section", GOOD + "\nsitee: {title: x}\n", "sitee: unknown key"),
    ("missing env var", bad('{name: web, url: "${NOPE_URL}"}'),
     "pages[0].components[0].monitors[0].url: environment variable NOPE_URL is not set"),
    ("bad status code", bad('{name: web, url: "https://a.example/", expect_status: [200, 2000]}'),
     "pages[0].components[0].monitors[0].expect_status: 2000 is not an HTTP status code"),
    ("unknown monitor type", bad('{name: web, type: icmp, url: "https://a.example/"}'),
     'pages[0].components[0].monitors[0].type: "icmp" is invalid'),
    ("tcp without port", bad("{name: db, type: tcp, host: db.example}"),
     "pages[0].components[0].monitors[0]: a tcp monitor needs host and port"),
    ("push without token", bad("{name: hb, type: push}"),
     "pages[0].components[0].monitors[0]: a push monitor needs token"),
    ("duplicate component slug",
     GOOD + "      - slug: app\n        name: Again\n        monitors: [{name: w, url: 'http://b.example/'}]\n",
     'pages[0].components[1].slug: "app" is used twice'),
    ("bad slug", GOOD.replace("slug: nps", "slug: NPS Page"), 'pages[0].slug: "NPS Page" is not a slug'),
    ("bad locale", "site: {locale: fr}\n" + GOOD, 'site.locale: "fr" is invalid'),
    ("bad timezone", "site: {timezone: Mars/Olympus}\n" + GOOD, 'timezone "Mars/Olympus" is not a known'),
    ("target out of range", "sla: {uptime_target: 150}\n" + GOOD, "sla.uptime_target: must be less than 100 (got 150)"),
    ("negative confirm", "defaults: {confirm_down: 0}\n" + GOOD, "defaults.confirm_down: must be at least 1 (got 0)"),
    ("no pages", "site: {title: x}\n", "pages: is required"),
    ("short admin token", GOOD + "admins: [{name: a, token: short}]\n", "admins[0].token: (hidden) is invalid"),
    ("not yaml", "pages: [\n", "not valid YAML at line"),
    ("not a mapping", "- 1\n- 2\n", "must be a mapping"),
    ("empty file", "", "the config is empty"),
    ("port not a number", "server: {port: http}\n" + GOOD, 'server.port: "http" is not a whole number'),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_config_names_key_path_and_value(name: str, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, env={})
    problems = info.value.problems
    assert any(expected in p for p in problems), problems
    assert all("\n" not in p and "Traceback" not in p for p in problems)


def test_all_problems_reported_at_once() -> None:
    text = bad('{name: web, url: "ftp://a/", interval: 3x, timeout: never}')
    with pytest.raises(ConfigError) as info:
        load_config_text(text, env={})
    paths = sorted(p.split(":")[0] for p in info.value.problems)
    assert paths == [
        "pages[0].components[0].monitors[0].interval",
        "pages[0].components[0].monitors[0].timeout",
        "pages[0].components[0].monitors[0].url",
    ]


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    result = runner.invoke(cli, ["validate", "--config", str(good)])
    assert result.exit_code == 0, result.output
    assert "ok (1 pages, 1 monitors)" in result.output
    badf = tmp_path / "bad.yaml"
    badf.write_text(textwrap.dedent(bad('{name: web, url: "https://a.example/", interval: 3x}')))
    result = runner.invoke(cli, ["validate", "--config", str(badf)])
    assert result.exit_code == 1
    assert 'error: pages[0].components[0].monitors[0].interval: "3x" is not a duration' in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["validate", "--config", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "no such config file" in result.output


STORAGE_CASES = [
    ("storage: {path: a.db, url: 'postgresql://u:hunter2@db:5432/sp'}",
     "storage.path, url: both are set; use path for SQLite or url for PostgreSQL, not both"),
    ("storage: {url: 'mysql://u:hunter2@db/sp'}",
     "storage.url: is not a postgresql://user:password@host:5432/database URL"),
    ("storage: {url: 'postgresql://u:hunter2@db:99999/sp'}",
     "storage.url: is not a postgresql://user:password@host:5432/database URL"),
    ("cluster: {lease_ttl: 2s, renew_every: 2s}",
     "cluster.renew_every: 2s must be at most half of lease_ttl (2s), or a slow renewal loses the lease"),
]


@pytest.mark.parametrize(("text", "expected"), STORAGE_CASES, ids=["both", "scheme", "port", "renew"])
def test_storage_and_cluster_problems_name_their_keys_and_never_show_a_password(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config_text(text + "\n" + GOOD, env={})
    assert err.value.problems == [expected]
    assert "hunter2" not in str(err.value)


def test_storage_url_is_interpolated_and_shown_without_its_password() -> None:
    config = load_config_text("storage: {url: 'postgresql://sp:${PGPASS}@db:5432/status'}\n" + GOOD,
                              env={"PGPASS": "s3cret"})
    assert config.storage.url == "postgresql://sp:s3cret@db:5432/status"
    assert config.storage.shared and config.storage.where == "postgresql://sp:***@db:5432/status"
    assert not load_config_text(GOOD, env={}).storage.shared
