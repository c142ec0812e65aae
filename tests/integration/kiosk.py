"""Test harness: the real course-kiosk binary on an ephemeral port over a temporary
data directory. Standard library only, plus jsonschema for validating answers.

Environment (set by CTest): COURSE_KIOSK_BIN, COURSE_KIOSK_SOURCE_DIR.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import jsonschema

BIN = os.environ.get("COURSE_KIOSK_BIN", "course-kiosk")
SOURCE_DIR = os.environ.get("COURSE_KIOSK_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA_DIR = os.path.join(SOURCE_DIR, "schemas")

# A module in Europe/Paris; tests pin the device clock with COURSE_KIOSK_FAKE_TIME.
MODULE = {
    "cycle": "2026-2", "number": 3, "venue": "Lille", "timezone": "Europe/Paris",
    "checkin_opens_before_min": 60, "late_after_min": 15,
    "days": [
        {"date": "2026-11-23", "sessions": [
            {"id": "d1-am", "label": "Monday morning", "start": "08:30", "end": "12:30",
             "cme_hours": 3.5},
            {"id": "d1-pm", "label": "Monday afternoon", "start": "14:00", "end": "18:00",
             "cme_hours": 3.5}]},
        {"date": "2026-11-24", "sessions": [
            {"id": "d2-am", "label": "Tuesday morning", "start": "08:30", "end": "12:30",
             "cme_hours": 3.5}]},
    ],
}
MODULE_ID = "ecnr-2026-2-m3"
IN_MORNING = "2026-11-23T08:40:00+01:00"  # d1-am open, not late
LATE_MORNING = "2026-11-23T10:00:00+01:00"  # d1-am open, late
BETWEEN = "2026-11-23T12:45:00+01:00"  # no window open; d1-pm opens at 13:00

_schema_cache = {}


def schema(name):
    if name not in _schema_cache:
        with open(os.path.join(SCHEMA_DIR, name + ".schema.json"), encoding="utf-8") as f:
            _schema_cache[name] = json.load(f)
    return _schema_cache[name]


def validate(instance, name):
    """Validates `instance` against schemas/<name>.schema.json (draft 2020-12)."""
    s = schema(name)
    jsonschema.Draft202012Validator(
        s, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(instance)


def run(*args, input=None, env=None, check=True):
    """Runs the binary; returns CompletedProcess (text)."""
    proc = subprocess.run([BIN, *args], input=input, capture_output=True, text=True,
                          env=env, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}: {proc.stderr}")
    return proc


class DataDir:
    """A temporary data directory initialised from a config."""

    def __init__(self, module=None, extra_config=None, key_from=None):
        self.path = tempfile.mkdtemp(prefix="ck-test-")
        self.data = os.path.join(self.path, "data")
        config = {"device_id": "test-kiosk", "module": module or MODULE}
        config.update(extra_config or {})
        self.config_path = os.path.join(self.path, "config.json")
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        if key_from is not None:  # share a signing key with another device
            os.makedirs(os.path.join(self.data, "keys"), mode=0o700)
            shutil.copy(os.path.join(key_from.data, "keys", "signing-key.pem"),
                        os.path.join(self.data, "keys", "signing-key.pem"))
        run("init", "--data", self.data, "--config", self.config_path)

    def import_roster(self, rows):
        path = os.path.join(self.path, "roster.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("id,family_name,given_name,country\n")
            for r in rows:
                f.write(",".join(r) + "\n")
        return run("roster", "import", "--data", self.data, path, check=False)

    def credential(self, attendee_id):
        out = run("credential", "--data", self.data, attendee_id).stdout
        line = out.strip().split("\n")[0]
        aid, text = line.split("\t")
        assert aid == attendee_id
        return text

    def reissue(self, attendee_id):
        """`course-kiosk credential --reissue`: revokes the attendee's current badge; returns
        the new credential text."""
        out = run("credential", "--data", self.data, "--reissue", attendee_id).stdout
        aid, text = out.strip().split("\n")[0].split("\t")
        assert aid == attendee_id
        return text

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Server:
    """`course-kiosk serve` on 127.0.0.1 and a free port."""

    def __init__(self, data_dir, fake_time=IN_MORNING, trusted=True, extra_env=None,
                 listen="127.0.0.1:0", args=(), log_path=None):
        """`trusted`: True or False forces the clock's trust state; None leaves it to the
        device (COURSE_KIOSK_CLOCK_TRUSTED unset). `args` are added to the command line.
        `log_path`: append the server's log (standard error) to this file instead of a
        pipe nobody reads, for tests that make it log a lot or read it."""
        env = dict(os.environ)
        env["COURSE_KIOSK_FAKE_TIME"] = fake_time
        if trusted is None:
            env.pop("COURSE_KIOSK_CLOCK_TRUSTED", None)
        else:
            env["COURSE_KIOSK_CLOCK_TRUSTED"] = "1" if trusted else "0"
        env.update(extra_env or {})
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data", data_dir.data, "--listen", listen, *args],
            stdout=subprocess.PIPE, stderr=self._log or subprocess.PIPE, text=True, env=env)
        self.port = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            if self._log:
                self._log.close()
                with open(log_path, encoding="utf-8") as f:
                    raise AssertionError("server did not start: " + f.read()[-2000:])
            raise AssertionError("server did not start: " + self.proc.stderr.read())

    def request(self, method, path, body=None, headers=None, raw=None):
        """Returns (status, headers dict, parsed JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = dict(headers or {})
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        ctype = resp.getheader("Content-Type", "")
        parsed = json.loads(data) if "json" in ctype and data else data.decode("utf-8", "replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed

    def checkin(self, credential):
        return self.request("POST", "/api/v1/checkins", {"credential": credential})

    def kill(self):
        """SIGKILL: a power cut as far as the process can tell."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._close_pipes()

    def stop(self):
        """SIGTERM; the server must then exit 0 within 10 s. Under the sanitizers a leak
        or an error report makes that exit code non-zero, and the test fails with it."""
        failure = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                # Reads the pipes meanwhile: a server blocked writing its log cannot exit.
                _, err = self.proc.communicate(timeout=30)
                if self.proc.returncode != 0:
                    failure = (f"the server exited {self.proc.returncode} after SIGTERM:\n"
                               + self._log_tail(err))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                failure = "the server did not stop within 30 s of SIGTERM"
        self._close_pipes()
        if failure:
            raise AssertionError(failure)

    def _log_tail(self, err):
        if getattr(self, "_log", None):
            self._log.flush()
            with open(self._log.name, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        return (err or "")[-4000:]

    def _close_pipes(self):
        for pipe in (self.proc.stdout, self.proc.stderr, getattr(self, "_log", None)):
            if pipe:
                pipe.close()


ROSTER = [
    ("A001", "Kowalska", "Anna", "PL"),
    ("A002", "Müller", "Lukas", "DE"),
    ("A003", "Dubois", "Chloé", "FR"),
]


def routes():
    """`course-kiosk routes`: the route table, [{"method", "pattern", "access"}]."""
    return json.loads(run("routes").stdout)


def add_staff(data_dir, name, password, check=True, role=None):
    """`course-kiosk staff add --data D NAME [--role ROLE]` with the password on standard
    input."""
    extra = ("--role", role) if role else ()
    return run("staff", "add", "--data", data_dir.data, *extra, name, input=password + "\n",
               check=check)


STAFF_COOKIE = "ck_staff"  # the session cookie's name


class StaffSession:
    """A logged-in staff member: the session cookie and the CSRF token."""

    def __init__(self, server, username, token, csrf_token, login_headers):
        self.server = server
        self.username = username
        self.token = token
        self.csrf_token = csrf_token
        self.login_headers = login_headers

    @property
    def cookie(self):
        return STAFF_COOKIE + "=" + self.token

    def request(self, method, path, body=None, headers=None, raw=None, csrf=True):
        """Like Server.request, with the cookie and (unless csrf=False) X-CSRF-Token."""
        hdrs = {"Cookie": self.cookie}
        if csrf:
            hdrs["X-CSRF-Token"] = self.csrf_token
        hdrs.update(headers or {})
        return self.server.request(method, path, body, headers=hdrs, raw=raw)

    def logout(self):
        return self.request("DELETE", "/api/v1/session")


def staff_login(server, username, password):
    """POST /api/v1/session; returns a StaffSession or raises AssertionError."""
    status, headers, body = server.request("POST", "/api/v1/session",
                                           {"username": username, "password": password})
    if status != 200:
        raise AssertionError(f"login as {username} answered {status}: {body}")
    cookie = headers.get("set-cookie", "")
    m = re.match(STAFF_COOKIE + r"=([^;]*)", cookie)
    if not m:
        raise AssertionError("login set no session cookie: " + cookie)
    return StaffSession(server, body["username"], m.group(1), body["csrf_token"], headers)


PHONE_COOKIE = "ck_phone"  # the cookie that remembers an identified phone


def decode_qr_svg(svg_text, width=600):
    """Renders an SVG QR code (a standalone document or an inline <svg> element) with
    rsvg-convert on white and decodes it with zbarimg; returns the decoded text (one line per
    symbol found, "" if none). Needs rsvg-convert (librsvg2-bin) and zbarimg (zbar-tools)."""
    text = svg_text.strip()
    if not text.startswith("<?xml"):
        if "xmlns=" not in text.split(">", 1)[0]:
            text = text.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + text
    tmp = tempfile.mkdtemp(prefix="ck-qr-")
    try:
        svg = os.path.join(tmp, "code.svg")
        png = os.path.join(tmp, "code.png")
        with open(svg, "w", encoding="utf-8") as f:
            f.write(text)
        subprocess.run(["rsvg-convert", "-w", str(width), "-b", "white", "-o", png, svg],
                       check=True, capture_output=True, timeout=60)
        out = subprocess.run(["zbarimg", "--raw", "-q", png], capture_output=True, text=True,
                             timeout=60)
        return out.stdout.rstrip("\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
