"""Faults a venue device meets, and what must hold through them (issue 7):

- power cuts: SIGKILL at random moments under continuous check-in load, 20 times; every
  check-in that got a 2xx is there afterwards, with the same id, the store opens, the
  event log has no gap and reaches the registry exactly once, in order;
- a full LMDB map and a full disk: 507 storage_full in the error envelope and a log
  line, nothing acknowledged lost, and normal service once the map grows or space is
  freed;
- a data directory that is missing or read-only, and secrets other users may read: one
  clear message and exit code 1.
"""
import http.client
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from fake_registry import FakeRegistry
from kiosk import BIN, DataDir, Server, add_staff, run, staff_login

DEVICE = "test-kiosk"
STAFF = ("faults", "faults-password-1")
NO_LIMITS = {"checkin_burst_per_client": 1000000, "checkins_per_client_per_s": 100000}


def roster_rows(count, prefix):
    return [(f"{prefix}{i:05d}", f"Family{i}", "Given", "FR") for i in range(count)]


def all_credentials(data):
    """{attendee_id: credential} for every rostered attendee (`course-kiosk credential`)."""
    out = run("credential", "--data", data.data).stdout
    return dict(line.split("\t") for line in out.strip().split("\n"))


def private_file(directory, name, content):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)
    os.chmod(path, 0o600)
    return path


def exported_checkins(server):
    """{attendee_id: [check-in id, ...]} from the staff JSON export."""
    session = staff_login(server, *STAFF)
    status, _, body = session.request("GET", "/api/v1/export?format=json")
    assert status == 200, body
    return {a["id"]: [c["id"] for c in a["checkins"]] for a in body["attendees"]
            if a["checkins"]}


def sync_state(server):
    session = staff_login(server, *STAFF)
    status, _, body = session.request("GET", "/api/v1/sync")
    assert status == 200, body
    return body


