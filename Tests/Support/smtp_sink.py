#!/usr/bin/env python3
"""A local SMTP sink for herold's tests: saves every accepted message as N.eml + N.json.

    python3 smtp_sink.py --port 0 --dir DIR [--fail-rcpt ADDR=CODE] [--fail-data ADDR=CODE]
                         [--fail-mail ADDR=CODE] [--auth USER:PASSWORD] [--xoauth2 USER:TOKEN]
                         [--data-delay SECONDS] [--drop-after-rcpt ADDR] [--drop-after-data ADDR]
                         [--starttls CERT KEY | --tls CERT KEY] [--auth-require-tls] [--no-auth]
                         [--idle-timeout SECONDS]

--starttls CERT KEY offers STARTTLS and refuses every command but EHLO/NOOP/QUIT before it;
--tls CERT KEY speaks TLS from the first byte (smtps). --auth-require-tls offers AUTH only
after STARTTLS. --no-auth never offers AUTH (not even over TLS), and accepts mail without it.
Without these options the sink is plain text and, unless --auth or --xoauth2 is given,
offers no AUTH (aiosmtpd offers it only over TLS by default).
Every EHLO, AUTH and MAIL is also appended to DIR/events.jsonl as one JSON object a line:
{"event": "EHLO", "name", "tls", "auth_offered"}, {"event": "AUTH", "user", "ok", "tls"},
{"event": "MAIL", "from", "tls", "authenticated"}.
--drop-after-rcpt ADDR closes the connection without a reply when RCPT TO names ADDR.
--drop-after-data ADDR reads the whole message for ADDR, then closes the connection without
answering the final dot (the client cannot know whether it was taken); each such message is
appended to events.jsonl as {"event": "DATA_DROPPED", "rcpt_tos"} and not saved.
--idle-timeout SECONDS closes a session that sent no command for that long the way Postfix
does (smtpd_timeout): "421 4.4.2 ... timeout exceeded", then close; each such close is
appended to events.jsonl as {"event": "IDLE_CLOSE", "peer_port", "tls"}. Without it aiosmtpd
closes silently after 300 s.
Binds 127.0.0.1 only and prints "READY <port>" once listening (port 0 picks a free port).
N.json holds mail_from, rcpt_tos, helo (the EHLO name) and the message parsed with email.policy.default:
subject, from, to, message_id, date, content_type, body (text/plain part, and body_lf with
CRLF turned into LF), headers,
max_line_length (of the raw bytes, CRLF excluded) and all_crlf, html (the text/html part),
parts (every MIME part in order: content_type, filename decoded, disposition, charset, and
sha256/size of the decoded bytes of non-multipart parts), and the SMTP session it came in:
session (1 for the first TCP connection, 2 for the next...), peer_port, session_messages
(how many messages that connection had carried, this one included), auth (the SASL
mechanism the session logged in with, or null), auth_user (who logged in, or null) and tls
(whether the message came over TLS, STARTTLS or implicit).
"""
import argparse
import base64
import hashlib
import asyncio
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult


def parse_codes(items):
    codes = {}
    for item in items or []:
        address, _, code = item.rpartition("=")
        codes[address.lower()] = int(code)
    return codes


