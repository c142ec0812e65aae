#!/usr/bin/env python3
"""A fake central registry for the course-kiosk tests (SPEC section 6, docs/sync.md).

It speaks the real sync protocol over real HTTP(S) on 127.0.0.1, keeps what a registry
keeps (the events of every device, the rosters it hands out) and can misbehave on
purpose (fault injection) so that tests can check how the device copes.

Two ways to use it:

  * in-process, from unittest::

        reg = FakeRegistry(token="T").start()
        ...  # point the device at reg.url
        reg.inject("http500", times=2)
        reg.wait_for_acked("test-kiosk", 3, timeout=10)
        reg.stop()

  * as a separate process, driven over HTTP by a test in another process::

        python3 fake_registry.py --port 0 --token T [--tls CERTDIR] [--wrong-host]

    prints ``fake-registry listening on URL`` (and the control URL, and with --tls the
    CA files) and takes orders under ``/_control/...`` (see CONTROL ENDPOINTS below).

Standard library only, plus jsonschema (already needed by the test harness) to check
request bodies against schemas/sync-events-request.schema.json and rosters against
schemas/registry-roster.schema.json. TLS material is made at test time with the
``openssl`` command line. Everything the fake starts (threads, sockets, timers, temp
dirs) is released by stop(); every wait is bounded.
"""
import argparse
import base64
import copy
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zlib

import jsonschema

SOURCE_DIR = os.environ.get("COURSE_KIOSK_SOURCE_DIR",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCHEMA_DIR = os.path.join(SOURCE_DIR, "schemas")

# Limits a registry states and the device must respect (docs/sync.md, "Limits").
MAX_WIRE_BYTES = 8 * 1024 * 1024     # request body as sent (possibly gzip)
MAX_BODY_BYTES = 32 * 1024 * 1024    # request body after decompression
MAX_BATCH_EVENTS = 1000              # also maxItems in the request schema
CONNECTION_TIMEOUT_S = 10            # idle keep-alive / slow client, per connection

DEVICE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MODULE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
EVENTS_PATH_RE = re.compile(r"^/api/v1/devices/([^/]+)/events$")
ROSTER_PATH_RE = re.compile(r"^/api/v1/modules/([^/]+)/roster$")

# ---------------------------------------------------------------------------------------
# Faults. Request faults act on one request each (times=N) or on every request until
# cleared (times=None); "refuse" acts on the listening socket (see inject()).
# ---------------------------------------------------------------------------------------
FAULTS = {
    # name: (endpoints it applies to, what happens)
    "refuse": (("events", "roster"),
               "listening socket closed: connection refused until clear()/seconds"),
    "http500": (("events", "roster"), "500 internal_error, nothing stored"),
    "slow": (("events", "roster"),
             "sleeps slow_delay_s (interruptible by stop()), then answers normally"),
    "drop_after_store": (("events",),
                         "stores the batch, then closes the connection without answering"),
    "drop": (("events", "roster"), "closes the connection without answering, stores nothing"),
    "gap409": (("events",), "409 gap with the true acked_through, stores nothing"),
    "http401": (("events", "roster"), "401 unauthenticated whatever the token"),
    "truncated": (("events", "roster"),
                  "processes normally (stores), sends headers with a Content-Length larger "
                  "than the body, half the body, then closes"),
    "garbage": (("events", "roster"),
                "200 with Content-Type application/json and an HTML body, nothing stored"),
}
# Faults that replace the answer outright, before the body is looked at.
_REPLACING = ("http500", "drop", "gap409", "http401", "garbage")
# ... and the status each of them answers with (None: no answer at all).
_FAULT_STATUS = {"http500": 500, "drop": None, "gap409": 409, "http401": 401, "garbage": 200}
_ENDPOINT_CHOICES = {"events": ("events",), "roster": ("roster",), "both": ("events", "roster")}
_DEFAULT = object()  # "times not given" (its meaning depends on the fault, see inject())

GARBAGE_BODY = (b"<!DOCTYPE html><html><head><title>Venue Wi-Fi</title></head>"
                b"<body>Please accept the terms of use to continue.</body></html>")


def _now_text():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def error_body(code, message, hint="", details=None, **extra):
    """The error envelope of SPEC section 5 ({"error": {code, message, hint}}), plus any
    top-level extras (409 answers add acked_through)."""
    err = {"code": code, "message": message, "hint": hint}
    if details is not None:
        err["details"] = details
    body = dict(extra)
    body["error"] = err
    return body


class _HttpError(Exception):
    """An answer that ends request processing: status + JSON body (+ headers)."""

    def __init__(self, status, code, message, hint="", details=None, headers=None,
                 close=False, **extra):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.body = error_body(code, message, hint, details, **extra)
        self.headers = dict(headers or {})
        self.close = close


# ---------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------
_schema_lock = threading.Lock()
_validators = {}


def _validator(name):
    with _schema_lock:
        if name not in _validators:
            path = os.path.join(SCHEMA_DIR, name + ".schema.json")
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            _validators[name] = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        return _validators[name]


def _schema_problem(instance, name):
    """None if `instance` validates against schemas/<name>.schema.json, else a short text
    naming the first problem and where it is."""
    best = jsonschema.exceptions.best_match(_validator(name).iter_errors(instance))
    if best is None:
        return None
    where = "/".join(str(p) for p in best.absolute_path) or "(top level)"
    return f"{where}: {best.message}"


# ---------------------------------------------------------------------------------------
# Test PKI (openssl command line) and Ed25519 key helpers
# ---------------------------------------------------------------------------------------
PKI_FILES = ("ca.pem", "ca.key", "wrong-ca.pem", "wrong-ca.key", "server.pem", "server.key",
             "wrong-host.pem", "wrong-host.key")

_CA_CONFIG = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = {cn}
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_LEAF_CONFIG = """[req]
distinguished_name = dn
prompt = no
[dn]
CN = {cn}
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {san}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
"""


def _openssl(args, cwd, input=None):
    try:
        proc = subprocess.run(["openssl", *args], cwd=cwd, input=input, capture_output=True,
                              timeout=60)
    except FileNotFoundError as e:
        raise RuntimeError("the openssl command line tool is needed for TLS tests") from e
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: "
                           + proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _make_ca(directory, name, cn):
    cnf = os.path.join(directory, name + ".cnf")
    _write(cnf, _CA_CONFIG.format(cn=cn))
    _openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
              "-out", name + ".pem", "-days", "3650", "-config", cnf,
              "-extensions", "v3_ca"], cwd=directory)


