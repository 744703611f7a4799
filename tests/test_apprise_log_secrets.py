"""apprise's own warnings never show a token of a configured URL, even quoted alone (a newcomer's
`validate` printed "An invalid Slack (third) Token (TIiajkdnl!!BADSECRETxx) was specified")."""

from __future__ import annotations

import logging

import pytest

from statuspage.config import Apprise


@pytest.mark.parametrize("url, secrets", [
    ("slack://TIiajkdnl!!BADSECRETxx/B0000000/CCCCCCCCCCCCC", ["TIiajkdnl!!BADSECRETxx", "CCCCCCCCCCCCC"]),
    ("tgram://123456789:AAHSecretBotTok@@/12345", ["123456789", "AAHSecretBotTok"]),
])
def test_a_rejected_apprise_url_is_never_quoted_in_apprises_logs(
        url: str, secrets: list[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with pytest.raises(ValueError, match=r"\(hidden\) is not a URL apprise can send to"):
        Apprise(url=url)  # (the tool's own error line hides the value: tests/test_config*.py)
    shown = caplog.text
    assert caplog.records, "apprise said nothing: the case no longer tests its log lines"
    for secret in secrets:
        assert secret not in shown
