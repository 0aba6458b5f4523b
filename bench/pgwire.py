"""A small PostgreSQL client for the benchmarks (protocol 3, simple queries, text results),
so the bench can poll a shared journal every 20 ms on one kept connection: `psql -tAc` costs
~40 ms of CPU and a new server process on every call, which on a 2-core machine would be
taken from herold. Python 3 standard library only.

Authentication: trust, password, md5 and SCRAM-SHA-256; the password comes from the URL or
$PGPASSWORD. No TLS: the bench talks to a server on the loopback.
"""
import base64
import hashlib
import hmac
import os
import secrets
import socket
import struct
import urllib.parse


class PgError(Exception):
    pass


def with_database(url, name):
    """The same server URL with another database (the path)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def without_password(url):
    """The URL with any password replaced, for what the bench prints and saves."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.netloc.rsplit('@', 1)[1]}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Connection:
    def __init__(self, url, timeout=10):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise PgError(f"not a postgresql://USER@HOST:PORT/DB URL: {url}")
        self.user = urllib.parse.unquote(parts.username or os.environ.get("PGUSER") or "postgres")
        self.password = urllib.parse.unquote(parts.password or "") or os.environ.get("PGPASSWORD", "")
        self.database = urllib.parse.unquote(parts.path.lstrip("/")) or self.user
        self.where = f"{parts.hostname}:{parts.port or 5432}/{self.database}"
        self.sock = socket.create_connection((parts.hostname, parts.port or 5432), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in
                          (("user", self.user), ("database", self.database), ("application_name", "herold-bench")))
        body = struct.pack("!i", 196608) + params + b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self._authenticate()
        while self._read()[0] != b"Z":   # parameters, key data, until ReadyForQuery
            pass

    # ----------------------------------------------------------------------------- wire

    def _recv(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError(f"{self.where}: the server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _read(self):
        """One message: (type byte, payload); an ErrorResponse raises."""
        kind = self._recv(1)
        length, = struct.unpack("!i", self._recv(4))
        payload = self._recv(length - 4)
        if kind == b"E":
            fields = dict((f[:1], f[1:].decode(errors="replace")) for f in payload.split(b"\0") if f)
            raise PgError(f"{self.where}: {fields.get(b'S', 'ERROR')} {fields.get(b'C', '')}: {fields.get(b'M', '')}")
        return kind, payload

    def _send(self, kind, payload):
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    # --------------------------------------------------------------------- authentication

    def _authenticate(self):
        while True:
            kind, payload = self._read()
            if kind != b"R":
                raise PgError(f"{self.where}: expected an authentication request, got {kind!r}")
            code, = struct.unpack("!i", payload[:4])
            if code == 0:
                return
            if code == 3:
                self._send(b"p", self.password.encode() + b"\0")
            elif code == 5:
                inner = hashlib.md5((self.password + self.user).encode()).hexdigest().encode()
                self._send(b"p", b"md5" + hashlib.md5(inner + payload[4:8]).hexdigest().encode() + b"\0")
            elif code == 10 and b"SCRAM-SHA-256\0" in payload[4:]:
                self._scram()
            else:
                raise PgError(f"{self.where}: authentication method {code} is not supported by the bench's client")

    def _scram(self):
        nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        first_bare = f"n=,r={nonce}"
        first = ("n,," + first_bare).encode()
        self._send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
        kind, payload = self._read()
        server_first = payload[4:].decode()
        fields = dict(item.split("=", 1) for item in server_first.split(","))
        if not fields["r"].startswith(nonce):
            raise PgError(f"{self.where}: SCRAM nonce mismatch")
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        final_bare = f"c=biws,r={fields['r']}"
        message = f"{first_bare},{server_first},{final_bare}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), message, hashlib.sha256).digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        self._send(b"p", f"{final_bare},p={proof}".encode())
        self._read()   # SASLFinal (the server's signature); AuthenticationOk follows

    # ---------------------------------------------------------------------------- queries

    def query(self, sql):
        """Runs one simple query; returns the rows of its (last) result as tuples of text or None."""
        self._send(b"Q", sql.encode() + b"\0")
        rows, error = [], None
        while True:
            try:
                kind, payload = self._read()
            except PgError as problem:   # the server still sends ReadyForQuery after an error
                error = problem
                continue
            if kind == b"T":
                rows = []
            elif kind == b"D":
                rows.append(self._row(payload))
            elif kind == b"Z":
                if error:
                    raise error
                return rows

    @staticmethod
    def _row(payload):
        count, = struct.unpack("!h", payload[:2])
        at, values = 2, []
        for _ in range(count):
            length, = struct.unpack("!i", payload[at:at + 4])
            at += 4
            if length < 0:
                values.append(None)
            else:
                values.append(payload[at:at + length].decode())
                at += length
        return tuple(values)

    def close(self):
        try:
            self._send(b"X", b"")
        except OSError:
            pass
        self.sock.close()