def _make_leaf(directory, name, ca, cn, san):
    cnf = os.path.join(directory, name + ".cnf")
    _write(cnf, _LEAF_CONFIG.format(cn=cn, san=san))
    _openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-config", cnf],
             cwd=directory)
    serial = "0x" + os.urandom(8).hex()
    _openssl(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
              "-set_serial", serial, "-days", "825", "-out", name + ".pem",
              "-extfile", cnf, "-extensions", "v3_server"], cwd=directory)


def make_test_pki(directory):
    """Creates (or reuses, if all files are there) in `directory`:
    ca.pem/.key         the test CA;
    server.pem/.key     signed by it, subjectAltName IP:127.0.0.1, DNS:localhost;
    wrong-host.pem/.key signed by it, subjectAltName DNS:wrong.example only;
    wrong-ca.pem/.key   a second CA that signed nothing (verification must fail with it).
    Returns the directory."""
    os.makedirs(directory, exist_ok=True)
    if all(os.path.exists(os.path.join(directory, f)) for f in PKI_FILES):
        return directory
    _make_ca(directory, "ca", "course-kiosk test CA")
    _make_ca(directory, "wrong-ca", "unrelated test CA")
    _make_leaf(directory, "server", "ca", "localhost", "IP:127.0.0.1,DNS:localhost")
    _make_leaf(directory, "wrong-host", "ca", "wrong.example", "DNS:wrong.example")
    return directory


def generate_ed25519_key(path):
    """Writes a new Ed25519 private key (PKCS#8 PEM, the device's format) to `path`."""
    _openssl(["genpkey", "-algorithm", "ed25519", "-out", os.path.abspath(path)], cwd=None)
    return path


def ed25519_key_entry(pem_path, key_id=None):
    """A roster "keys" entry for the Ed25519 key in `pem_path` (private or public PEM):
    {"key_id": 8 lower-case hex digits, "public_key": base64 of the 32 raw bytes}. The
    default key id is the device's own rule for self-generated keys (docs/credential.md):
    the first 4 bytes of SHA-256 of the raw public key."""
    with open(pem_path, encoding="ascii") as f:
        public_input = "-----BEGIN PUBLIC KEY-----" in f.read()
    args = ["pkey", "-in", os.path.abspath(pem_path), "-pubout", "-outform", "DER"]
    if public_input:
        args.insert(1, "-pubin")
    der = _openssl(args, cwd=None)
    raw = der[-32:]  # SubjectPublicKeyInfo for Ed25519: 12-byte prefix + 32-byte key
    if key_id is None:
        key_id = hashlib.sha256(raw).digest()[:4].hex()
    return {"key_id": key_id, "public_key": base64.b64encode(raw).decode("ascii")}


