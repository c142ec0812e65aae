"""Real course-kiosk devices syncing to a real course-registry (docs/sync.md sections 3-5):
check-ins, manual check-ins and voids reach PostgreSQL in seq order, the registry's roster
reaches the device, a registry killed with -9 (mid-batch, or after a lost acknowledgement)
and served again on the same database and port loses and doubles nothing, the sync
status's errors clear once a round succeeds, and two devices of one edition keep their
logs apart.

One PostgreSQL cluster per class, a fresh database and registry per test. The devices
run `course-kiosk serve` (kiosk.Server) with `registry` pointing at the registry; every
wait polls a condition against a deadline."""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from course_registry import CourseRegistry, run as registry_run
from kiosk import (MODULE_ID, ROSTER, DataDir, Server, add_staff, decode_qr_svg, staff_login,
                   validate)
from pg_cluster import PgTestCase

DEVICE_A = "lille-hall-a"
DEVICE_B = "lille-hall-b"
STAFF = ("maria", "correct horse battery")
DEVICE_ROSTER = ROSTER + [("A004", "Rossi", "Marco", "IT")]
SYNC_TIMEOUT_S = 30  # a round is due at once after a check-in or "sync now"
POLL_S = 0.05


def poll(condition, timeout, what):
    """condition() until it is truthy, for at most `timeout` s: its last value. Raises
    AssertionError naming `what` (and the last value) when time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what} (last: {value!r})")
        time.sleep(POLL_S)


class DeviceRowLock:
    """A psql session holding the registry's `devices` row of one device FOR UPDATE: every
    batch of that device then waits inside the registry's transaction (its first statement
    updates that row), i.e. it is in flight, neither stored nor answered."""

    APP = "ck-test-row-lock"

    def __init__(self, pg, database, device_id):
        self.pg, self.database = pg, database
        self.proc = subprocess.Popen(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
             pg.conninfo(database) + f" application_name={self.APP}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write("BEGIN;\n"
                              f"SELECT id FROM devices WHERE id = '{device_id}' FOR UPDATE;\n")
        self.proc.stdin.flush()
        poll(lambda: self.pg.sql(database, "SELECT count(*) FROM pg_stat_activity WHERE "
                                           f"application_name = '{self.APP}' AND "
                                           "state = 'idle in transaction'") == "1",
             10, "the psql session holding the device row")

    def waiters(self):
        """How many other sessions of this database wait for a lock."""
        return int(self.pg.sql(self.database, "SELECT count(*) FROM pg_stat_activity WHERE "
                                              f"datname = '{self.database}' AND "
                                              "wait_event_type = 'Lock'"))

    def release(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("ROLLBACK;\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stderr.close()


class AnswerDroppingProxy:
    """A TCP relay 127.0.0.1:port -> 127.0.0.1:upstream_port for the device's exchanges
    (one per connection: the device does not keep connections alive). With drop_answers
    set it forwards the request, lets the registry answer, and closes the device's
    connection without passing the answer on: the registry stored the batch, the device
    never saw the acknowledgement (docs/sync.md "A lost acknowledgement")."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.drop_answers = False
        self.dropped = 0  # answers swallowed
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)  # to notice stop()
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def stop(self):
        self._stopping = True
        self._thread.join(5)
        self._sock.close()

    def _accept(self):
        while not self._stopping:
            try:
                down, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(down,), daemon=True).start()

    def _relay(self, down):
        drop = self.drop_answers
        with down:
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                return  # registry down: the device sees its connection closed
            with up:
                while True:
                    ready, _, _ = select.select([down, up], [], [], 15)
                    if not ready:
                        return
                    for s in ready:
                        try:
                            data = s.recv(65536)
                        except OSError:
                            return
                        if not data:  # the registry answered and closed, or the device left
                            if s is up and drop:
                                with self._lock:
                                    self.dropped += 1
                            return
                        if s is down:
                            up.sendall(data)
                        elif not drop:
                            down.sendall(data)


