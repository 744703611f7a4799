"""The secrets subscriptions and apprise add are judged and redacted like every other (issues 12 and 16):
the subscribers' SMTP password and each apprise URL are config secrets, the token-signing secret is
kept out of every log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from statuspage.config import load_config_text
from statuspage.credentials import exposure_problems, weak_secrets
from statuspage.redaction import redact_for_log
from statuspage.store.sqlite import SQLiteStore
from statuspage.subscriptions.service import SubscriptionService
from statuspage.web.logs import config_secrets, install_server_logging

STRONG = "Zq3-vT8pL1xR6mN0wK5yB2cH"
SLACK = "slack://T0AAAA1111/B0BBBB2222/Xy7Kp2Lm9Qr4St6Uv8Wz0AbC"

CONFIG = f"""
site: {{base_url: "https://status.example.com"}}
admins: [{{name: a, token: "{STRONG}"}}]
notifications:
  apprise:
    - {{url: "{SLACK}"}}
    - {{url: "json://hooks.example.com/your-token-here"}}
    - {{url: "json://hooks.example.com/incoming"}}
subscriptions:
  smtp: {{host: smtp.example.com, username: status, password: "${{SMTP_PASSWORD:-change-me}}"}}
  from: status@example.com
pages:
  - slug: nps
    name: NPS
    components: [{{slug: app, name: App, monitors: [{{name: web, url: "http://127.0.0.1:9/"}}]}}]
"""


def test_a_placeholder_smtp_password_or_apprise_url_refuses_beyond_loopback() -> None:
    config = load_config_text(CONFIG, env={})
    found = {w.path: w for w in weak_secrets(config)}
    # The example domain in an apprise URL is an address, not a secret: only the placeholder counts.
    assert sorted(found) == ["notifications.apprise[1].url", "subscriptions.smtp.password"]
    assert found["subscriptions.smtp.password"].env == ("SMTP_PASSWORD",)
    assert found["notifications.apprise[1].url"].why == "it looks like a placeholder ('yourtoken')"
    errors, _ = exposure_problems(config, ["0.0.0.0"])
    assert len(errors) == 2
    assert not any("your-token-here" in line or SLACK in line for line in errors)
    fine = load_config_text(CONFIG.replace("json://hooks.example.com/your-token-here", SLACK + "2"),
                            env={"SMTP_PASSWORD": "a mail provider's rule"})
    assert weak_secrets(fine) == []


async def test_no_log_line_names_the_smtp_password_an_apprise_url_or_the_token_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config_text(CONFIG.replace('"${SMTP_PASSWORD:-change-me}"', '"Mail-Pass-0042xyz"'), env={})
    assert {"Mail-Pass-0042xyz", SLACK} <= set(config_secrets(config))
    install_server_logging(config)
    store = await SQLiteStore.open(tmp_path / "db.sqlite")
    service = SubscriptionService(config, store, lambda: 1_795_000_000.0)
    try:
        await service.start()
        caplog.set_level(logging.INFO)
        logging.getLogger("statuspage.test").error("relay said %s; posting to %s; link key %s",
                                                   "Mail-Pass-0042xyz", SLACK, service.secret)
        assert "Mail-Pass-0042xyz" not in caplog.text and SLACK not in caplog.text
        assert service.secret not in caplog.text and caplog.text.count("***") == 3
        assert redact_for_log(f"x {service.secret} y") == "x *** y"
    finally:
        await service.close()
        await store.close()