def reply(code, what):
    text = {4: "4.0.0 Try again later", 5: "5.1.1 Mailbox unavailable"}.get(code // 100, "")
    return f"{code} {text} ({what})"


def describe(raw):
    lines = raw.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    all_crlf = raw.endswith(b"\r\n") and all(b"\n" not in l and b"\r" not in l for l in lines)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body_part = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    parts = []
    for part in msg.walk():
        entry = {"content_type": part.get_content_type(), "filename": part.get_filename(),
                 "disposition": part.get_content_disposition(), "charset": part.get_content_charset(),
                 "transfer_encoding": part.get("content-transfer-encoding")}
        if not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            entry["sha256"] = hashlib.sha256(payload).hexdigest()
            entry["size"] = len(payload)
        parts.append(entry)
    return {
        "html": html_part.get_content() if html_part is not None else None,
        "parts": parts,
        "subject": str(msg["subject"]) if msg["subject"] is not None else None,
        "from": str(msg["from"]) if msg["from"] is not None else None,
        "to": str(msg["to"]) if msg["to"] is not None else None,
        "message_id": str(msg["message-id"]) if msg["message-id"] is not None else None,
        "date": str(msg["date"]) if msg["date"] is not None else None,
        "content_type": msg.get_content_type(),
        "body": body_part.get_content() if body_part is not None else None,
        # The same text with CRLF turned into LF, for comparing with what a test sent.
        "body_lf": body_part.get_content().replace("\r\n", "\n") if body_part is not None else None,
        "headers": [[k, str(v)] for k, v in msg.items()],
        "max_line_length": max((len(l) for l in lines), default=0),
        "all_crlf": all_crlf,
    }


class SinkSMTP(SMTP):
    """aiosmtpd's server; with an idle timeout it says goodbye as Postfix does before closing."""

    def __init__(self, handler, idle_timeout=None, **kwargs):
        if idle_timeout:
            kwargs["timeout"] = idle_timeout
        super().__init__(handler, **kwargs)
        self.idle_timeout = idle_timeout

    def _timeout_cb(self):
        if self.idle_timeout and self.transport is not None:
            peer = self.session.peer[1] if isinstance(self.session.peer, tuple) else None
            self.event_handler.event({"event": "IDLE_CLOSE", "peer_port": peer, "tls": over_tls(self)})
            self.transport.write(b"421 4.4.2 sink.test Error: timeout exceeded\r\n")
        super()._timeout_cb()


def over_tls(server):
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class Handler:
    def __init__(self, directory, fail_mail, fail_rcpt, fail_data, data_delay, drop_after_rcpt=(), xoauth2=None,
                 offer_auth=True, drop_after_data=()):
        self.xoauth2 = xoauth2
        self.offer_auth = offer_auth
        self.directory = directory
        self.drop_after_rcpt = {a.lower() for a in drop_after_rcpt}
        self.drop_after_data = {a.lower() for a in drop_after_data}
        self.fail_mail = fail_mail
        self.fail_rcpt = fail_rcpt
        self.fail_data = fail_data
        self.data_delay = data_delay
        self.count = 0
        self.lock = threading.Lock()
        self.sessions = {}

    def event(self, record):
        with self.lock:
            with open(os.path.join(self.directory, "events.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.offer_auth:
            responses = [r for r in responses if not r[4:].upper().startswith("AUTH")]
        offered = any(r[4:].upper().startswith("AUTH") for r in responses)
        self.event({"event": "EHLO", "name": hostname, "tls": over_tls(server), "auth_offered": offered})
        return responses

    def session_number(self, session):
        """Numbers TCP connections in order of their first message; counts messages on each."""
        with self.lock:
            key = session.peer if isinstance(session.peer, tuple) else id(session)
            if key not in self.sessions:
                self.sessions[key] = [len(self.sessions) + 1, 0]
            self.sessions[key][1] += 1
            return self.sessions[key]

    async def auth_XOAUTH2(self, server, args):
        """SASL XOAUTH2: base64 of "user=U^Aauth=Bearer T^A^A", as initial response or after 334."""
        if not self.xoauth2:
            return AuthResult(success=False, handled=False)
        blob = args[1] if len(args) > 1 else None
        if blob is None:
            answer = await server.challenge_auth("", encode_to_b64=False)
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=False)
            decoded = answer
        else:
            try:
                decoded = base64.b64decode(blob)
            except Exception:
                return AuthResult(success=False, handled=False)
        user, _, token = self.xoauth2.partition(":")
        expected = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
        self.event({"event": "AUTH", "user": user, "ok": decoded == expected, "tls": over_tls(server)})
        return AuthResult(success=decoded == expected, handled=False, auth_data="XOAUTH2")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        code = self.fail_mail.get(address.lower())
        if code:
            return reply(code, "MAIL")
        self.event({"event": "MAIL", "from": address, "tls": over_tls(server), "authenticated": bool(session.authenticated)})
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.drop_after_rcpt:
            # A server that dies mid-conversation: no reply at all, the connection is gone.
            server.transport.abort()
            return "421 4.3.0 gone"
        code = self.fail_rcpt.get(address.lower())
        if code:
            return reply(code, "RCPT")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        for rcpt in envelope.rcpt_tos:
            code = self.fail_data.get(rcpt.lower())
            if code:
                return reply(code, "DATA")
        if any(rcpt.lower() in self.drop_after_data for rcpt in envelope.rcpt_tos):
            self.event({"event": "DATA_DROPPED", "rcpt_tos": envelope.rcpt_tos})
            server.transport.abort()
            return "421 4.3.0 gone"
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.count += 1
            n = self.count
        number, messages = self.session_number(session)
        peer = session.peer[1] if isinstance(session.peer, tuple) and len(session.peer) > 1 else None
        record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "helo": session.host_name,
                  "session": number, "peer_port": peer, "session_messages": messages,
                  "auth": session.auth_data if isinstance(session.auth_data, str) else None,
                  "auth_user": getattr(session, "auth_user", None), "tls": over_tls(server)}
        try:
            record.update(describe(raw))
        except Exception as error:  # keep the raw message even if Python cannot parse it
            record["parse_error"] = repr(error)
        base = os.path.join(self.directory, str(n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(raw)
        os.rename(base + ".eml.tmp", base + ".eml")
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=2)
        # The .json appears last and atomically: a test that sees it can read both.
        os.rename(base + ".json.tmp", base + ".json")
        return f"250 2.0.0 Ok: queued as {n}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail-mail", action="append", metavar="ADDR=CODE")
    parser.add_argument("--fail-rcpt", action="append", metavar="ADDR=CODE")
    parser.add_argument("--fail-data", action="append", metavar="ADDR=CODE")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="require AUTH (PLAIN/LOGIN, no TLS needed)")
    parser.add_argument("--drop-after-rcpt", action="append", metavar="ADDR", default=[])
    parser.add_argument("--drop-after-data", action="append", metavar="ADDR", default=[])
    parser.add_argument("--xoauth2", metavar="USER:TOKEN", help="require AUTH XOAUTH2 with this bearer token")
    parser.add_argument("--data-delay", type=float, default=0.0, help="seconds to wait before answering DATA")
    security = parser.add_mutually_exclusive_group()
    security.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"), help="offer and require STARTTLS")
    security.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="implicit TLS from the first byte")
    parser.add_argument("--auth-require-tls", action="store_true", help="offer AUTH only after STARTTLS")
    parser.add_argument("--no-auth", action="store_true", help="never offer AUTH")
    parser.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                        help="close a session idle this long with 421, as Postfix's smtpd_timeout does")
    args = parser.parse_args()
    # A parent that blocks signals (a Swift test runner's thread) passes the mask on through
    # exec; unblock so "terminate" works, and exit at once on SIGTERM.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    os.makedirs(args.dir, exist_ok=True)

    handler = Handler(args.dir, parse_codes(args.fail_mail), parse_codes(args.fail_rcpt),
                      parse_codes(args.fail_data), args.data_delay, args.drop_after_rcpt, args.xoauth2,
                      offer_auth=not args.no_auth, drop_after_data=args.drop_after_data)
    smtp_kwargs = {"enable_SMTPUTF8": True}
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            login = auth_data.login.decode()
            ok = login == user and auth_data.password.decode() == password
            handler.event({"event": "AUTH", "user": login, "ok": ok, "tls": over_tls(server)})
            print(f"AUTH {mechanism} {'accepted' if ok else 'refused'}", flush=True)
            if ok:
                session.auth_user = login
            return AuthResult(success=ok, handled=False, auth_data=mechanism)

        # Over implicit TLS the whole session is encrypted, which aiosmtpd's STARTTLS check cannot see.
        require_tls = args.auth_require_tls and not args.tls
        smtp_kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=require_tls)
    elif args.xoauth2:
        # PLAIN and LOGIN are offered but always refused: only the token may log in.
        smtp_kwargs.update(authenticator=lambda *a: AuthResult(success=False, handled=False),
                           auth_required=True, auth_require_tls=False)

    implicit = None
    if args.starttls or args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*(args.starttls or args.tls))
        if args.starttls:
            smtp_kwargs.update(tls_context=context, require_starttls=True)
        else:
            implicit = context

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: SinkSMTP(handler, args.idle_timeout, hostname="sink.test", **smtp_kwargs), host="127.0.0.1", port=args.port,
                           ssl=implicit))
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