# ---------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------
class _Server(http.server.ThreadingHTTPServer):
    """One listening socket. Each connection gets its own (tracked, daemon) thread; the
    accept loop is our own so that closing it is bounded (see FakeRegistry._serve)."""
    daemon_threads = True
    allow_reuse_address = True  # reopen on the same port after "refuse"/"down"
    request_queue_size = 64
    timeout = 0.05              # accept-loop tick (BaseServer.handle_request)

    def __init__(self, address, registry, control_only):
        self.registry = registry
        self.control_only = control_only
        self.closing = threading.Event()
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), a DNS look-up: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port

    def process_request(self, request, client_address):
        self.registry._spawn(self.process_request_thread, (request, client_address),
                             "fake-registry-conn")

    def handle_error(self, request, client_address):
        self.registry._untrack_socket(request)
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError, ValueError)):
            return  # a client that went away or failed the TLS handshake: routine
        self.registry._record_bug()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length framing, 100-continue
    server_version = "fake-registry/1"
    timeout = CONNECTION_TIMEOUT_S

    def version_string(self):
        return self.server_version

    # --- connection life cycle -----------------------------------------------------------
    def setup(self):
        reg = self.server.registry
        self.busy = False
        self.raw_request = self.connection = self.request
        self.request.settimeout(self.timeout)
        reg._track_connection(self, True)  # before the handshake: stop() can cut it short
        ctx = None if self.server.control_only else reg._ssl_context
        if ctx is not None:
            # Handshake here, in the connection's thread, bounded by the socket timeout.
            self.request = ctx.wrap_socket(self.request, server_side=True)
        super().setup()  # self.connection = the (TLS) socket, rfile, wfile

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass
        finally:
            self.server.registry._track_connection(self, False)
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()

    def parse_request(self):
        self.busy = True  # a request line arrived: not an idle keep-alive connection
        return super().parse_request()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        finally:
            self.busy = False
            if not self.server.control_only and not self.server.registry._listening():
                self.close_connection = True  # "down"/"refuse": no more keep-alive answers

    def log_message(self, format, *args):
        if os.environ.get("FAKE_REGISTRY_DEBUG"):
            sys.stderr.write("fake-registry: " + (format % args) + "\n")

    def date_time_string(self, timestamp=None):
        # Every answer carries Date (send_response adds it); the device estimates its
        # clock offset from it, so tests can shift it with date_offset_s.
        if timestamp is None:
            timestamp = time.time() + self.server.registry.date_offset_s
        return email.utils.formatdate(timestamp, usegmt=True)

    # --- routing ----------------------------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def _dispatch(self, method):
        reg = self.server.registry
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            if path.startswith("/_control/"):
                self._handle_control(method, path, urllib.parse.parse_qs(url.query))
                return
            if self.server.control_only:
                raise _HttpError(404, "not_found", "The control port only serves /_control/.")
            m = EVENTS_PATH_RE.match(path)
            if m:
                self._require_method(method, "POST")
                self._handle_events(urllib.parse.unquote(m.group(1)))
                return
            m = ROSTER_PATH_RE.match(path)
            if m:
                self._require_method(method, "GET")
                self._handle_roster(urllib.parse.unquote(m.group(1)))
                return
            raise _HttpError(404, "not_found", f"No route for {path}.",
                             "See docs/sync.md for the registry's API.")
        except _HttpError as e:
            self._log_request(method, e.status)
            self._send_json(e.status, e.body, e.headers, close=e.close)
        except OSError:
            self.close_connection = True  # the client went away mid-answer
        except Exception:  # a bug in the fake: say so loudly, in the answer and the log
            reg._record_bug()
            self._log_request(method, 500)
            try:
                self._send_json(500, error_body("fake_registry_bug", traceback.format_exc()),
                                close=True)
            except OSError:
                self.close_connection = True

    def _require_method(self, method, allowed):
        if method != allowed:
            raise _HttpError(405, "method_not_allowed", f"{method} is not allowed here.",
                             f"Use {allowed}.", headers={"Allow": allowed}, close=True)

    def _log_request(self, method, status, fault=None):
        self.server.registry._log_request(method, urllib.parse.urlsplit(self.path).path,
                                          status, fault)

    # --- reading --------------------------------------------------------------------------
    def _read_body(self, limit):
        """The request body as sent (bounded by `limit` and the socket timeout)."""
        te = self.headers.get("Transfer-Encoding", "").strip().lower()
        if te == "chunked":
            return self._read_chunked(limit)
        if te and te != "identity":
            raise _HttpError(501, "not_implemented", f"Transfer-Encoding {te} is not supported.",
                             close=True)
        length = self.headers.get("Content-Length")
        if length is None:
            if self.command in ("POST", "PUT"):
                raise _HttpError(411, "length_required", "The request has no Content-Length.",
                                 "Send Content-Length (or chunked transfer encoding).",
                                 close=True)
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            raise _HttpError(400, "malformed_request", "Content-Length is not a number.",
                             close=True) from None
        if n > limit:
            raise _HttpError(413, "payload_too_large",
                             f"The body is {n} bytes; at most {limit} are accepted.",
                             "Send fewer events per batch.", close=True)
        data = self.rfile.read(n)
        if len(data) != n:
            raise OSError("client closed the connection inside the body")
        return data

    def _read_chunked(self, limit):
        data = bytearray()
        for _ in range(1_000_000):  # bounded: at most a million chunks
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise OSError("bad chunk header")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                for _ in range(100):  # trailer lines up to the blank line
                    if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                        break
                return bytes(data)
            if len(data) + size > limit:
                raise _HttpError(413, "payload_too_large",
                                 f"The body exceeds {limit} bytes.", "Send fewer events per batch.",
                                 close=True)
            data += self.rfile.read(size)
            self.rfile.readline(8)  # CRLF after the chunk
        raise OSError("too many chunks")

    # --- writing --------------------------------------------------------------------------
    def _send_json(self, status, obj, headers=None, close=False):
        self._send_bytes(status, json.dumps(obj).encode("utf-8"), "application/json",
                         headers, close)

    def _send_bytes(self, status, body, content_type, headers=None, close=False):
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        elif status != 304:
            self.send_header("Content-Length", "0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")  # also sets self.close_connection
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _abort(self):
        """Closes the connection now, whatever has (not) been sent: the client sees the
        connection end without (the rest of) an answer."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_truncated(self, status, body, content_type, headers=None):
        """Headers promising more bytes than follow: half the body, then the end."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) + 64))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body[:len(body) // 2])
        self._abort()

    def _answer_replacing_fault(self, fault, acked_through):
        """The faults that replace the answer outright (see _REPLACING)."""
        if fault == "drop":
            self._abort()
        elif fault == "http500":
            self._send_json(500, error_body("internal_error", "Injected fault: internal error.",
                                            "Retry later."))
        elif fault == "http401":
            self._send_json(401, error_body("unauthenticated", "Injected fault: token refused.",
                                            "Check the device token."),
                            {"WWW-Authenticate": 'Bearer realm="course-kiosk registry"'})
        elif fault == "garbage":
            self._send_bytes(200, GARBAGE_BODY, "application/json")
        elif fault == "gap409":
            self._send_json(409, error_body(
                "gap", "Injected fault: the registry claims a gap.",
                f"Resend from seq {acked_through + 1}.",
                {"expected_seq": acked_through + 1}, acked_through=acked_through))

    # --- POST /api/v1/devices/{device_id}/events ----------------------------------------
    def _handle_events(self, device_id):
        reg = self.server.registry
        raw = self._read_body(MAX_WIRE_BYTES)
        fault = reg._take_fault("events")
        batch = reg._decode_batch(self.headers, raw)
        if fault in _REPLACING:
            reg._log_batch(device_id, batch, raw, self.headers, _FAULT_STATUS[fault], fault)
            self._log_request("POST", _FAULT_STATUS[fault], fault)
            self._answer_replacing_fault(fault, reg.acked_through(device_id))
            return
        if fault == "slow" and not reg._sleep(reg.slow_delay_s):
            self._abort()  # stop() interrupted the sleep
            return
        status, body, headers = reg._receive_batch(device_id, self.headers, batch)
        sent = None if fault == "drop_after_store" else status
        reg._log_batch(device_id, batch, raw, self.headers, sent, fault)
        self._log_request("POST", sent, fault)
        if fault == "drop_after_store":
            self._abort()  # stored, but the acknowledgement is lost
        elif fault == "truncated":
            self._send_truncated(status, json.dumps(body).encode(), "application/json", headers)
        else:
            self._send_json(status, body, headers)

    # --- GET /api/v1/modules/{module_id}/roster -----------------------------------------
    def _handle_roster(self, module_id):
        reg = self.server.registry
        self._read_body(MAX_WIRE_BYTES)  # normally none; keeps keep-alive framing right
        fault = reg._take_fault("roster")
        if fault in _REPLACING:
            reg._log_roster(module_id, _FAULT_STATUS[fault], self.headers, fault)
            self._log_request("GET", _FAULT_STATUS[fault], fault)
            self._answer_replacing_fault(fault, 0)
            return
        if fault == "slow" and not reg._sleep(reg.slow_delay_s):
            self._abort()
            return
        inm = None if fault == "truncated" else self.headers.get("If-None-Match")
        status, body, headers = reg._roster_answer(
            module_id, self.headers.get("Authorization"), inm,
            self.headers.get("Accept-Encoding", ""))
        reg._log_roster(module_id, status, self.headers, fault)
        self._log_request("GET", status, fault)
        if fault == "truncated" and body is not None:
            self._send_truncated(status, body, "application/json", headers)
        else:
            self._send_bytes(status, body, "application/json", headers)

    # --- /_control/... ----------------------------------------------------------------
    def _handle_control(self, method, path, query):
        reg = self.server.registry
        raw = self._read_body(MAX_BODY_BYTES)
        try:
            args = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise _HttpError(400, "malformed_request", "The control body is not JSON.") from None
        if not isinstance(args, dict):
            raise _HttpError(400, "malformed_request", "The control body must be an object.")

        def q(name, default=None):
            return query.get(name, [default])[0]

        try:
            status, body = 200, reg._control(method, path[len("/_control/"):], q, args)
        except (ValueError, TypeError, KeyError) as e:
            raise _HttpError(400, "bad_control_request", str(e),
                             "See the CONTROL ENDPOINTS in fake_registry.py.") from None
        if body is None:
            raise _HttpError(404, "not_found", f"No control endpoint {method} {path}.")
        if isinstance(body, tuple):
            status, body = body
        self._send_json(status, body)
        if (method, path) == ("POST", "/_control/stop"):
            reg._request_stop()  # only now: the answer is out


