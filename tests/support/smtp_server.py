#!/usr/bin/env python3
"""A real SMTP server for digest's integration tests, on aiosmtpd.

Accepts mail on 127.0.0.1 and writes every accepted message into a Maildir, so tests read
back exactly what a mail server received. Prints "READY <port>" on stdout once listening.

Modes: --security plain | starttls | tls (implicit TLS); --auth USER:PASSWORD (AUTH PLAIN/LOGIN,
required); --reject ADDRESS (550 for that recipient, repeatable); --tempfail N (answer the
first N RCPTs with 451); --log FILE (one line per event: session ids, RCPTs, DATA).
"""
import argparse
import logging
import warnings
import asyncio
import mailbox
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler:
    def __init__(self, args):
        self.maildir = mailbox.Maildir(args.maildir, create=True)
        self.reject = {a.lower() for a in args.reject}
        self.tempfail = args.tempfail
        self.reject_data = args.reject_data
        self.drop_data = args.drop_data
        self.sink = args.sink
        self.accepted = 0
        self.log_path = args.log
        self.lock = threading.Lock()

    def log(self, line):
        if self.log_path:
            with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.log(f"EHLO session={id(session)} tls={session.ssl is not None}")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.tempfail > 0:
            self.tempfail -= 1
            self.log(f"RCPT session={id(session)} to={address} result=451")
            return "451 4.3.0 Try again later"
        if address.lower() in self.reject:
            self.log(f"RCPT session={id(session)} to={address} result=550")
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        self.log(f"RCPT session={id(session)} to={address} result=250")
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_data:
            self.log(f"DATA session={id(session)} result=dropped")
            server.transport.abort()
            return "421 4.4.2 dropped"
        if self.reject_data:
            self.log(f"DATA session={id(session)} result=554")
            return "554 5.6.0 Message rejected: content policy"
        if self.sink:
            self.accepted += 1
            return "250 2.0.0 Message accepted"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self.lock:
            self.maildir.add(data)
        self.log(f"DATA session={id(session)} from={envelope.mail_from} to={','.join(envelope.rcpt_tos)} bytes={len(data)}")
        return "250 2.0.0 Message accepted"


class Authenticator:
    def __init__(self, user, password, handler):
        self.user = user.encode()
        self.password = password.encode()
        self.handler = handler

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == self.user and auth_data.password == self.password
        self.handler.log(f"AUTH session={id(session)} mechanism={mechanism} ok={ok}")
        if ok:
            return AuthResult(success=True)
        # handled=False lets aiosmtpd answer 535; handled=True without a reply hangs the client.
        return AuthResult(success=False, handled=False)


def main():
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser()
    p.add_argument("--maildir", required=True)
    p.add_argument("--security", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--tempfail", type=int, default=0)
    p.add_argument("--reject-data", action="store_true", help="answer DATA with 554")
    p.add_argument("--drop-data", action="store_true", help="drop the connection once the message arrives, without answering")
    p.add_argument("--sink", action="store_true", help="accept and count messages without storing them (benchmarks)")
    p.add_argument("--log")
    args = p.parse_args()

    handler = Handler(args)
    kwargs = {}
    if args.security != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        if args.security == "tls":
            kwargs["ssl_context"] = ctx
        else:
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = True
    if args.auth:
        user, password = args.auth.split(":", 1)
        kwargs["authenticator"] = Authenticator(user, password, handler)
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = args.security == "starttls"
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    if args.security == "tls":
        # The readiness probe must speak TLS too; trust our own certificate for it.
        client_ctx = ssl.create_default_context()
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        controller.ssl_context = kwargs["ssl_context"]
    controller.start()
    print(f"READY {port}", flush=True)
    try:
        sys.stdin.read()  # run until the test closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
