"""What a newcomer's config mistakes print: one line per root cause, naming the key path.

A union key (`probe.quorum`) is one line saying what it accepts, not one per pydantic branch; a key
whose `${VAR}` failed is not validated again; a derived key (`site.locales` from `site.locale`) does
not repeat its source's error; a duration's bound is in its unit, with the value as written."""

from __future__ import annotations

from typing import Any

import pytest

from statuspage.config import ConfigError, parse_config


def problems(extra: dict[str, Any], monitor: dict[str, Any] | None = None,
             env: dict[str, str] | None = None) -> list[str]:
    data = {**extra, "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "api", "name": "API",
            "monitors": [{"name": "web", "url": "http://127.0.0.1:9/", **(monitor or {})}]}]}]}
    with pytest.raises(ConfigError) as info:
        parse_config(data, env or {})
    return info.value.problems


M = "pages[0].components[0].monitors[0]"


@pytest.mark.parametrize(("extra", "monitor", "expected"), [
    ({"probe": {"quorum": "banana"}}, None, ['probe.quorum: "banana" must be a whole number or majority']),
    ({"probe": {"quorum": 1.5}}, None, ["probe.quorum: 1.5 must be a whole number or majority"]),
    ({}, {"quorum": "most"}, [f'{M}.quorum: "most" must be a whole number or majority']),
], ids=["probe-quorum", "probe-quorum-float", "monitor-quorum"])
def test_a_union_key_is_one_line_saying_what_it_accepts(
        extra: dict[str, Any], monitor: dict[str, Any] | None, expected: list[str]) -> None:
    assert problems(extra, monitor) == expected


@pytest.mark.parametrize(("extra", "expected"), [
    ({"admins": [{"name": "ana", "token": "${ANA_TOKEN}"}]},
     ["admins[0].token: environment variable ANA_TOKEN is not set"]),
    ({"notifications": {"webhooks": [{"url": "${NOPE:?}"}]}},
     ["notifications.webhooks[0].url: environment variable NOPE is not set"]),
    ({"site": {"base_url": "${NOPE:?}"}, "subscriptions": {"endpoint": "${NOPE:?}", "smtp": {"host": "h"}}},
     ["site.base_url: environment variable NOPE is not set",
      "subscriptions.endpoint: environment variable NOPE is not set"]),
    ({"site": {"locale": "fr"}}, ['site.locale: "fr" is invalid: must be pt-BR or en']),
    ({"probe": {"locations": ["São Paulo", "va"]}, "storage": {"url": "postgresql://u:p@db.example/status"}},
     ['probe.locations[0]: "São Paulo" is not a slug (lowercase letters, digits, - and _)']),
], ids=["unset-token", "required-url", "derived-endpoint", "derived-locales", "derived-location"])
def test_one_error_per_root_cause(extra: dict[str, Any], expected: list[str]) -> None:
    assert problems(extra) == expected


@pytest.mark.parametrize(("extra", "monitor", "expected"), [
    ({}, {"interval": "500ms"}, f"{M}.interval: must be at least 1s (got 500ms)"),
    ({}, {"interval": 0.5}, f"{M}.interval: must be at least 1s (got 0.5 seconds)"),
    ({"defaults": {"interval": "500ms"}}, None, "defaults.interval: must be at least 1s (got 500ms)"),
    ({"subscriptions": {"endpoint": "http://x.example", "smtp": {"host": "h"}, "confirm_within": "30s"}}, None,
     "subscriptions.confirm_within: must be at least 1m (got 30s)"),
    ({"storage": {"raw_retention": "0s"}}, None, "storage.raw_retention: must be longer than 0s (got 0s)"),
    ({"probe": {"canary_every": "100ms"}}, None, "probe.canary_every: must be at least 200ms (got 100ms)"),
    ({"defaults": {"confirm_down": 0}}, None, "defaults.confirm_down: must be at least 1 (got 0)"),
], ids=["monitor-interval", "seconds", "defaults-interval", "minute", "gt-zero", "ms", "not-a-duration"])
def test_a_bound_states_its_unit_and_the_value_as_written(
        extra: dict[str, Any], monitor: dict[str, Any] | None, expected: str) -> None:
    assert problems(extra, monitor) == [expected]


@pytest.mark.parametrize(("section", "value"), [
    ("subscriptions", "not an address"), ("subscriptions", "a@"), ("subscriptions", "ana@@example.com"),
    ("subscriptions", "ana@example.com, bob@example.com"), ("subscriptions", "ana@example.com\nBcc: x@y.z"),
    ("email", "nobody"),
])
def test_a_sender_must_be_an_rfc_5322_address(section: str, value: str) -> None:
    if section == "subscriptions":
        got = problems({"subscriptions": {"endpoint": "http://x.example", "smtp": {"host": "h"}, "from": value}})
        path = "subscriptions.from"
    else:
        got = problems({"notifications": {"email": {"host": "h", "from": value, "to": ["ops@example.com"]}}})
        path = "notifications.email.from"
    assert len(got) == 1 and got[0].startswith(f"{path}: ") and "is not an e-mail address" in got[0], got


def test_good_senders_are_accepted() -> None:
    for sender in ("status@example.com", "Track Status <status@track.co>", "statuspage@localhost", ""):
        data = {"subscriptions": {"endpoint": "http://x.example", "smtp": {"host": "h"}, "from": sender},
                "pages": [{"slug": "nps", "name": "NPS", "components": [{"slug": "api", "name": "API",
                           "monitors": [{"name": "web", "url": "http://127.0.0.1:9/"}]}]}]}
        assert parse_config(data, {}).subscriptions is not None
    assert problems({"notifications": {"email": {"host": "h", "to": ["ops@example.com", "oops"]}}}) == [
        'notifications.email.to[1]: "oops" is not an e-mail address (like status@example.com or '
        '"Status <status@example.com>")']


def test_a_mistyped_key_holding_credentials_shows_them_hidden() -> None:
    # `header:` for `headers:` printed {'Authorization': 'Bearer HdrSecret'} in the unknown-key error.
    from statuspage.redaction import redact_value
    shown = redact_value("pages[0].monitors[0].header", {"Authorization": "Bearer HdrSecret", "X-Trace": "abc",
                                                         "list": ["Bearer T0kSecret"]})
    assert shown == {"Authorization": "(hidden)", "X-Trace": "abc", "list": ["Bearer ***"]}