class Device:
    """A course-kiosk data dir (device id `device_id`, registry `reg` with that device's
    token, interval_s 5, DEVICE_ROSTER and a staff member) and its running server, with
    a logged-in staff session."""

    def __init__(self, test, reg, device_id, url=None):
        """`url`: registry.url when not reg.url (e.g. a proxy in front of it)."""
        self.device_id = device_id
        tmp = tempfile.mkdtemp(prefix="ck-token-")
        test.addCleanup(shutil.rmtree, tmp, True)
        token_path = os.path.join(tmp, "token")
        with open(token_path, "w", encoding="utf-8") as f:
            f.write(reg.token_for(device_id) + "\n")
        os.chmod(token_path, 0o600)  # a secret: the device refuses it otherwise
        self.data = DataDir(extra_config={
            "device_id": device_id,
            "registry": {"url": url or reg.url, "token_file": token_path, "ca_file": None,
                         "interval_s": 5, "timeout_s": 10},
            "limits": {"checkin_burst_per_client": 100000,
                       "checkins_per_client_per_s": 100000}})
        test.addCleanup(self.data.cleanup)
        self.assert_ok(self.data.import_roster(DEVICE_ROSTER))
        add_staff(self.data, *STAFF)
        self.server = Server(self.data)
        test.addCleanup(self.server.stop)
        self.staff = staff_login(self.server, *STAFF)
        self.test = test

    @staticmethod
    def assert_ok(proc):
        if proc.returncode != 0:
            raise AssertionError(proc.stderr)

    # --- check-ins: each returns the recorded check-in (the answer's "checkin") ---------
    def badge(self, attendee_id):
        status, _, body = self.server.checkin(self.data.credential(attendee_id))
        self.test.assertEqual(status, 201, body)
        validate(body, "checkin-response")
        return body["checkin"]

    def manual(self, attendee_id):
        status, _, body = self.staff.request(
            "POST", f"/api/v1/attendees/{attendee_id}/checkins", {})
        self.test.assertEqual(status, 201, body)
        validate(body, "checkin-response")
        return body["checkin"]

    def void(self, checkin_id, reason):
        status, _, body = self.staff.request("POST", f"/api/v1/checkins/{checkin_id}/void",
                                             {"reason": reason})
        self.test.assertEqual(status, 200, body)
        validate(body, "void-response")
        return body["checkin"]

    # --- sync -----------------------------------------------------------------------------
    def sync_status(self):
        status, _, body = self.staff.request("GET", "/api/v1/sync")
        self.test.assertEqual(status, 200, body)
        return body

    def sync_now(self):
        status, _, body = self.staff.request("POST", "/api/v1/sync", {})
        self.test.assertEqual(status, 202, body)

    def wait_synced(self, last_seq, timeout=SYNC_TIMEOUT_S):
        """Until the device reports acked_through == last_seq == `last_seq`: the status."""
        def synced():
            s = self.sync_status()
            return s if (s["last_seq"], s["acked_through"], s["pending"]) == (
                last_seq, last_seq, 0) else None
        try:
            return poll(synced, timeout, f"{self.device_id} acknowledged through {last_seq}")
        except AssertionError as e:
            raise AssertionError(f"{e}; sync status: {self.sync_status()}") from None

    def export(self):
        status, _, body = self.staff.request("GET", "/api/v1/export?format=json")
        self.test.assertEqual(status, 200, body)
        validate(body, "export")
        return body


