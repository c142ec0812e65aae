"""`course-registry serve --demo` (SPEC section 9, README "The registry demo"): its own
PostgreSQL cluster, the four editions of a cycle with attendees across them, a staff
account, and a device config with which `course-kiosk serve --demo --config` syncs to it;
one check-in at that kiosk completes module 3 and with it A001's ECNR cycle.
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
import unittest
import urllib.error
import urllib.request

from test_14_registry_sync import poll

REGISTRY_BIN = os.environ.get("COURSE_REGISTRY_BIN", "course-registry")
KIOSK_BIN = os.environ.get("COURSE_KIOSK_BIN", "course-kiosk")
START_TIMEOUT_S = 60   # initdb, then the demo's records
SYNC_TIMEOUT_S = 30


class Process:
    """A serving process whose standard output is read line by line by a thread."""

    def __init__(self, argv, cwd, env=None):
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern, timeout=START_TIMEOUT_S):
        """The first match of `pattern` in a line (already read or to come), within timeout."""
        for line in self.lines:
            m = re.search(pattern, line)
            if m:
                return m
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n" +
                                     "\n".join(self.lines))
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"exited ({self.proc.wait()}) before {pattern!r}:\n" +
                                     "\n".join(self.lines))
            self.lines.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def stop(self, sig=signal.SIGINT, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        self.proc.stdout.close()
        return self.proc.returncode


def http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


class RegistryDemoTest(unittest.TestCase):
    def setUp(self):
        # PostgreSQL runs as `postgres` when the tests run as root: it must reach the
        # directory (mkdtemp makes it private to root).
        self.tmp = tempfile.mkdtemp(prefix="ck-registry-demo-")
        os.chmod(self.tmp, 0o755)
        self.env = {k: v for k, v in os.environ.items() if k != "COURSE_KIOSK_CLOCK_TRUSTED"}
        self.processes = []

    def tearDown(self):
        for p in reversed(self.processes):
            p.stop()
        data = os.path.join(self.tmp, "registry-data")
        if os.path.exists(os.path.join(data, "db", "postmaster.pid")):  # a failed test
            subprocess.run(["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0) +
                           ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", os.path.join(data, "db"),
                            "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_registry(self):
        reg = Process([REGISTRY_BIN, "serve", "--demo", "--listen", "127.0.0.1:0"], self.tmp,
                      self.env)
        self.processes.append(reg)
        url = reg.wait_for(r"listening on (http://127\.0\.0\.1:\d+)$").group(1)
        m = reg.wait_for(r"Office: +(\S+)/office +\(login (\S+) / (\S+)\)")
        self.assertEqual(m.group(1), url)
        config = reg.wait_for(r"device config (\S+)\):").group(1)
        reg.wait_for(r"^Stop with Ctrl\+C")
        return reg, url, (m.group(2), m.group(3)), config

    def office_login(self, url, login):
        status, headers, body = http("POST", url + "/api/v1/session",
                                     {"username": login[0], "password": login[1]})
        self.assertEqual(status, 200, body)
        cookie = headers["Set-Cookie"].split(";")[0]
        return {"Cookie": cookie}

    def progress(self, url, cookie, attendee_id):
        status, _, body = http("GET", f"{url}/api/v1/attendees/{attendee_id}/progress",
                               headers=cookie)
        self.assertEqual(status, 200, body)
        return body

    def test_demo_registry_and_kiosk(self):
        reg, url, login, config_path = self.start_registry()
        self.assertTrue(any("making the demo's PostgreSQL cluster" in l for l in reg.lines))
        data = os.path.join(self.tmp, "registry-data")
        self.assertEqual(os.path.dirname(config_path), data)
        for private in ("office-password", "demo-kiosk.token", "demo-kiosk.json"):
            self.assertEqual(os.stat(os.path.join(data, private)).st_mode & 0o077, 0, private)
        cookie = self.office_login(url, login)

        # The story the demo tells: A001 has modules 1, 2 and 4 and 8 of module 3's 10
        # sessions; the edition counts with 9 of them.
        anna = self.progress(url, cookie, "A001")
        self.assertEqual(anna["name"], "Anna Kowalska")
        for n in ("1", "2", "4"):
            self.assertTrue(anna["modules"][n]["attendance_complete"], anna)
        m3 = anna["modules"]["3"]
        self.assertEqual((m3["sessions_attended"], m3["sessions_total"],
                          m3["attendance_complete"]), (8, 10, False), m3)
        self.assertFalse(anna["cycle_complete"])
        # Module 4's two kiosks add up; one void from the other kiosk makes a record
        # disagree; one check-in was taken with an untrusted clock.
        chloe = self.progress(url, cookie, "A005")["modules"]["4"]
        self.assertEqual((chloe["sessions_attended"], chloe["disagreement"]), (9, True), chloe)
        self.assertEqual(len(chloe["device_records"]), 2)
        tomas = self.progress(url, cookie, "A010")["modules"]["4"]
        self.assertEqual((tomas["attendance_complete"], tomas["clock_untrusted"]), (True, 1))
        status, _, editions = http("GET", url + "/api/v1/editions", headers=cookie)
        self.assertEqual(status, 200, editions)
        ids = sorted(e["module_id"] for e in editions["editions"])
        self.assertEqual([i[-2:] for i in ids], ["m1", "m2", "m3", "m4"], ids)
        self.assertEqual(len({i[:-3] for i in ids}), 1, ids)  # one cycle

        # The kiosk the registry configured, checking A001 in: the cycle completes.
        kiosk = Process([KIOSK_BIN, "serve", "--demo", "--config", config_path, "--data",
                         os.path.join(data, "kiosk"), "--listen", "127.0.0.1:0"], self.tmp,
                        self.env)
        self.processes.append(kiosk)
        kiosk_url = kiosk.wait_for(r"listening on (http://127\.0\.0\.1:\d+)$").group(1)
        credential = kiosk.wait_for(r"\(A001\): ([A-Z2-7]+)$").group(1)
        status, _, body = http("POST", kiosk_url + "/api/v1/checkins",
                               {"credential": credential})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["checkin"]["session_id"][:3], "d5-")
        checked_in_at = body["checkin"]["at_unix"]
        anna = poll(lambda: (lambda p: p if p["cycle_complete"] else None)(
            self.progress(url, cookie, "A001")), SYNC_TIMEOUT_S, "A001's cycle complete")
        self.assertEqual(anna["modules"]["3"]["sessions_attended"], 9)
        completed = anna["cycle_completed_at"]
        self.assertEqual(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(checked_in_at)),
                         completed)
        # Someone who never came to module 4 completes module 3, not a cycle.
        proc = subprocess.run([KIOSK_BIN, "credential", "--data", os.path.join(data, "kiosk"),
                               "A016"], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        status, _, body = http("POST", kiosk_url + "/api/v1/checkins",
                               {"credential": proc.stdout.split("\t")[1].strip()})
        self.assertEqual(status, 201, body)
        other = poll(lambda: (lambda p: p if p["modules"]["3"]["attendance_complete"] else None)(
            self.progress(url, cookie, "A016")), SYNC_TIMEOUT_S, "A016's module 3 complete")
        self.assertIsNone(other["modules"]["4"])
        self.assertFalse(other["cycle_complete"])
        self.assertEqual(kiosk.stop(), 0, "\n".join(kiosk.lines))
        self.processes.remove(kiosk)

        # Ctrl+C stops the registry and its PostgreSQL; the next start reuses both.
        self.assertEqual(reg.stop(), 0, "\n".join(reg.lines))
        self.processes.remove(reg)
        self.assertFalse(os.path.exists(os.path.join(data, "db", "postmaster.pid")),
                         "PostgreSQL still runs")
        reg, url, login2, _ = self.start_registry()
        self.assertEqual(login2, login)
        self.assertTrue(any("starting the demo's PostgreSQL cluster" in l for l in reg.lines))
        cookie = self.office_login(url, login)
        self.assertTrue(self.progress(url, cookie, "A001")["cycle_complete"])
        with open(config_path) as f:
            self.assertEqual(json.load(f)["registry"]["url"], url)

    def test_refuses_a_directory_that_is_not_a_demo(self):
        data = os.path.join(self.tmp, "registry-data")
        os.makedirs(data)
        with open(os.path.join(data, "notes.txt"), "w") as f:
            f.write("mine\n")
        proc = subprocess.run([REGISTRY_BIN, "serve", "--demo", "--listen", "127.0.0.1:0"],
                              cwd=self.tmp, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("not a registry demo", proc.stderr)
        self.assertTrue(os.path.exists(os.path.join(data, "notes.txt")))

    def test_data_goes_with_demo(self):
        proc = subprocess.run([REGISTRY_BIN, "serve", "--data", self.tmp],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--data goes with --demo", proc.stderr)

    @unittest.skipUnless(os.geteuid() == 0, "PostgreSQL runs as postgres only under root")
    def test_a_directory_postgres_cannot_reach(self):
        private = tempfile.mkdtemp(prefix="ck-private-")  # 0700, root's
        try:
            proc = subprocess.run([REGISTRY_BIN, "serve", "--demo", "--data",
                                   os.path.join(private, "registry-data")],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("the postgres user cannot reach", proc.stderr)
        finally:
            shutil.rmtree(private, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
