"""A real SMTP server (aiosmtpd) in its own process, for the tests that send thousands of mails:
`python tests/smtp_sink.py PORT OUTFILE` appends one line per accepted mail:
`<arrival epoch>\t<recipient>\t<Message-ID>\t<Subject>` (flushed at once)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out: Any) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
        msg = message_from_bytes(head, policy=policy.default)
        for rcpt in envelope.rcpt_tos:
            self.out.write(f"{time.time():.6f}\t{rcpt}\t{msg['Message-ID']}\t{msg['Subject']}\n")
        self.out.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "a", encoding="utf-8") as out:
        controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
        controller.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        print("ready", flush=True)
        stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()