class RegistrySyncTest(PgTestCase):
    def setUp(self):
        self.new_database("sync")
        self.reg = CourseRegistry(self.pg, self.dbname, devices=(DEVICE_A, DEVICE_B)).start()
        # Runs after the devices' cleanups (LIFO): the registry outlives the devices.
        self.addCleanup(self.stop_registry)

    def stop_registry(self):
        killed = self.reg.returncode == -signal.SIGKILL  # by the test, not served again
        self.reg.stop()
        if killed:
            return
        self.assertFalse(self.reg.killed, "course-registry serve outlived SIGTERM: "
                                          + self.reg.stderr_text)
        self.assertEqual(self.reg.returncode, 0,
                         "course-registry serve after SIGTERM: " + self.reg.stderr_text)

    # --- helpers ---------------------------------------------------------------------------
    def id_counts(self, device_id):
        """{event id: number of rows} of `device_id` in the events table."""
        out = self.pg.sql(self.dbname, "SELECT id::text || '|' || count(*) FROM events "
                                       f"WHERE device_id = '{device_id}' GROUP BY id")
        return {line.split("|")[0]: int(line.split("|")[1]) for line in out.splitlines()}

    def assert_checkin_event(self, event, checkin, source):
        """A stored checkin event says what the device answered for that check-in."""
        self.assertEqual(event["type"], "checkin", event)
        self.assertEqual(event["id"], checkin["id"], event)
        self.assertEqual(event["module_id"], MODULE_ID, event)
        for member in ("at", "attendee_id", "session_id", "source", "late", "not_in_roster",
                       "clock_untrusted"):
            self.assertEqual(event[member], checkin[member], (member, event, checkin))
        self.assertEqual(event["source"], source, event)
        if source == "manual":
            self.assertEqual(event["staff"], STAFF[0], event)

    def assert_log(self, device, events):
        """`events` (the registry's, in seq order) are the whole log the device reports."""
        last_seq = device.sync_status()["last_seq"]
        self.assertEqual([e["seq"] for e in events], list(range(1, last_seq + 1)))
        validate({"device_id": device.device_id, "first_seq": 1, "events": events},
                 "sync-events-request")
        counts = self.id_counts(device.device_id)
        self.assertEqual(sorted(counts), sorted(e["id"] for e in events))
        self.assertEqual(set(counts.values()), {1}, counts)
        self.assertEqual(self.reg.acked_through(device.device_id), last_seq)

    def assert_export_matches(self, device, events):
        """Every check-in of the device's export is a checkin event with its id and source;
        every voided one has a void event naming it, with its reason."""
        checkins = {e["id"]: e for e in events if e["type"] == "checkin"}
        voids = {e["checkin_id"]: e for e in events if e["type"] == "void"}
        exported = 0
        for attendee in device.export()["attendees"]:
            for c in attendee["checkins"]:
                exported += 1
                event = checkins.get(c["id"])
                self.assertIsNotNone(event, f"{c} is not in the registry")
                self.assertEqual((event["attendee_id"], event["source"], event["session_id"]),
                                 (attendee["id"], c["source"], c["session_id"]))
                if c["voided"]:
                    self.assertIn(c["id"], voids, f"the void of {c} is not in the registry")
                    self.assertEqual(voids[c["id"]]["reason"], c["void_reason"])
                else:
                    self.assertNotIn(c["id"], voids)
        self.assertEqual(exported, len(checkins))

    # --- tests -----------------------------------------------------------------------------
    def test_checkins_manual_and_void_arrive_in_seq_order(self):
        device = Device(self, self.reg, DEVICE_A)
        first = device.badge("A001")
        manual = device.manual("A002")
        reason = "wrong attendee picked"
        device.void(manual["id"], reason)
        second = device.badge("A003")
        status = device.wait_synced(4)
        self.assertIsNone(status["last_error"], status)
        self.assertIsNotNone(status["last_success"], status)

        events = self.reg.events(DEVICE_A)
        self.assertEqual([e["type"] for e in events], ["checkin", "checkin", "void", "checkin"])
        self.assert_checkin_event(events[0], first, "badge")
        self.assert_checkin_event(events[1], manual, "manual")
        self.assert_checkin_event(events[3], second, "badge")
        void = events[2]
        self.assertEqual((void["checkin_id"], void["reason"], void["staff"], void["session_id"],
                          void["attendee_id"], void["module_id"]),
                         (manual["id"], reason, STAFF[0], manual["session_id"], "A002",
                          MODULE_ID), void)
        self.assertNotIn(void["id"], {first["id"], manual["id"], second["id"]})
        self.assert_log(device, events)
        self.assert_export_matches(device, events)
        # The registry's columns agree with the bodies.
        rows = self.pg.sql(self.dbname, "SELECT seq || '|' || id || '|' || type || '|' || "
                                        "attendee_id FROM events ORDER BY device_id, seq")
        self.assertEqual(rows.splitlines(),
                         [f"{e['seq']}|{e['id']}|{e['type']}|{e['attendee_id']}"
                          for e in events])

    def test_roster_imported_at_the_registry_reaches_the_device(self):
        device = Device(self, self.reg, DEVICE_A)
        # The first round (at start) pulls the registry's roster of the edition: empty.
        first_etag = poll(lambda: device.sync_status()["roster"]["etag"], SYNC_TIMEOUT_S,
                          "the device's first roster pull")
        path = os.path.join(device.data.path, "registry-roster.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("id,family_name,given_name,email,country\n"
                    "R900,Registrant,Late,late@example.org,IT\n"
                    "R901,Nováková,Jana,,CZ\n"
                    "A001,Kowalska,Anna,anna.kowalska@example.org,PL\n")
        registry_run("roster", "import", "--db", self.reg.db, MODULE_ID, path)

        device.sync_now()  # "sync now" pulls the roster too

        def listed():
            status, _, body = device.staff.request("GET", "/api/v1/attendees?q=R90")
            self.assertEqual(status, 200, body)
            ids = [a["id"] for a in body["attendees"]]
            return ids if ids == ["R900", "R901"] else None
        try:
            poll(listed, SYNC_TIMEOUT_S, "R900 and R901 in the device's attendee list")
        except AssertionError as e:
            raise AssertionError(f"{e}; sync status: {device.sync_status()}; registry: "
                                 f"{self.reg.stderr_text}") from None
        status, _, person = device.staff.request("GET", "/api/v1/attendees/R901")
        self.assertEqual(status, 200, person)
        validate(person, "attendee")
        self.assertEqual((person["attendee"]["family_name"], person["attendee"]["given_name"]),
                         ("Nováková", "Jana"), person)
        sync = device.sync_status()
        self.assertIsNone(sync["roster"]["last_error"], sync)
        self.assertIsNotNone(sync["roster"]["last_pull"], sync)
        self.assertNotEqual(sync["roster"]["etag"], first_etag, sync)
        # The device's own roster is still there (a pull adds and updates, never removes).
        status, _, body = device.staff.request("GET", "/api/v1/attendees?q=A00")
        self.assertEqual([a["id"] for a in body["attendees"]], ["A001", "A002", "A003", "A004"],
                         body)

        # A pulled attendee checks in as one of the roster, and the registry hears it.
        checkin = device.badge("R900")
        self.assertFalse(checkin["not_in_roster"], checkin)
        device.wait_synced(1)
        [event] = self.reg.events(DEVICE_A)
        self.assert_checkin_event(event, checkin, "badge")
        self.assertFalse(event["not_in_roster"], event)

    def test_badges_printed_by_the_registry_check_in_offline_until_reissued(self):
        path = os.path.join(tempfile.mkdtemp(prefix="ck-badges-"), "roster.csv")
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("id,family_name,given_name\nR700,Kowalska,Anna\nR701,Dubois,Chloé\n")
        registry_run("roster", "import", "--db", self.reg.db, MODULE_ID, path)
        sheet = os.path.join(os.path.dirname(path), "badges.html")
        registry_run("badges", "--db", self.reg.db, MODULE_ID, "--out", sheet)
        with open(sheet, encoding="utf-8") as f:
            html = f.read()
        self.assertEqual(html.count('class="badge"'), 2)
        svgs = re.findall(r'data-attendee-id="(R70\d)".*?(<svg.*?</svg>)', html, re.S)
        credentials = {who: decode_qr_svg(svg) for who, svg in svgs}
        self.assertEqual(sorted(credentials), ["R700", "R701"])
        [key_line] = registry_run("key", "list", "--db", self.reg.db).stdout.splitlines()
        key_id = key_line.split()[0]

        device = Device(self, self.reg, DEVICE_A)
        # The key was made with the sheet, before the device's first pull.
        etag = poll(lambda: device.sync_status()["roster"]["etag"], SYNC_TIMEOUT_S,
                    "the device's first roster pull")
        # Offline: the registry is gone; the badge it signed checks in at the device.
        self.reg.stop()
        status, _, body = device.server.checkin(credentials["R700"])
        self.assertEqual(status, 201, body)
        self.assertFalse(body["checkin"]["not_in_roster"], body)

        # A re-issued badge: the old one is refused once the device has pulled again.
        self.reg = self.reg.another_process(self.reg.port)
        registry_run("badge", "reissue", "--db", self.reg.db, MODULE_ID, "R701",
                     "--reason", "badge lost")
        registry_run("badges", "--db", self.reg.db, MODULE_ID, "R701", "--out", sheet)
        with open(sheet, encoding="utf-8") as f:
            [new_svg] = re.findall(r"<svg.*?</svg>", f.read(), re.S)
        new_credential = decode_qr_svg(new_svg)
        self.assertNotEqual(new_credential, credentials["R701"])
        device.sync_now()
        poll(lambda: device.sync_status()["roster"]["etag"] != etag, SYNC_TIMEOUT_S,
             "the device's pull of the roster with the revocation")
        status, _, body = device.server.checkin(credentials["R701"])
        self.assertEqual((status, body["error"]["code"]), (422, "revoked"), body)
        status, _, body = device.server.checkin(new_credential)
        self.assertEqual(status, 201, body)
        # A retired key is no longer handed out: the devices refuse its badges after a pull.
        registry_run("key", "retire", "--db", self.reg.db, key_id)
        req = urllib.request.Request(f"{self.reg.url}/api/v1/modules/{MODULE_ID}/roster",
                                     headers={"Authorization": "Bearer "
                                              + self.reg.token_for(DEVICE_A)})
        with urllib.request.urlopen(req, timeout=10) as answer:
            roster = json.load(answer)
        self.assertEqual(roster["keys"], [])
        self.assertEqual(roster["revoked"], [{"attendee_id": "R701", "issue": 1,
                                              "reason": "badge lost"}])

    def test_registry_killed_mid_batch_and_served_again_on_the_same_database(self):
        device = Device(self, self.reg, DEVICE_A)
        ids = [device.badge("A001")["id"], device.badge("A002")["id"]]
        device.wait_synced(2)
        port = self.reg.port

        # The next batch waits inside the registry's transaction; then kill -9.
        lock = DeviceRowLock(self.pg, self.dbname, DEVICE_A)
        try:
            ids.append(device.badge("A003")["id"])
            poll(lock.waiters, SYNC_TIMEOUT_S, "the registry's batch waiting for the row")
            self.reg.kill()
            self.assertEqual(self.reg.returncode, -signal.SIGKILL)
        finally:
            lock.release()
        # Registry down: more check-ins, and the device knows it cannot deliver them.
        manual = device.manual("A004")
        ids.append(manual["id"])
        device.void(manual["id"], "scanned twice")
        status = poll(lambda: (lambda s: s if s["last_error"] and s["pending"] == 3 else None)(
                          device.sync_status()),
                      SYNC_TIMEOUT_S, "the device reporting the registry unreachable")
        self.assertEqual((status["last_seq"], status["acked_through"]), (5, 2), status)
        self.assertEqual(status["last_error"]["code"], "registry_unreachable", status)
        # The batch in flight was not committed.
        self.assertEqual(self.reg.acked_through(DEVICE_A), 2)

        killed = self.reg
        self.reg = killed.another_process(port)
        killed.stop()  # its temporary directory
        self.assertEqual(self.reg.url, killed.url)
        device.sync_now()  # the device may be backing off (up to 30 s)
        device.wait_synced(5)

        events = self.reg.events(DEVICE_A)
        self.assert_log(device, events)
        self.assertEqual([e["id"] for e in events if e["type"] == "checkin"], ids)
        self.assertEqual([e["type"] for e in events], ["checkin"] * 4 + ["void"])
        self.assert_export_matches(device, events)

    def test_lost_acknowledgement_then_kill9_each_event_once(self):
        # The device reaches the registry through a relay that can swallow answers.
        proxy = AnswerDroppingProxy(self.reg.port)
        self.addCleanup(proxy.stop)
        device = Device(self, self.reg, DEVICE_A, url=proxy.url)
        ids = [device.badge("A001")["id"], device.badge("A002")["id"]]
        device.wait_synced(2)

        # Seq 3 is stored but its acknowledgement is lost (and so are the retries').
        proxy.drop_answers = True
        ids.append(device.badge("A003")["id"])
        poll(lambda: self.reg.acked_through(DEVICE_A) == 3 and proxy.dropped >= 1,
             SYNC_TIMEOUT_S, "seq 3 stored and its answer dropped")
        self.reg.kill()
        status = device.sync_status()
        self.assertEqual((status["last_seq"], status["acked_through"]), (3, 2), status)
        # More while the registry is down.
        manual = device.manual("A004")
        ids.append(manual["id"])
        device.void(manual["id"], "scanned twice")

        killed = self.reg
        self.reg = killed.another_process(killed.port)
        killed.stop()
        proxy.drop_answers = False
        device.sync_now()
        # The device resends from seq 3, which the registry already holds: a duplicate.
        device.wait_synced(5)
        events = self.reg.events(DEVICE_A)
        self.assert_log(device, events)
        self.assertEqual([e["id"] for e in events if e["type"] == "checkin"], ids)
        self.assertEqual([e["type"] for e in events], ["checkin"] * 4 + ["void"])

    def test_last_errors_clear_once_a_round_succeeds(self):
        """docs/sync.md section 5: an error is shown in the sync status (`last_error`; the
        header badge then reads "Sync: failing") until a retry succeeds; likewise the
        roster's `last_error` once a pull succeeds (200 or 304)."""
        device = Device(self, self.reg, DEVICE_A)
        device.badge("A001")
        device.wait_synced(1)
        port = self.reg.port
        stopped = self.reg
        stopped.stop()
        self.assertEqual(stopped.returncode, 0, stopped.stderr_text)
        # Down: a round with nothing to send fails to pull the roster ...
        device.sync_now()
        poll(lambda: (device.sync_status()["roster"]["last_error"] or {}).get("code")
             == "roster_unavailable", SYNC_TIMEOUT_S, "the roster pull failing")
        # ... and one with an event fails to send it.
        device.badge("A002")
        poll(lambda: (device.sync_status()["last_error"] or {}).get("code")
             == "registry_unreachable", SYNC_TIMEOUT_S, "the device reporting the registry down")

        self.reg = stopped.another_process(port)
        device.sync_now()
        device.wait_synced(2)
        # The round that succeeded, or the next one (interval_s 5), clears them.
        try:
            poll(lambda: (lambda s: s["last_error"] is None and s["roster"]["last_error"] is None)(
                     device.sync_status()),
                 10, "last_error and roster.last_error cleared after a successful round")
        except AssertionError as e:
            raise AssertionError(f"{e}; sync status: {device.sync_status()}") from None

    def test_two_devices_of_one_edition_each_under_its_own_id(self):
        a = Device(self, self.reg, DEVICE_A)
        b = Device(self, self.reg, DEVICE_B)
        # Interleaved, and the same attendees at both: separate events all the same.
        made = {DEVICE_A: [], DEVICE_B: []}
        made[DEVICE_A].append(a.badge("A001"))
        made[DEVICE_B].append(b.badge("A001"))
        made[DEVICE_B].append(b.manual("A002"))
        made[DEVICE_A].append(a.badge("A002"))
        made[DEVICE_A].append(a.manual("A003"))
        b.void(made[DEVICE_B][1]["id"], "checked in at hall A")
        made[DEVICE_B].append(b.badge("A003"))
        a.wait_synced(3)
        b.wait_synced(4)

        for device in (a, b):
            events = self.reg.events(device.device_id)
            self.assert_log(device, events)
            self.assert_export_matches(device, events)
            checkins = [e for e in events if e["type"] == "checkin"]
            self.assertEqual([e["id"] for e in checkins],
                             [c["id"] for c in made[device.device_id]])
        self.assertEqual([e["type"] for e in self.reg.events(DEVICE_B)],
                         ["checkin", "checkin", "void", "checkin"])
        per_device = self.pg.sql(self.dbname, "SELECT device_id || '|' || count(*) || '|' || "
                                              "max(seq) FROM events GROUP BY device_id "
                                              "ORDER BY device_id")
        self.assertEqual(per_device.splitlines(), [f"{DEVICE_A}|3|3", f"{DEVICE_B}|4|4"])
        shared = self.pg.sql(self.dbname, "SELECT count(*) FROM events a JOIN events b "
                                          "ON a.id = b.id AND a.device_id <> b.device_id")
        self.assertEqual(shared, "0")


if __name__ == "__main__":
    unittest.main()
