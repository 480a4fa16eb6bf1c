#!/usr/bin/env python3
"""An SMTP server for the mail tests: it accepts everything and records it, and can be
told to fail on cue.

Usage:
    python3 tests/smtp/sink.py --port PORT --out FILE
        [--fail-after N --fail-code CODE --fail-count K]
        [--drop-after N]
        [--permanent-rcpt ADDRESS]...
        [--quick-acks]

It listens on 127.0.0.1:PORT (0: a free port) and prints `listening PORT` as the first
line on stdout once it accepts connections. No TLS, no AUTH, messages up to 10 MB, any
number of connections at once.

Every accepted message is appended to FILE as one JSON line, written and fsync'd before
the 250 goes out, so a message the client saw accepted is always in the file:
    {"mail_from": ..., "rcpt_tos": [...], "data": "<the message as sent>", "at": <unix time>}

Failures, counted over all connections together:
  --fail-after N --fail-code CODE --fail-count K
      once N messages have been accepted, the next K MAIL commands are answered
      `CODE Try again later`; after that, messages are accepted again. A 421 also
      closes the connection, as real servers do.
  --drop-after N
      once N messages have been accepted, the next message is read to its end and then
      the connection is dropped without an answer (that message is not recorded); once.
  --permanent-rcpt ADDRESS
      RCPT TO for ADDRESS (any case) is answered `550 5.1.1 No such user`; repeatable.

Speed:
  --quick-acks
      acknowledge what arrives at once (TCP_QUICKACK, Linux) instead of after the
      kernel's delayed-ACK timer. lettre writes a message's data and its closing `.` line
      in two writes without TCP_NODELAY, so Nagle's algorithm holds the `.` until the data
      is acknowledged: against an ordinary server every message waits 40 ms on each
      connection. Tests that send thousands of messages ask for this.

Requires aiosmtpd (`pip install aiosmtpd`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from typing import Any, TextIO

from aiosmtpd.smtp import SMTP, Envelope, Session

MAX_MESSAGE_SIZE = 10 * 1024 * 1024
HOSTNAME = "sink.localhost"


class SinkSMTP(SMTP):
    """aiosmtpd's server, closing the connection after any 421 answer, and with
    `quick_acks` acknowledging each read at once."""

    quick_acks = False

    def data_received(self, data: bytes) -> None:
        if self.quick_acks and self.transport is not None:
            sock = self.transport.get_extra_info("socket")
            quickack = getattr(socket, "TCP_QUICKACK", None)
            if sock is not None and quickack is not None:
                # Sends the pending acknowledgement now; the kernel falls back to
                # delaying them later, so this is set again on every read.
                sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        super().data_received(data)

    async def push(self, status: Any) -> None:
        await super().push(status)
        code = status[:3] if isinstance(status, str) else status[:3].decode("ascii", "replace")
        if code == "421" and self.transport is not None:
            self.transport.close()


class Sink:
    """The handler: records messages and injects the failures asked for."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.out = out
        self.accepted = 0
        self.fail_after: int | None = args.fail_after
        self.fail_code: int = args.fail_code
        self.fail_left: int = args.fail_count
        self.drop_after: int | None = args.drop_after
        self.permanent = {address.lower() for address in args.permanent_rcpt}

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.fail_after is not None and self.accepted >= self.fail_after and self.fail_left > 0:
            self.fail_left -= 1
            return f"{self.fail_code} Try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.permanent:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.drop_after is not None and self.accepted >= self.drop_after:
            self.drop_after = None
            assert server.transport is not None
            server.transport.abort()
            # Losing the connection cancels this coroutine, so no answer is ever written.
            await asyncio.sleep(3600)
        raw = envelope.original_content or b""
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": raw.decode("utf-8", errors="replace"),
            "at": time.time(),
        }
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        os.fsync(self.out.fileno())
        self.accepted += 1
        return "250 OK: queued"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="An SMTP server for the mail tests.")
    parser.add_argument("--port", type=int, required=True, help="the port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--out", required=True, help="the file accepted messages are appended to")
    parser.add_argument("--fail-after", type=int, metavar="N", help="accepted messages before the failures")
    parser.add_argument("--fail-code", type=int, default=421, metavar="CODE", help="the failure's code (421)")
    parser.add_argument("--fail-count", type=int, default=1, metavar="K", help="how many MAIL commands fail (1)")
    parser.add_argument("--drop-after", type=int, metavar="N", help="accepted messages before the dropped one")
    parser.add_argument(
        "--permanent-rcpt", action="append", default=[], metavar="ADDRESS", help="a recipient answered with 550"
    )
    parser.add_argument(
        "--quick-acks", action="store_true", help="acknowledge at once (TCP_QUICKACK) instead of delaying ACKs"
    )
    args = parser.parse_args(argv)
    if not 400 <= args.fail_code <= 599:
        parser.error("--fail-code must be a 4xx or 5xx code")
    return args


async def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with open(args.out, "a", encoding="utf-8") as out:
        handler = Sink(args, out)
        loop = asyncio.get_running_loop()

        SinkSMTP.quick_acks = args.quick_acks

        def protocol() -> SMTP:
            return SinkSMTP(
                handler,
                data_size_limit=MAX_MESSAGE_SIZE,
                enable_SMTPUTF8=True,
                # A fixed name: the default looks the machine's name up, which can stall.
                hostname=HOSTNAME,
                timeout=60,
                loop=loop,
            )

        server = await loop.create_server(protocol, host="127.0.0.1", port=args.port, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        print(f"listening {port}", flush=True)
        async with server:
            await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
