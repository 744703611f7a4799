"""No log record of any logger carries a secret, also when aiohttp cannot parse the request (issue 12.8).

Before: aiohttp's "Error handling request" records quoted the raw request line, with push tokens and
the Chatwoot `?token=` in clear, as ERROR tracebacks (one per malformed request).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from statuspage.redaction import redact_text
from tests.harden_env import send_raw, served
from tests.server_env import ALICE, BOB, CHATWOOT_SECRET, PUSH_TOKEN

SECRETS = (ALICE, BOB, CHATWOOT_SECRET, PUSH_TOKEN, "cxm-email-heartbeat")

MALFORMED = [
    f"GET /api/push/{PUSH_TOKEN} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ALICE}\r\nBad Header\r\n\r\n",
    f"GET /api/push/{PUSH_TOKEN}\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    f"G\x01T /api/hooks/chatwoot?token={CHATWOOT_SECRET} HTTP/1.1\r\nHost: x\r\n\r\n",
    f"POST /api/admin/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {BOB}\r\nContent-Length: x\r\n\r\n",
    f"GET /api/hooks/chatwoot?token={CHATWOOT_SECRET} HTTP/9.9\r\nAuthorization: Bearer {ALICE}\r\n\r\n",
    "POST /api/push/cxm-email-heartbeat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    f"GET /api/push/{PUSH_TOKEN}{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n",
    f"GET /api/admin/pages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ALICE}\r\nX: {'a' * 9000}\r\n\r\n",
    # Well-formed ones too: the access log and the handlers' own lines.
    f"GET /api/push/{PUSH_TOKEN}?status=down&msg=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    f"POST /api/hooks/chatwoot?token={CHATWOOT_SECRET} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
    "Content-Type: application/json\r\nConnection: close\r\n\r\n{",
    f"GET /api/admin/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ALICE}x\r\nConnection: close\r\n\r\n",
]


async def test_malformed_requests_leave_no_secret_in_any_log_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    async with served(tmp_path) as server:
        for raw in MALFORMED:
            answer = await send_raw(server.port, raw.encode("latin-1"))
            assert answer.startswith(b"HTTP/1."), raw[:40]
    text = caplog.text + "".join(
        logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info)
    assert "bad request" in text  # the malformed ones were seen...
    for secret in SECRETS:
        assert secret not in text  # ...and no record names a secret
    # A malformed request is one DEBUG line, not an ERROR traceback.
    assert not [r for r in caplog.records if r.name == "aiohttp.server" and r.levelno >= logging.WARNING]


@pytest.mark.parametrize(("text", "shown"), [
    ("GET /api/push/abc-123 HTTP/1.1", "GET /api/push/*** HTTP/1.1"),
    ("b'/api/push/tok\\x00 HTTP/1.1'", "b'/api/push/***\\x00 HTTP/1.1'"),
    ("Authorization: Bearer abc.def", "Authorization: ***"),
    ("{'authorization': 'Bearer abc'}", "{'authorization': '***'}"),
    ("POST /api/hooks/chatwoot?token=s3cret&x=1", "POST /api/hooks/chatwoot?token=***&x=1"),
    ("Cookie: a=b; c=d\r\nHost: x", "Cookie: ***\r\nHost: x"),
    ("a token was refused", "a token was refused"),
    ("basic information", "basic information"),
], ids=["push-path", "push-repr", "bearer-header", "header-repr", "query-secret", "cookie", "prose", "basic-prose"])
def test_redact_text(text: str, shown: str) -> None:
    assert redact_text(text) == shown