def post_checkin(port, credential, timeout=10):
    """(status, body) of one check-in on a new connection; raises OSError when the server
    is gone (the outcome is then unknown: maybe stored, maybe not)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/checkins", body=json.dumps({"credential": credential}),
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        return res.status, json.loads(res.read() or b"{}")
    finally:
        conn.close()


class Load:
    """Threads posting distinct check-ins to whatever port the server has now. Records,
    per attendee, the check-in id of every 2xx answer; a failed exchange leaves the
    outcome unknown and the attendee is tried again later (201 if it was not stored,
    200 already_checked_in with the same check-in if it was)."""

    def __init__(self, credentials, threads=4):
        self.port = None
        self.lock = threading.Lock()
        self.acknowledged = {}   # attendee -> check-in id, from 201 or 200
        self.mismatches = []     # a 2xx naming another check-in than an earlier 2xx
        self.unexpected = []     # statuses other than 2xx, 503 while starting
        self.unknown = 0         # exchanges cut by a kill
        self.stop = threading.Event()
        items = list(credentials.items())
        self.threads = [threading.Thread(target=self.run, args=(items[k::threads],))
                        for k in range(threads)]

    def start(self, port):
        self.port = port
        for t in self.threads:
            t.start()

    def count(self):
        with self.lock:
            return len(self.acknowledged)

    def run(self, todo):
        todo = list(todo)
        while todo and not self.stop.is_set():
            attendee, credential = todo[0]
            try:
                status, body = post_checkin(self.port, credential)
            except (OSError, http.client.HTTPException, ValueError):
                with self.lock:
                    self.unknown += 1
                todo.append(todo.pop(0))  # try this one again later
                time.sleep(0.005)  # the server is restarting: do not spin
                continue
            if status in (200, 201):
                checkin_id = body["checkin"]["id"]
                with self.lock:
                    earlier = self.acknowledged.setdefault(attendee, checkin_id)
                    if earlier != checkin_id:
                        self.mismatches.append((attendee, earlier, checkin_id))
                todo.pop(0)
            else:
                with self.lock:
                    self.unexpected.append((attendee, status, body))
                todo.pop(0)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


class PowerCutTest(unittest.TestCase):
    KILLS = 20

    def test_twenty_kills_under_load_lose_nothing(self):
        seed = int(os.environ.get("CK_POWERCUT_SEED", str(random.randrange(1 << 30))))
        rng = random.Random(seed)
        tmp = tempfile.mkdtemp(prefix="ck-powercut-")
        self.addCleanup(shutil.rmtree, tmp, True)
        log_path = os.path.join(tmp, "server.log")
        with FakeRegistry(token="power-cut-token") as registry:
            token = private_file(tmp, "token", "power-cut-token\n")
            data = DataDir(extra_config={
                "limits": NO_LIMITS,
                "registry": {"url": registry.url, "token_file": token, "interval_s": 5,
                             "timeout_s": 5}})
            self.addCleanup(data.cleanup)
            self.assertEqual(data.import_roster(roster_rows(8000, "PC")).returncode, 0)
            add_staff(data, *STAFF)
            credentials = all_credentials(data)

            load = Load(credentials)
            server = Server(data, log_path=log_path)
            load.start(server.port)
            kills = []
            try:
                for kill in range(self.KILLS):
                    # Under load: wait for the server to acknowledge a few check-ins
                    # since it started (bounded), then cut it at a random moment.
                    floor = load.count() + 5
                    deadline = time.monotonic() + 60
                    while load.count() < floor and time.monotonic() < deadline:
                        time.sleep(0.01)
                    self.assertGreaterEqual(load.count(), floor,
                                            f"no check-in acknowledged before kill {kill + 1}")
                    time.sleep(rng.uniform(0.0, 0.25))
                    server.kill()
                    kills.append(load.count())
                    server = Server(data, log_path=log_path)  # the store must open
                    load.port = server.port
            finally:
                load.finish()
            try:
                self.assertEqual(len(kills), self.KILLS)
                self.assertEqual(load.mismatches, [], f"seed {seed}")
                self.assertEqual(load.unexpected, [], f"seed {seed}")
                acknowledged = dict(load.acknowledged)

                # Every acknowledged check-in is there, with the id it was answered with;
                # nobody has two.
                stored = exported_checkins(server)
                for attendee, checkin_id in acknowledged.items():
                    self.assertEqual(stored.get(attendee), [checkin_id],
                                     f"{attendee} (seed {seed})")
                for attendee, ids in stored.items():
                    self.assertEqual(len(ids), 1, f"{attendee} (seed {seed})")

                # Sync resumes: the registry ends with every event once, in order.
                last_seq = sync_state(server)["last_seq"]
                self.assertEqual(last_seq, sum(len(v) for v in stored.values()))
                self.assertTrue(registry.wait_for_acked(DEVICE, last_seq, timeout=120),
                                f"registry at {registry.acked_through(DEVICE)} of {last_seq}")
                events = registry.events(DEVICE)
                self.assertEqual([e["seq"] for e in events], list(range(1, last_seq + 1)))
                self.assertEqual({e["id"] for e in events},
                                 {i for ids in stored.values() for i in ids})
            finally:
                server.stop()
            # The store opens cleanly for the doctor too.
            proc = run("doctor", "--data", data.data, check=False)
            store_line = [line for line in proc.stdout.splitlines() if " store " in line]
            self.assertTrue(store_line and store_line[0].startswith("ok"), proc.stdout)
            print(f"power cuts: {self.KILLS} kills (seed {seed}), {len(acknowledged)} "
                  f"check-ins acknowledged, {load.unknown} exchanges cut, "
                  f"acknowledged at each kill: {kills}")


class FullStoreTest(unittest.TestCase):
    def fill_until_refused(self, server, credentials):
        """Check-ins until the first refusal; returns ({attendee: id}, refusal body)."""
        acknowledged = {}
        for attendee, credential in credentials:
            status, body = post_checkin(server.port, credential)
            if status != 201:
                self.assertEqual(status, 507, body)
                return acknowledged, body
            acknowledged[attendee] = body["checkin"]["id"]
        self.fail(f"the store took all {len(acknowledged)} check-ins")

    def assert_envelope(self, body):
        self.assertEqual(body["error"]["code"], "storage_full", body)
        self.assertTrue(body["error"]["message"])
        self.assertTrue(body["error"]["hint"])

    def test_full_map_then_a_larger_map(self):
        tmp = tempfile.mkdtemp(prefix="ck-fullmap-")
        self.addCleanup(shutil.rmtree, tmp, True)
        data = DataDir(extra_config={"limits": dict(NO_LIMITS, store_map_mb=1)})
        self.addCleanup(data.cleanup)
        self.assertEqual(data.import_roster(roster_rows(3000, "FM")).returncode, 0)
        add_staff(data, *STAFF)
        credentials = sorted(all_credentials(data).items())
        log_path = os.path.join(tmp, "server.log")

        server = Server(data, log_path=log_path)
        try:
            acknowledged, refusal = self.fill_until_refused(server, credentials)
            self.assert_envelope(refusal)
            self.assertGreater(len(acknowledged), 0)
            # Still serving: reads work, and a repeat needs no space.
            status, body = post_checkin(server.port, credentials[0][1])
            self.assertEqual((status, body["checkin"]["id"]),
                             (200, acknowledged[credentials[0][0]]))
            self.assertEqual(server.request("GET", "/healthz")[0], 200)
        finally:
            server.stop()
        with open(log_path, encoding="utf-8") as f:
            self.assertIn("MDB_MAP_FULL", f.read())

        # The operator raises the map: everything is there and check-ins go on.
        with open(data.config_path, encoding="utf-8") as f:
            config = json.load(f)
        config["limits"]["store_map_mb"] = 16
        with open(data.config_path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        run("init", "--data", data.data, "--config", data.config_path)
        server = Server(data, log_path=log_path)
        try:
            stored = exported_checkins(server)
            for attendee, checkin_id in acknowledged.items():
                self.assertEqual(stored.get(attendee), [checkin_id], attendee)
            self.assertEqual(len(stored), len(acknowledged))
            attendee, credential = credentials[len(acknowledged)]
            status, body = post_checkin(server.port, credential)
            self.assertEqual(status, 201, body)
            self.assertEqual(sync_state(server)["last_seq"], len(acknowledged) + 1)
        finally:
            server.stop()

    def test_full_disk_then_space_freed(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        mnt = tempfile.mkdtemp(prefix="ck-fulldisk-")
        self.addCleanup(shutil.rmtree, mnt, True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "tmpfs", mnt],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + proc.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], check=False)

        data = DataDir(extra_config={"limits": NO_LIMITS})
        self.addCleanup(data.cleanup)
        self.assertEqual(data.import_roster(roster_rows(6000, "FD")).returncode, 0)
        add_staff(data, *STAFF)
        credentials = sorted(all_credentials(data).items())
        # The store moves onto the small disk, and a filler leaves it about 300 KiB.
        shutil.move(data.data, os.path.join(mnt, "data"))
        data.data = os.path.join(mnt, "data")
        filler = os.path.join(mnt, "filler")
        stat = os.statvfs(mnt)
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - 300 * 1024))
        log_path = os.path.join(data.path, "server.log")

        server = Server(data, log_path=log_path)
        try:
            # LMDB reports a write the full disk cut short as EIO; the store tells it from a
            # failing disk by the free space left, so both kinds are 507 storage_full.
            acknowledged, refusal = self.fill_until_refused(server, credentials)
            self.assert_envelope(refusal)
            self.assertGreater(len(acknowledged), 0)
            self.assertEqual(server.request("GET", "/healthz")[0], 200)
            # Space comes back: the same server takes check-ins again, no restart.
            os.remove(filler)
            attendee, credential = credentials[len(acknowledged)]
            status, body = post_checkin(server.port, credential)
            self.assertEqual(status, 201, body)
            acknowledged[attendee] = body["checkin"]["id"]
            stored = exported_checkins(server)
            self.assertEqual({a: ids[0] for a, ids in stored.items()}, acknowledged)
            self.assertEqual(sync_state(server)["last_seq"], len(acknowledged))
        finally:
            server.stop()
        with open(log_path, encoding="utf-8") as f:
            self.assertIn("No space left on device", f.read())
        # And after a restart, nothing is missing.
        server = Server(data, log_path=log_path)
        try:
            self.assertEqual(len(exported_checkins(server)), len(acknowledged))
        finally:
            server.stop()


class StartRefusalTest(unittest.TestCase):
    def serve(self, data_dir, config=None):
        args = [BIN, "serve", "--data", data_dir, "--listen", "127.0.0.1:0"]
        if config:
            args += ["--config", config]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        return lines[0]

    def test_missing_data_directory(self):
        line = self.serve("/nonexistent/course-kiosk-data")
        self.assertIn("does not exist", line)
        self.assertIn("course-kiosk init", line)

    def test_read_only_data_directory(self):
        if os.geteuid() != 0:
            self.skipTest("a read-only bind mount needs root")
        data = DataDir()
        self.addCleanup(data.cleanup)
        mnt = tempfile.mkdtemp(prefix="ck-ro-")
        self.addCleanup(shutil.rmtree, mnt, True)
        if subprocess.run(["mount", "--bind", data.path, mnt]).returncode != 0:
            self.skipTest("cannot bind-mount here")
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], check=False)
        self.assertEqual(subprocess.run(["mount", "-o", "remount,bind,ro", mnt]).returncode, 0)
        line = self.serve(os.path.join(mnt, "data"))
        self.assertIn("Read-only file system", line)

    def test_secrets_other_users_may_read(self):
        data = DataDir()
        self.addCleanup(data.cleanup)
        for name in ("signing-key.pem", "display-secret"):
            with self.subTest(secret=name):
                path = os.path.join(data.data, "keys", name)
                os.chmod(path, 0o644)
                line = self.serve(data.data)
                self.assertIn(name, line)
                self.assertIn("chmod 0600", line)
                os.chmod(path, 0o600)
        with self.subTest(secret="registry token"):
            tmp = tempfile.mkdtemp(prefix="ck-token-")
            self.addCleanup(shutil.rmtree, tmp, True)
            token = private_file(tmp, "token", "t\n")
            os.chmod(token, 0o644)
            with open(data.config_path, encoding="utf-8") as f:
                config = json.load(f)
            config["registry"] = {"url": "http://127.0.0.1:9", "token_file": token}
            path = os.path.join(tmp, "config.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(config, f)
            line = self.serve(data.data, path)
            self.assertIn("chmod 0640", line)
            os.chmod(token, 0o640)  # root:course-kiosk 0640 is how the guide installs it
            server = Server(data, args=("--config", path))
            server.stop()


if __name__ == "__main__":
    unittest.main()