# ---------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------
class FakeRegistry:
    """The fake registry. Constructor arguments (all optional):

    token          the bearer token devices must send (default "test-token")
    devices        device ids this token may push for; None = any (else 403)
    tls            serve HTTPS with a test CA made at start() (see ca_file)
    cert_dir       where the TLS files go (kept); default: a temp dir removed by stop()
    wrong_host     serve the certificate for DNS:wrong.example instead (TLS only)
    host, port     listening address; port 0 = ephemeral (kept across refuse/down)
    control_port   plain-HTTP port for /_control/ (always up, even while "down"); 0 = ephemeral
    slow_delay_s   how long the "slow" fault sleeps (default 15 s, interruptible)
    date_offset_s  shifts the Date header of every answer (device clock-offset tests)
    validate       check request bodies and rosters against the JSON schemas
    """

    def __init__(self, token="test-token", devices=None, tls=False, cert_dir=None,
                 wrong_host=False, host="127.0.0.1", port=0, control_port=0,
                 slow_delay_s=15.0, date_offset_s=0.0, validate=True):
        self.token = token
        self.devices = None if devices is None else set(devices)
        self.tls = bool(tls)
        self.cert_dir = cert_dir
        self.wrong_host = bool(wrong_host)
        self.host = host
        self.port = port
        self.control_port = control_port
        self.slow_delay_s = float(slow_delay_s)
        self.date_offset_s = float(date_offset_s)
        self.validate = validate

        self._lock = threading.RLock()             # guards all state below
        self._changed = threading.Condition(self._lock)  # notified on every state change
        self._listener_lock = threading.Lock()     # serialises opening/closing the listener
        self._events = {}        # device_id -> [event, ...]; index i holds seq i + 1
        self._event_ids = {}     # event id -> (device_id, seq), over all devices
        self._batches = []       # received_batches log
        self._requests = []      # every API request: method, path, status, fault
        self._rosters = {}       # module_id -> {"etag", "body" (bytes), "roster"}
        self._roster_log = []
        self._injections = []    # [{"fault", "endpoints", "remaining"}], first match wins
        self._bugs = []          # tracebacks of exceptions inside the fake itself
        self._down = False
        self._refusing = False
        self._refuse_timer = None

        self._listener = None    # _Server on `port`, None while refusing/down
        self._control_server = None
        self._ssl_context = None
        self._threads = set()
        self._connections = set()
        self._own_cert_dir = False
        self._started = False
        self._stopping = threading.Event()  # set by stop(): interrupts every wait
        self._stopped = threading.Event()
        self.stop_requested = threading.Event()  # POST /_control/stop (standalone main)
        self.ca_file = None
        self.wrong_ca_file = None

    # --- life cycle ---------------------------------------------------------------------
    def start(self):
        """Binds the sockets and starts serving; returns self."""
        if self._started:
            raise RuntimeError("FakeRegistry.start() called twice")
        self._started = True
        try:
            if self.tls:
                if self.cert_dir is None:
                    self.cert_dir = tempfile.mkdtemp(prefix="fake-registry-pki-")
                    self._own_cert_dir = True
                make_test_pki(self.cert_dir)
                self.ca_file = os.path.join(self.cert_dir, "ca.pem")
                self.wrong_ca_file = os.path.join(self.cert_dir, "wrong-ca.pem")
                self._ssl_context = self._make_ssl_context()
            self._open_listener()
            self._control_server = self._serve_on((self.host, self.control_port), True)
            self.control_port = self._control_server.server_address[1]
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout=5.0):
        """Stops serving: interrupts slow answers and waits, closes every socket, joins
        every thread (at most `timeout` seconds in all), removes the temp cert dir.
        Idempotent."""
        with self._lock:
            first = not self._stopping.is_set()
            self._stopping.set()
            self._changed.notify_all()
            if self._refuse_timer is not None:
                self._refuse_timer.cancel()
        if not first:
            self._stopped.wait(timeout)
            return
        try:
            with self._listener_lock:
                self._close_server(self._listener)
                self._listener = None
                self._close_server(self._control_server)
                self._control_server = None
            self._close_connections(idle_only=False)
            deadline = time.monotonic() + timeout
            current = threading.current_thread()
            while True:
                with self._lock:
                    threads = [t for t in self._threads if t is not current and t.is_alive()]
                if not threads or time.monotonic() >= deadline:
                    break
                threads[0].join(max(0.0, deadline - time.monotonic()))
            if self._own_cert_dir and self.cert_dir:
                shutil.rmtree(self.cert_dir, ignore_errors=True)
        finally:
            self._stopped.set()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        """Base URL for the device's registry.url, e.g. http://127.0.0.1:41234."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def control_url(self):
        return f"http://{self.host}:{self.control_port}"

    # --- configuration at run time -------------------------------------------------------
    def set_token(self, token, devices=_DEFAULT):
        """Changes the accepted token (and, if given, the allowed device ids; None = any)."""
        with self._lock:
            self.token = token
            if devices is not _DEFAULT:
                self.devices = None if devices is None else set(devices)

    def serve_wrong_host(self, wrong_host=True):
        """Switches the served certificate (TLS only) for new connections."""
        if not self.tls:
            raise ValueError("serve_wrong_host needs tls=True")
        with self._lock:
            self.wrong_host = bool(wrong_host)
            self._ssl_context = self._make_ssl_context()

    def _make_ssl_context(self):
        name = "wrong-host" if self.wrong_host else "server"
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(os.path.join(self.cert_dir, name + ".pem"),
                            os.path.join(self.cert_dir, name + ".key"))
        return ctx

    # --- what the registry holds -------------------------------------------------------
    def events(self, device_id):
        """The stored events of `device_id`, in seq order (copies)."""
        with self._lock:
            return copy.deepcopy(self._events.get(device_id, []))

    def acked_through(self, device_id):
        """Highest N such that events 1..N of `device_id` are all stored (0: none)."""
        with self._lock:
            return len(self._events.get(device_id, []))

    def device_ids(self):
        with self._lock:
            return sorted(self._events)

    @property
    def received_batches(self):
        """Every events request whose body arrived, oldest first: dicts with device_id,
        first_seq, count (None if the body did not parse), gzip, wire_bytes (body bytes
        as sent), body_bytes (after decompression), status (None: no answer sent), fault,
        headers (lower-case names), at."""
        with self._lock:
            return copy.deepcopy(self._batches)

    @property
    def requests(self):
        """Every API request (not /_control/): method, path, status, fault, at."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def server_errors(self):
        """Tracebacks of exceptions inside the fake (should stay empty)."""
        with self._lock:
            return list(self._bugs)

    def seed_events(self, device_id, events):
        """Stores `events` for `device_id` as if the device had sent them (same rules:
        contiguous from acked_through + 1 or overlapping). Raises ValueError otherwise.
        For tests where the registry already holds more than the device (restored backup)."""
        events = list(events)
        body = {"device_id": device_id, "first_seq": events[0]["seq"] if events else 1,
                "events": events}
        status, answer = self._apply_batch(device_id, body)
        if status != 200:
            raise ValueError(f"seed_events: {status} {answer}")
        return answer["acked_through"]

    def reset(self):
        """Forgets events, logs, rosters and faults; brings the server up. Keeps the
        configuration (token, devices, TLS, delays)."""
        with self._lock:
            self._events.clear()
            self._event_ids.clear()
            self._batches.clear()
            self._requests.clear()
            self._rosters.clear()
            self._roster_log.clear()
            self._bugs.clear()
            self._changed.notify_all()
        self.clear()

    def wait_for(self, predicate, timeout=10.0):
        """Waits until predicate(self) is true (re-checked after every state change).
        Returns the last value of predicate(self); False/None on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate(self)
                remaining = deadline - time.monotonic()
                if value or remaining <= 0 or self._stopping.is_set():
                    return value
                self._changed.wait(min(remaining, 0.5))

    def wait_for_acked(self, device_id, seq, timeout=10.0):
        """True once acked_through(device_id) >= seq, False after `timeout` seconds."""
        return bool(self.wait_for(lambda r: r.acked_through(device_id) >= seq, timeout))

    # --- rosters ------------------------------------------------------------------------
    def set_roster(self, module_id, roster):
        """Sets what GET /api/v1/modules/{module_id}/roster answers. `roster` is the body
        (schemas/registry-roster.schema.json); module_id is filled in if missing and
        "attendees", "revoked", "keys" default to []. Returns the new ETag."""
        if not MODULE_ID_RE.match(module_id or ""):
            raise ValueError(f"bad module id {module_id!r}")
        roster = copy.deepcopy(roster)
        roster.setdefault("module_id", module_id)
        for key in ("attendees", "revoked", "keys"):
            roster.setdefault(key, [])
        if roster["module_id"] != module_id:
            raise ValueError(f"roster module_id {roster['module_id']!r} != {module_id!r}")
        if self.validate:
            problem = _schema_problem(roster, "registry-roster")
            if problem:
                raise ValueError("roster does not match registry-roster.schema.json: " + problem)
        # The ETag is a hash of the canonical body: same content, same ETag.
        body = json.dumps(roster, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        with self._lock:
            self._rosters[module_id] = {"etag": etag, "body": body, "roster": roster}
            self._changed.notify_all()
        return etag

    def remove_roster(self, module_id):
        with self._lock:
            self._rosters.pop(module_id, None)

    def roster_etag(self, module_id):
        with self._lock:
            entry = self._rosters.get(module_id)
            return entry["etag"] if entry else None

    def roster_requests(self, module_id=None):
        """Roster requests, oldest first: module_id, status (the status answered, None
        for no answer), if_none_match, fault, at."""
        with self._lock:
            return [dict(r) for r in self._roster_log
                    if module_id is None or r["module_id"] == module_id]

    def roster_request_count(self, module_id=None, status=_DEFAULT):
        return len([r for r in self.roster_requests(module_id)
                    if status is _DEFAULT or r["status"] == status])

    # --- fault injection ------------------------------------------------------------------
    def inject(self, fault, times=_DEFAULT, endpoint="events", seconds=None):
        """Makes the registry misbehave (see FAULTS).

        Request faults: the next `times` requests to `endpoint` ("events", "roster" or
        "both") get `fault`; times defaults to 1; times=None means until clear(fault).
        Several injections queue up: each request takes the oldest matching one.

        "refuse" closes the listening socket, so connection attempts are refused by the
        kernel. Refused attempts never reach the process and cannot be counted, so it
        lasts until clear() (or clear("refuse")) or, with seconds=S, S seconds. Passing
        an explicit `times` with "refuse" is an error. Keep-alive connections are closed
        too. For the whole server, down()/up() do the same without a timer."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}"
                             + (" (use down()/up() for the whole server)"
                                if fault == "down" else ""))
        if endpoint not in _ENDPOINT_CHOICES:
            raise ValueError(f"endpoint must be one of {', '.join(_ENDPOINT_CHOICES)}")
        endpoints = _ENDPOINT_CHOICES[endpoint]
        for e in endpoints:
            if e not in FAULTS[fault][0]:
                raise ValueError(f"fault {fault!r} does not apply to the {e} endpoint")
        if fault == "refuse":
            if times is not _DEFAULT:
                raise ValueError('"refuse" cannot count refused attempts (they never reach '
                                 "the server): use seconds= or clear()")
            with self._lock:
                self._refusing = True
                if self._refuse_timer is not None:
                    self._refuse_timer.cancel()
                    self._refuse_timer = None
                if seconds is not None:
                    self._refuse_timer = threading.Timer(float(seconds), self.clear, ("refuse",))
                    self._refuse_timer.daemon = True
                    self._refuse_timer.start()
            self._update_listener()
            return
        if seconds is not None:
            raise ValueError("seconds= only applies to \"refuse\"")
        if times is _DEFAULT:
            times = 1
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive integer or None (until cleared)")
        with self._lock:
            self._injections.append({"fault": fault, "endpoints": endpoints,
                                     "remaining": times})

    def clear(self, fault=None):
        """Removes injected faults (all, or those named `fault`). clear() with no argument
        also ends "refuse" and "down": the server is healthy again."""
        with self._lock:
            self._injections = [i for i in self._injections
                                if fault is not None and i["fault"] != fault]
            if fault in (None, "refuse"):
                self._refusing = False
                if self._refuse_timer is not None:
                    self._refuse_timer.cancel()
                    self._refuse_timer = None
            if fault is None:
                self._down = False
        self._update_listener()

    def faults(self):
        """The pending injections (for debugging): [{"fault", "endpoints", "remaining"}]."""
        with self._lock:
            out = [dict(i, endpoints=list(i["endpoints"])) for i in self._injections]
            if self._refusing:
                out.append({"fault": "refuse", "endpoints": ["events", "roster"],
                            "remaining": None})
            return out

    def down(self):
        """The whole server refuses connections (listening socket closed, keep-alive
        connections closed) until up(). The control port stays up."""
        with self._lock:
            self._down = True
        self._update_listener()

    def up(self):
        with self._lock:
            self._down = False
        self._update_listener()

    def _take_fault(self, endpoint):
        with self._lock:
            for inj in self._injections:
                if endpoint in inj["endpoints"]:
                    if inj["remaining"] is not None:
                        inj["remaining"] -= 1
                        if inj["remaining"] <= 0:
                            self._injections.remove(inj)
                    return inj["fault"]
        return None

    def _sleep(self, seconds):
        """Sleeps; False if stop() interrupted it."""
        return not self._stopping.wait(seconds)

    # --- listener management ------------------------------------------------------------
    def _listening(self):
        with self._lock:
            return not (self._down or self._refusing or self._stopping.is_set())

    def _update_listener(self):
        """Opens or closes the main listening socket to match down/refuse."""
        with self._listener_lock:
            if self._stopping.is_set() or not self._started:
                return
            want = self._listening()
            if want and self._listener is None:
                self._open_listener()
            elif not want and self._listener is not None:
                self._close_server(self._listener)
                self._listener = None
                self._close_connections(idle_only=True)

    def _open_listener(self):
        self._listener = self._serve_on((self.host, self.port), False)
        self.port = self._listener.server_address[1]

    def _serve_on(self, address, control_only):
        server = _Server(address, self, control_only)
        server.accept_thread = self._spawn(self._serve, (server,), "fake-registry-accept")
        return server

    def _serve(self, server):
        # Our own accept loop (instead of serve_forever) so that closing is bounded: it
        # checks `closing` every _Server.timeout seconds.
        while not server.closing.is_set():
            try:
                server.handle_request()
            except (OSError, ValueError):  # the socket was closed under us
                if server.closing.is_set():
                    break
                time.sleep(0.01)

    def _close_server(self, server):
        """Stops listening. On Linux, shutdown() of a listening socket stops it at once
        (pending connections are reset, new ones refused) even while the accept thread
        is polling it; a bare close() would only take effect when that poll returns."""
        if server is None:
            return
        server.closing.set()
        try:
            server.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if server.accept_thread is not threading.current_thread():
            server.accept_thread.join(2.0)
        server.socket.close()

    def _spawn(self, target, args, name):
        def run():
            try:
                target(*args)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())
        t = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads.add(t)
        t.start()
        return t

    def _track_connection(self, handler, alive):
        with self._lock:
            if alive:
                self._connections.add(handler)
            else:
                self._connections.discard(handler)

    def _untrack_socket(self, sock):
        """After a failed set-up (TLS handshake): forget the handler of `sock`."""
        with self._lock:
            self._connections = {h for h in self._connections
                                 if h.raw_request is not sock}

    def _close_connections(self, idle_only):
        """Shuts down the sockets of main-listener connections (all, or only idle
        keep-alive ones). Busy ones close themselves after answering (handle_one_request)."""
        with self._lock:
            victims = [h for h in self._connections
                       if not idle_only or (not h.server.control_only and not h.busy)]
        for h in victims:
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _record_bug(self):
        with self._lock:
            self._bugs.append(traceback.format_exc())
        if os.environ.get("FAKE_REGISTRY_DEBUG"):
            traceback.print_exc()

    # --- events: decoding, validation, storage -----------------------------------------
    def _decode_batch(self, headers, raw):
        """Decodes the body as sent: {"gzip", "body_bytes", "obj" or "error" (_HttpError)}.
        Errors are kept, not raised: faults and authentication come first."""
        out = {"gzip": False, "body_bytes": None, "obj": None, "error": None}
        encoding = headers.get("Content-Encoding", "").strip().lower()
        try:
            ctype = headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise _HttpError(415, "unsupported_media_type",
                                 f"Content-Type is {ctype or 'missing'}.",
                                 "Send Content-Type: application/json.")
            if encoding in ("gzip", "x-gzip"):
                out["gzip"] = True
                data = _gunzip(raw, MAX_BODY_BYTES)
            elif encoding in ("", "identity"):
                data = raw
            else:
                raise _HttpError(415, "unsupported_encoding",
                                 f"Content-Encoding {encoding} is not supported.",
                                 "Send gzip or no Content-Encoding.")
            out["body_bytes"] = len(data)
            try:
                out["obj"] = json.loads(data.decode("utf-8"), parse_constant=_no_constants)
            except ValueError as e:
                raise _HttpError(400, "malformed_request", f"The body is not JSON: {e}.",
                                 "Send the batch as UTF-8 JSON.") from None
        except _HttpError as e:
            out["error"] = e
        return out

    def _check_auth(self, authorization, device_id=None):
        """401 without the right bearer token; 403 if the token may not push for
        `device_id`."""
        challenge = {"WWW-Authenticate": 'Bearer realm="course-kiosk registry"'}
        m = re.fullmatch(r"[Bb][Ee][Aa][Rr][Ee][Rr] +(\S+) *", authorization or "")
        if not m:
            raise _HttpError(401, "unauthenticated", "No bearer token in Authorization.",
                             "Send Authorization: Bearer <the token in registry.token_file>.",
                             headers=challenge)
        with self._lock:
            token, devices = self.token, self.devices
        if not hmac.compare_digest(m.group(1).encode(), (token or "").encode()):
            raise _HttpError(401, "unauthenticated", "The registry does not know this token.",
                             "Check registry.token_file on the device.",
                             headers={"WWW-Authenticate": challenge["WWW-Authenticate"]
                                      + ', error="invalid_token"'})
        if device_id is not None and devices is not None and device_id not in devices:
            raise _HttpError(403, "device_not_allowed",
                             f"This token may not push events for device {device_id}.",
                             "Check device_id in the config, or ask for a token for it.")

    def _receive_batch(self, device_id, headers, batch):
        """The answer to an events request: (status, body, headers). Order: 401/403,
        then 415/400 for the body, then 200/409 from the stored state."""
        try:
            self._check_auth(headers.get("Authorization"), device_id)
            if batch["error"] is not None:
                raise batch["error"]
            status, body = self._apply_batch(device_id, batch["obj"])
            return status, body, {}
        except _HttpError as e:
            return e.status, e.body, e.headers

    def _apply_batch(self, device_id, body):
        """Validates a decoded batch and stores it: (status, body). The whole batch is
        checked before anything is stored (all or nothing)."""
        problem = None
        if not DEVICE_ID_RE.match(device_id):
            problem = f"the device id {device_id!r} in the path is not valid"
        elif self.validate:
            problem = _schema_problem(body, "sync-events-request")
        else:  # the bare minimum the code below relies on
            if not (isinstance(body, dict) and isinstance(body.get("device_id"), str)
                    and isinstance(body.get("first_seq"), int)
                    and isinstance(body.get("events"), list)
                    and all(isinstance(e, dict) and isinstance(e.get("seq"), int)
                            and isinstance(e.get("id"), str) for e in body["events"])):
                problem = "device_id, first_seq and events (each with seq and id) are needed"
        if problem is None:
            events = body["events"]
            if body["device_id"] != device_id:
                problem = (f"device_id {body['device_id']!r} in the body is not "
                           f"{device_id!r} of the path")
            elif events and events[0]["seq"] != body["first_seq"]:
                problem = "first_seq is not the seq of the first event"
            else:
                for i, e in enumerate(events):
                    if e["seq"] != body["first_seq"] + i:
                        problem = (f"events/{i}: seq {e['seq']} breaks the run "
                                   f"(expected {body['first_seq'] + i}; events must be "
                                   "contiguous and in seq order)")
                        break
                ids = [e["id"] for e in events]
                if problem is None and len(set(ids)) != len(ids):
                    problem = "an event id appears twice in the batch"
        if problem is not None:
            return 400, error_body("malformed_request", "The batch is not valid: " + problem,
                                   "Fix the device's batch encoding; resending it unchanged "
                                   "will fail again.")

        first = int(body["first_seq"])
        with self._lock:
            stored = self._events.setdefault(device_id, [])
            acked = len(stored)  # stored seqs are always exactly 1..acked (no holes)
            if first > acked + 1:
                # A gap: the registry never stores out of order; the device resends.
                return 409, error_body(
                    "gap", f"The registry holds this device's events up to seq {acked}; "
                    f"the batch starts at {first}.", f"Resend from seq {acked + 1}.",
                    {"expected_seq": acked + 1, "first_seq": first}, acked_through=acked)
            new = []
            for e in body["events"]:
                seq = int(e["seq"])
                if seq <= acked:
                    # Already held: the same event again is acknowledged, not stored
                    # twice; a different event under that seq is a conflict.
                    held = stored[seq - 1]
                    if held["id"] != e["id"]:
                        return 409, error_body(
                            "seq_conflict",
                            f"seq {seq} of this device is already held with event id "
                            f"{held['id']}, not {e['id']}.",
                            "The device's event log differs from what it sent before "
                            "(restored or cloned data directory?). Do not resend blindly: "
                            "report it.",
                            {"seq": seq, "held_id": held["id"], "sent_id": e["id"]},
                            acked_through=acked)
                else:
                    owner = self._event_ids.get(e["id"])
                    if owner is not None:
                        return 409, error_body(
                            "event_id_conflict",
                            f"event id {e['id']} is already held as seq {owner[1]} of "
                            f"device {owner[0]}.",
                            "An event must keep its seq and device forever. Do not resend "
                            "blindly: report it.",
                            {"seq": seq, "held_device_id": owner[0], "held_seq": owner[1]},
                            acked_through=acked)
                    new.append(e)
            for e in new:
                e = copy.deepcopy(e)
                e["seq"] = int(e["seq"])
                stored.append(e)
                self._event_ids[e["id"]] = (device_id, e["seq"])
            self._changed.notify_all()
            return 200, {"acked_through": len(stored)}

    def _log_batch(self, device_id, batch, raw, headers, status, fault):
        obj = batch["obj"] if isinstance(batch["obj"], dict) else {}
        events = obj.get("events")
        with self._lock:
            self._batches.append({
                "device_id": device_id,
                "first_seq": obj.get("first_seq"),
                "count": len(events) if isinstance(events, list) else None,
                "gzip": batch["gzip"],
                "wire_bytes": len(raw),
                "body_bytes": batch["body_bytes"],
                "status": status,
                "fault": fault,
                "headers": {k.lower(): v for k, v in headers.items()},
                "at": _now_text(),
            })
            self._changed.notify_all()

    def _log_request(self, method, path, status, fault):
        with self._lock:
            self._requests.append({"method": method, "path": path, "status": status,
                                   "fault": fault, "at": _now_text()})
            self._changed.notify_all()

    # --- roster answers -------------------------------------------------------------------
    def _roster_answer(self, module_id, authorization, if_none_match, accept_encoding):
        """(status, body bytes or None, headers) for GET .../roster."""
        try:
            self._check_auth(authorization)
        except _HttpError as e:
            return e.status, json.dumps(e.body).encode(), e.headers
        with self._lock:
            entry = self._rosters.get(module_id)
        if entry is None:
            return 404, json.dumps(error_body(
                "unknown_module", f"The registry has no module {module_id}.",
                "Check the module (cycle and number) in the device config.")).encode(), {}
        headers = {"ETag": entry["etag"], "Cache-Control": "no-cache",
                   "Vary": "Accept-Encoding"}
        if if_none_match is not None and _etag_matches(if_none_match, entry["etag"]):
            return 304, None, headers
        body = entry["body"]
        if _accepts_gzip(accept_encoding):
            body = _gzip(body)
            headers["Content-Encoding"] = "gzip"
        return 200, body, headers

    def _log_roster(self, module_id, status, headers, fault):
        with self._lock:
            self._roster_log.append({"module_id": module_id, "status": status,
                                     "if_none_match": headers.get("If-None-Match"),
                                     "fault": fault, "at": _now_text()})
            self._changed.notify_all()

    # --- control endpoints ----------------------------------------------------------------
    def _control(self, method, name, q, args):
        """CONTROL ENDPOINTS (plain JSON; on the control port and on the main port):

        GET    /_control/state                  overview: urls, devices, faults, rosters
        GET    /_control/events?device_id=D     {"device_id","acked_through","events"}
        GET    /_control/batches[?device_id=D]  {"batches": received_batches}
        GET    /_control/requests               {"requests": every API request}
        GET    /_control/roster-requests[?module_id=M]  {"requests": [...]}
        PUT    /_control/rosters/{module_id}    body: the roster -> {"module_id","etag"}
        DELETE /_control/rosters/{module_id}
        POST   /_control/inject   {"fault", "times"?: n|null, "endpoint"?, "seconds"?}
        POST   /_control/clear    {"fault"?}
        POST   /_control/down  ·  POST /_control/up
        POST   /_control/config   {"token"?, "devices"?: [..]|null, "slow_delay_s"?,
                                   "date_offset_s"?, "wrong_host"?}
        POST   /_control/seed     {"device_id", "events"}
        POST   /_control/reset
        GET    /_control/wait?device_id=D&acked_through=N&timeout=S
                                  200 {"acked_through"} once reached, 408 on timeout
        POST   /_control/stop     stops the registry (the standalone process exits)
        Returns None for an unknown endpoint."""
        key = (method, name)
        if key == ("GET", "state"):
            with self._lock:
                return {"url": self.url, "control_url": self.control_url,
                        "tls": self.tls, "ca_file": self.ca_file,
                        "wrong_ca_file": self.wrong_ca_file, "wrong_host": self.wrong_host,
                        "down": self._down, "refusing": self._refusing,
                        "devices": {d: {"acked_through": len(ev)}
                                    for d, ev in self._events.items()},
                        "faults": self.faults(),
                        "rosters": {m: r["etag"] for m, r in self._rosters.items()},
                        "batches": len(self._batches),
                        "server_errors": len(self._bugs)}
        if key == ("GET", "events"):
            device_id = q("device_id")
            if not device_id:
                raise ValueError("device_id query parameter needed")
            return {"device_id": device_id, "acked_through": self.acked_through(device_id),
                    "events": self.events(device_id)}
        if key == ("GET", "batches"):
            device_id = q("device_id")
            return {"batches": [b for b in self.received_batches
                                if device_id is None or b["device_id"] == device_id]}
        if key == ("GET", "requests"):
            return {"requests": self.requests}
        if key == ("GET", "roster-requests"):
            return {"requests": self.roster_requests(q("module_id"))}
        if name.startswith("rosters/") and method in ("PUT", "DELETE"):
            module_id = urllib.parse.unquote(name[len("rosters/"):])
            if method == "DELETE":
                self.remove_roster(module_id)
                return {"module_id": module_id}
            return {"module_id": module_id, "etag": self.set_roster(module_id, args)}
        if key == ("POST", "inject"):
            kwargs = {"endpoint": args.get("endpoint", "events"),
                      "seconds": args.get("seconds")}
            if "times" in args:
                kwargs["times"] = args["times"]
            self.inject(args["fault"], **kwargs)
            return {"faults": self.faults()}
        if key == ("POST", "clear"):
            self.clear(args.get("fault"))
            return {"faults": self.faults()}
        if key == ("POST", "down"):
            self.down()
            return {"down": True}
        if key == ("POST", "up"):
            self.up()
            return {"down": False}
        if key == ("POST", "config"):
            if "token" in args or "devices" in args:
                self.set_token(args.get("token", self.token), args.get("devices", self.devices))
            if "slow_delay_s" in args:
                self.slow_delay_s = float(args["slow_delay_s"])
            if "date_offset_s" in args:
                self.date_offset_s = float(args["date_offset_s"])
            if "wrong_host" in args:
                self.serve_wrong_host(bool(args["wrong_host"]))
            return {"token": self.token,
                    "devices": None if self.devices is None else sorted(self.devices),
                    "slow_delay_s": self.slow_delay_s, "date_offset_s": self.date_offset_s,
                    "wrong_host": self.wrong_host}
        if key == ("POST", "seed"):
            return {"acked_through": self.seed_events(args["device_id"], args["events"])}
        if key == ("POST", "reset"):
            self.reset()
            return {"reset": True}
        if key == ("GET", "wait"):
            device_id = q("device_id")
            target = int(q("acked_through", "1"))
            timeout = min(float(q("timeout", "10")), 60.0)
            if not device_id:
                raise ValueError("device_id query parameter needed")
            ok = self.wait_for_acked(device_id, target, timeout)
            return (200 if ok else 408), {"acked_through": self.acked_through(device_id)}
        if key == ("POST", "stop"):
            return {"stopping": True}  # the handler calls _request_stop() once answered
        return None

    def _request_stop(self):
        """POST /_control/stop: the standalone main loop waits for stop_requested and
        calls stop(); in-process, stop() runs in a thread of its own (not the calling
        connection's thread, which stop() would wait for)."""
        self.stop_requested.set()
        threading.Thread(target=self.stop, name="stop-requested", daemon=True).start()


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------
def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def _gunzip(data, limit):
    """gzip-decodes `data` (one or more members) into at most `limit` bytes."""
    out = bytearray()
    try:
        while True:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += d.decompress(data, limit + 1 - len(out))
            if len(out) > limit:
                raise _HttpError(413, "payload_too_large",
                                 f"The body inflates to more than {limit} bytes.",
                                 "Send fewer events per batch.")
            if not d.eof:
                raise _HttpError(400, "malformed_request", "The gzip body is truncated.",
                                 "Send the whole gzip stream.")
            data = d.unused_data
            if not data:
                return bytes(out)
    except zlib.error as e:
        raise _HttpError(400, "malformed_request", f"The body is not valid gzip: {e}.",
                         "Send gzip data with Content-Encoding: gzip, or plain JSON.") from None


