"""An SMTP sink on 127.0.0.1 for the demo's and the tests' Tryton servers: it keeps what Tryton sends.

Tryton connects to the mail server before it commits the e-mail's transaction and sends after the
commit, so `fail_at` refuses the n-th connection (1-based), as a mail server that is down would:
Tryton then rolls that e-mail back and answers with an error. `on_message(n)` runs after the n-th
message was accepted (the crash tests kill the connector there, after Tryton's commit and before
the connector hears of it).
"""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Sink:
    messages: list[EmailMessage] = field(default_factory=list)
    fail_at: int = 0
    on_message: Callable[[int], None] | None = None
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def recipients(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())
        self.wfile.flush()

    def handle(self) -> None:
        sink = self.server.sink
        with sink.lock:
            sink.attempts += 1
            refused = sink.attempts == sink.fail_at
        if refused:
            self.reply("554 refused by the test")
            return
        self.reply("220 sink ESMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            verb = raw.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = bytearray()
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data += line[1:] if line.startswith(b"..") else line
                parsed = email.message_from_bytes(bytes(data), policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                with sink.lock:  # the callback in place when the message arrived, whoever changes it later
                    sink.messages.append(parsed)
                    number = len(sink.messages)
                    on_message = sink.on_message
                self.reply("250 queued")
                if on_message is not None:
                    on_message(number)
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        super().__init__(("127.0.0.1", 0), _Handler)


class SmtpSink:
    """Started on a free port; `port` and `sink`; `stop()` ends it."""

    def __init__(self) -> None:
        self.sink = Sink()
        self._server = _Server(self.sink)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
