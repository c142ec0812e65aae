"""course-registry serving one fresh database, for tests that speak the sync protocol
to it (test_13_registry_protocol.py). It offers the registry interface of
test_fake_registry.EventsProtocol: url, port, token_for(device_id), events(device_id),
acked_through(device_id) and seed_events(device_id, events).

    with CourseRegistry(pg, "reg1") as reg:   # pg: a started PgCluster; reg1: empty
        reg.url                                # http://127.0.0.1:PORT
        reg.token_for("lille-hall-a")          # that device's bearer token
        reg.events("lille-hall-a")             # the stored bodies, in seq order
    reg.returncode                             # 0 once SIGTERM stopped it cleanly

start() runs migrate, module add (kiosk.MODULE), device add for each device, then
`serve --listen 127.0.0.1:0` and waits (bounded) for its "listening on URL" line.
Standard output and standard error are read by threads for the whole run, so the
server never blocks on a full pipe; stderr_text holds what it wrote, for failure
messages.
"""
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from kiosk import MODULE, MODULE_ID

REGISTRY_BIN = os.environ.get("COURSE_REGISTRY_BIN", "course-registry")
DEVICES = ("lille-hall-a", "other", "other-device", "another-device")
LISTENING_RE = re.compile(r"^course-registry: listening on (http://[^\s/]+:(\d+))$")
START_TIMEOUT_S = 10
STOP_TIMEOUT_S = 5


def run(*args, env=None, check=True, input=None):
    """course-registry ARGS to its end (at most 60 s), `input` on its standard input: the
    CompletedProcess (text). With check, a non-zero exit is an AssertionError showing its
    stderr."""
    proc = subprocess.run([REGISTRY_BIN, *args], capture_output=True, text=True, timeout=60,
                          env=env, input=input)
    if check and proc.returncode != 0:
        raise AssertionError(f"course-registry {' '.join(args)} exited {proc.returncode}: "
                             f"{proc.stderr}")
    return proc


def _sql_text(value):
    """`value` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


class CourseRegistry:
    def __init__(self, pg, database, devices=DEVICES):
        self.pg = pg
        self.database = database
        self.db = pg.conninfo(database)
        self.devices = list(devices)
        self.tokens = {}          # device id -> bearer token (from device add)
        self.url = None
        self.port = None
        self.returncode = None    # once stopped (negative: killed by that signal)
        self.killed = False       # True if it outlived SIGTERM by STOP_TIMEOUT_S
        self.proc = None
        self._tmp = None
        self._lines = queue.Queue()  # stdout lines, then None at its end
        self._stdout = []
        self._stderr = []
        self._readers = []

    # --- life cycle ---------------------------------------------------------------------
    def start(self):
        """Sets up the database and starts serving; returns self. On failure everything
        started is stopped again and the error names what went wrong."""
        try:
            self._tmp = tempfile.mkdtemp(prefix="ck-course-registry-")
            run("migrate", "--db", self.db)
            module_file = os.path.join(self._tmp, "module.json")
            with open(module_file, "w", encoding="utf-8") as f:
                json.dump(MODULE, f)
            run("module", "add", "--db", self.db, module_file)
            for device in self.devices:
                self.tokens[device] = run("device", "add", "--db", self.db, device,
                                          "--module", MODULE_ID).stdout.strip()
            self._serve()
        except BaseException:
            self.stop()
            raise
        return self

    def another_process(self, port=0):
        """A second `serve` on the same database (as behind a load balancer, or after a
        crash), with the same tokens and no set-up; on `port` (0: any free one)."""
        other = CourseRegistry(self.pg, self.database, devices=())
        other.tokens = dict(self.tokens)
        try:
            other._tmp = tempfile.mkdtemp(prefix="ck-course-registry-")
            other._serve(port)
        except BaseException:
            other.stop()
            raise
        return other

    def kill(self):
        """SIGKILL: the process dies without cleaning up, as in a crash."""
        self.proc.kill()
        self._finish(self.proc.wait(STOP_TIMEOUT_S))

    def _serve(self, port=0):
        self.proc = subprocess.Popen(
            [REGISTRY_BIN, "serve", "--db", self.db, "--listen", f"127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace")
        self._readers = [
            threading.Thread(target=self._read_stdout, name="course-registry-stdout",
                             daemon=True),
            threading.Thread(target=self._read_stderr, name="course-registry-stderr",
                             daemon=True)]
        for t in self._readers:
            t.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
                if line is None:
                    break  # stdout ended: the process is exiting
                m = LISTENING_RE.match(line.rstrip("\n"))
                if m:
                    self.url, self.port = m.group(1), int(m.group(2))
                    return
        except queue.Empty:
            raise AssertionError(
                f"course-registry serve printed no 'listening on' line within "
                f"{START_TIMEOUT_S} s; stdout: {self.stdout_text!r}; stderr: "
                f"{self.stderr_text!r}") from None
        self._finish(self.proc.wait(STOP_TIMEOUT_S))
        raise AssertionError(f"course-registry serve exited {self.returncode} before it "
                             f"listened; stdout: {self.stdout_text!r}; stderr: "
                             f"{self.stderr_text}")

    def _read_stdout(self):
        for line in self.proc.stdout:
            self._stdout.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line)

    def stop(self):
        """SIGTERM, then waits at most STOP_TIMEOUT_S (and kills it after that). Sets
        returncode; asserts nothing. Idempotent."""
        if self.proc is not None and self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                code = self.proc.wait(STOP_TIMEOUT_S)
            self._finish(code)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _finish(self, code):
        """The process is gone: collect the rest of its output, close the pipes."""
        self.returncode = code
        for t in self._readers:
            t.join(STOP_TIMEOUT_S)  # the pipes end with the process
        self.proc.stdout.close()
        self.proc.stderr.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def stdout_text(self):
        return "".join(self._stdout)

    @property
    def stderr_text(self):
        return "".join(self._stderr)

    # --- the registry interface of EventsProtocol -----------------------------------------
    def token_for(self, device_id):
        return self.tokens[device_id]

    def events(self, device_id):
        """The stored event objects of `device_id` (the events.body column), in seq order."""
        out = self.pg.sql(self.database, "SELECT body::text FROM events WHERE device_id = "
                                         f"{_sql_text(device_id)} ORDER BY seq")
        return [json.loads(line) for line in out.splitlines()]

    def acked_through(self, device_id):
        # Events are stored only in order, without holes: the highest seq held.
        return int(self.pg.sql(self.database, "SELECT coalesce(max(seq), 0) FROM events "
                                              f"WHERE device_id = {_sql_text(device_id)}"))

    def seed_events(self, device_id, events):
        """Stores `events` for `device_id` by pushing them as the device would; returns
        the new acked_through. Raises ValueError if the registry does not answer 200."""
        events = list(events)
        body = {"device_id": device_id, "first_seq": events[0]["seq"] if events else 1,
                "events": events}
        req = urllib.request.Request(
            f"{self.url}/api/v1/devices/{device_id}/events", method="POST",
            data=json.dumps(body).encode("utf-8"),
            headers={"Authorization": "Bearer " + self.token_for(device_id),
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())["acked_through"]
        except urllib.error.HTTPError as e:
            raise ValueError(f"seed_events: {e.code} {e.read()!r}") from None