def _gzip(data):
    c = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def _accepts_gzip(accept_encoding):
    for part in accept_encoding.lower().split(","):
        fields = [f.strip() for f in part.split(";")]
        if fields[0] in ("gzip", "x-gzip", "*"):
            q = next((f[2:] for f in fields[1:] if f.startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def _etag_matches(if_none_match, etag):
    """If-None-Match comparison (weak, RFC 9110 section 13.1.2): "*" or any listed tag."""
    if if_none_match.strip() == "*":
        return True
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


# ---------------------------------------------------------------------------------------
# Standalone process
# ---------------------------------------------------------------------------------------
def main(argv=None):
    p = argparse.ArgumentParser(description="Fake course-kiosk registry for tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: an ephemeral port")
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--token", default="test-token")
    p.add_argument("--devices", help="comma-separated device ids the token may push for")
    p.add_argument("--tls", metavar="CERTDIR",
                   help="serve HTTPS; the test CA and certificates are made in (or reused "
                        "from) CERTDIR: ca.pem, wrong-ca.pem, server.pem, wrong-host.pem")
    p.add_argument("--wrong-host", action="store_true",
                   help="with --tls: serve the certificate for DNS:wrong.example only")
    p.add_argument("--slow-delay", type=float, default=15.0)
    p.add_argument("--max-lifetime", type=float, default=3600.0,
                   help="exit after this many seconds whatever happens (default 3600)")
    args = p.parse_args(argv)

    reg = FakeRegistry(token=args.token, host=args.host, port=args.port,
                       control_port=args.control_port,
                       devices=args.devices.split(",") if args.devices else None,
                       tls=bool(args.tls), cert_dir=args.tls, wrong_host=args.wrong_host,
                       slow_delay_s=args.slow_delay)
    stop = reg.stop_requested
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    reg.start()
    print(f"fake-registry listening on {reg.url}", flush=True)
    print(f"fake-registry control on {reg.control_url}", flush=True)
    if reg.tls:
        print(f"fake-registry ca_file {reg.ca_file}", flush=True)
        print(f"fake-registry wrong_ca_file {reg.wrong_ca_file}", flush=True)
    deadline = time.monotonic() + args.max_lifetime
    while not stop.wait(0.5) and time.monotonic() < deadline:
        pass
    reg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
