"""Sync with the (fake) central registry: for each fault, the registry ends with exactly the
device's events — each once, in order, with no gap (SPEC section 6, issue 4)."""
import os
import unittest

import datetime
import json
import shutil
import tempfile
import time

from fake_registry import FakeRegistry, ed25519_key_entry, generate_ed25519_key
from kiosk import MODULE_ID, ROSTER, DataDir, Server, add_staff, run, staff_login

DEVICE = "test-kiosk"


def registry_config(registry, token_path, ca_file=None, interval_s=5, timeout_s=10):
    return {"registry": {"url": registry.url, "token_file": token_path,
                         "ca_file": ca_file, "interval_s": interval_s,
                         "timeout_s": timeout_s},
            "limits": {"checkin_burst_per_client": 100000,
                       "checkins_per_client_per_s": 100000}}


class SyncBase(unittest.TestCase):
    """A device with check-ins, pointing at a fake registry."""

    def make_device(self, registry, token="test-token", ca_file=None, checkins=3, timeout_s=10):
        """A data dir pointing at `registry` with `checkins` check-in events in its log.
        The check-ins are made before the registry is configured, so that no sync can
        happen behind the test's back."""
        config = registry_config(registry, os.path.join(self._tmp_token_dir(token), "token"),
                                 ca_file, timeout_s=timeout_s)
        self.data = DataDir(extra_config={"limits": config["limits"]})
        self.data.import_roster(ROSTER)
        server = Server(self.data)
        try:
            for attendee_id, *_ in ROSTER[:checkins]:
                status, _, body = server.checkin(self.data.credential(attendee_id))
                self.assertEqual(status, 201, body)
        finally:
            server.stop()
        with open(self.data.config_path, encoding="utf-8") as f:
            full = json.load(f)
        full.update(config)
        with open(self.data.config_path, "w", encoding="utf-8") as f:
            json.dump(full, f)
        run("init", "--data", self.data.data, "--config", self.data.config_path)
        return self.data

    def _tmp_token_dir(self, token):
        import tempfile
        d = tempfile.mkdtemp(prefix="ck-token-")
        self.addCleanup(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
        with open(os.path.join(d, "token"), "w", encoding="utf-8") as f:
            f.write(token + "\n")
        os.chmod(os.path.join(d, "token"), 0o600)  # a secret: the device refuses it otherwise
        return d

    def tearDown(self):
        if getattr(self, "data", None):
            self.data.cleanup()

    def sync_once(self, check=True):
        return run("sync", "--data", self.data.data, "--once", check=check)

    def assert_registry_has_exactly(self, registry, count):
        events = registry.events(DEVICE)
        self.assertEqual([e["seq"] for e in events], list(range(1, count + 1)))
        self.assertEqual(len({e["id"] for e in events}), count)
        self.assertEqual(registry.acked_through(DEVICE), count)


class SyncTest(SyncBase):
    def test_plain_sync_then_nothing_more(self):
        with FakeRegistry() as registry:
            self.make_device(registry)
            proc = self.sync_once()
            self.assertIn("3 events sent", proc.stdout)
            self.assert_registry_has_exactly(registry, 3)
            self.assertEqual({e["type"] for e in registry.events(DEVICE)}, {"checkin"})
            proc = self.sync_once()
            self.assertIn("0 events sent", proc.stdout)
            self.assertTrue(all(b.get("gzip") for b in registry.received_batches))

    def test_each_fault_ends_with_every_event_once_in_order(self):
        for fault in ("http500", "drop_after_store", "drop", "gap409", "truncated", "garbage"):
            with self.subTest(fault), FakeRegistry() as registry:
                self.make_device(registry)
                registry.inject(fault, times=1)
                first = self.sync_once(check=False)
                # The fault may or may not fail the pass (a 409 is recovered within it).
                self.assertIn(first.returncode, (0, 1), first.stderr)
                self.sync_once()
                self.assert_registry_has_exactly(registry, 3)
                self.data.cleanup()
                self.data = None

    def test_registry_down_for_a_while_then_up(self):
        with FakeRegistry() as registry:
            self.make_device(registry)
            registry.down()
            proc = self.sync_once(check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("did not answer", proc.stderr)
            self.assertEqual(registry.events(DEVICE), [])
            registry.up()
            self.sync_once()
            self.assert_registry_has_exactly(registry, 3)

    def test_wrong_token_is_reported_not_hammered(self):
        with FakeRegistry(token="right") as registry:
            self.make_device(registry, token="wrong")
            proc = self.sync_once(check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("401", proc.stderr)
            self.assertIn("token", proc.stderr)
            self.assertEqual(registry.events(DEVICE), [])

    def test_refusal_shows_in_the_status_and_is_not_hammered(self):
        with FakeRegistry(token="right") as registry:
            self.make_device(registry, token="wrong", checkins=1)
            add_staff(self.data, "maria", "correct horse battery")
            server = Server(self.data)
            try:
                staff = staff_login(server, "maria", "correct horse battery")
                sync = None
                for _ in range(100):  # bounded: the first pass runs at start-up
                    _, _, sync = staff.request("GET", "/api/v1/sync")
                    if sync["last_error"] and sync["next_attempt"]:
                        break
                    registry.wait_for(lambda _registry: False, timeout=0.1)
                self.assertEqual(sync["last_error"]["code"], "registry_401")
                self.assertEqual(sync["pending"], 1)
                self.assertIsNotNone(sync["next_attempt"])
                # Not hammered: the next attempt waits the backoff cap, so one request only.
                attempts = len(registry.received_batches)
                self.assertLessEqual(attempts, 2)
            finally:
                server.stop()

    def test_tls_with_the_right_ca_and_refused_with_a_wrong_one(self):
        with FakeRegistry(tls=True) as registry:
            self.make_device(registry, ca_file=registry.wrong_ca_file)
            proc = self.sync_once(check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("did not answer", proc.stderr)
            self.assertEqual(registry.events(DEVICE), [])
            self.data.cleanup()
            self.make_device(registry, ca_file=registry.ca_file)
            self.sync_once()
            self.assert_registry_has_exactly(registry, 3)

    def test_server_retries_by_itself_when_the_registry_comes_back(self):
        with FakeRegistry() as registry:
            self.make_device(registry)
            registry.inject("http500", times=2)
            server = Server(self.data)
            try:
                # Two failures, then retries with backoff (ceilings 1 s, 2 s; the cap is 30 s).
                registry.wait_for_acked(DEVICE, 3, timeout=45)
                statuses = [b["status"] for b in registry.received_batches]
                self.assertEqual(statuses[:3], [500, 500, 200], statuses)
                # sync --once alongside the running server: nothing left, nothing twice.
                self.assertIn("0 events sent", self.sync_once().stdout)
            finally:
                server.stop()
            self.assert_registry_has_exactly(registry, 3)

    def test_an_untrusted_clock_takes_the_registry_time(self):
        with FakeRegistry() as registry:
            self.make_device(registry, checkins=1)
            add_staff(self.data, "maria", "correct horse battery")
            # The device believes it is 2026-11-23 08:40 (fake time) and does not trust it;
            # the registry's Date is the real time.
            server = Server(self.data, trusted=False)
            try:
                registry.wait_for_acked(DEVICE, 1, timeout=20)
                health = None
                for _ in range(50):  # bounded: the clock is set right after the answer
                    _, _, health = server.request("GET", "/healthz")
                    if health["clock_trusted"]:
                        break
                    registry.wait_for(lambda _registry: False, timeout=0.1)
                self.assertTrue(health["clock_trusted"])
                device_time = datetime.datetime.fromisoformat(health["time"])
                real = datetime.datetime.now(datetime.timezone.utc)
                self.assertLess(abs((device_time - real).total_seconds()), 30)
                staff = staff_login(server, "maria", "correct horse battery")
                _, _, summary = staff.request("GET", "/api/v1/summary")
                self.assertEqual(summary["clock"]["source"], "registry")
                self.assertIsNotNone(summary["sync"]["clock_offset_s"])
                _, _, audit = staff.request("GET", "/api/v1/audit")
                self.assertIn("set_clock", [e["action"] for e in audit["entries"]])
            finally:
                server.stop()

    def test_server_syncs_by_itself_and_on_demand(self):
        with FakeRegistry() as registry:
            self.make_device(registry, checkins=1)
            add_staff(self.data, "maria", "correct horse battery")
            server = Server(self.data)
            try:
                registry.wait_for_acked(DEVICE, 1, timeout=20)
                status, _, body = server.checkin(self.data.credential(ROSTER[1][0]))
                self.assertEqual(status, 201, body)
                staff = staff_login(server, "maria", "correct horse battery")
                status, _, answer = staff.request("POST", "/api/v1/sync", {})
                self.assertEqual(status, 202, answer)
                registry.wait_for_acked(DEVICE, 2, timeout=20)
                status, _, sync = staff.request("GET", "/api/v1/sync")
                self.assertEqual(status, 200)
                self.assertTrue(sync["configured"])
            finally:
                server.stop()
            self.assert_registry_has_exactly(registry, 2)


class HardSyncTest(SyncBase):
    """Slow registries, wrong certificates, kills mid-batch, and a big backlog."""

    def test_answer_slower_than_the_timeout_is_retried_without_duplicates(self):
        with FakeRegistry(slow_delay_s=4) as registry:
            self.make_device(registry, timeout_s=1)
            registry.inject("slow", times=1)
            proc = self.sync_once(check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("did not answer", proc.stderr)
            # The slow answer stored the batch after the client gave up: a resend must
            # neither duplicate nor lose anything.
            registry.wait_for(lambda r: r.acked_through(DEVICE) == 3, timeout=10)
            self.sync_once()
            self.assert_registry_has_exactly(registry, 3)

    def test_certificate_for_another_host_is_refused(self):
        with FakeRegistry(tls=True, wrong_host=True) as registry:
            self.make_device(registry, ca_file=registry.ca_file)
            proc = self.sync_once(check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(registry.events(DEVICE), [])

    def test_killed_in_the_middle_of_a_batch(self):
        with FakeRegistry(slow_delay_s=3) as registry:
            self.make_device(registry, timeout_s=10)
            registry.inject("slow", times=1)
            server = Server(self.data)
            # Once the slow fault is taken, the relay's batch is in flight: cut the power
            # before the registry has even answered.
            self.assertTrue(registry.wait_for(lambda r: not r.faults(), timeout=10))
            server.kill()
            self.assertEqual(registry.received_batches, [])
            registry.wait_for(lambda r: r.acked_through(DEVICE) == 3, timeout=10)
            # After the restart the device resends what it never saw acknowledged.
            server = Server(self.data)
            try:
                self.assertTrue(
                    registry.wait_for(lambda r: len(r.received_batches) >= 2, timeout=20))
            finally:
                server.stop()
            self.assert_registry_has_exactly(registry, 3)
            self.assertIn("0 events sent", self.sync_once().stdout)

    def test_ten_thousand_events_in_batches(self):
        with FakeRegistry() as registry:
            self.make_device(registry, checkins=0)
            path = os.path.join(self._tmp_token_dir("x"), "big.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write("id,family_name,given_name\n")
                for i in range(10000):
                    f.write(f"B{i:05d},Family{i},Given{i}\n")
            run("roster", "import", "--data", self.data.data, path)
            add_staff(self.data, "maria", "correct horse battery")
            server = Server(self.data)
            try:
                staff = staff_login(server, "maria", "correct horse battery")
                status, _, closed = staff.request("POST", "/api/v1/module/close", {})
                self.assertEqual(status, 200, closed)
                total = closed["records_written"]
                self.assertGreaterEqual(total, 10000)
            finally:
                server.stop()
            started = time.monotonic()
            self.sync_once()
            elapsed = time.monotonic() - started
            print(f"\n{total} events delivered in {elapsed:.2f} s", flush=True)
            self.assert_registry_has_exactly(registry, total)
            sizes = [b["count"] for b in registry.received_batches if b.get("count")]
            self.assertTrue(all(n <= 500 for n in sizes), sizes)
            self.assertEqual({e["type"] for e in registry.events(DEVICE)}, {"completion"})

    def test_metrics_show_the_sync_state(self):
        with FakeRegistry(token="right") as registry:
            self.make_device(registry, token="wrong", checkins=2)
            self.sync_once(check=False)
            add_staff(self.data, "maria", "correct horse battery")
            server = Server(self.data)
            try:
                staff = staff_login(server, "maria", "correct horse battery")
                status, _, text = staff.request("GET", "/metrics")
                self.assertEqual(status, 200)
                self.assertIn("course_kiosk_sync_pending_events 2", text)
                self.assertIn('course_kiosk_sync_last_error_time_seconds{code="registry_401"}',
                              text)
                self.assertRegex(text, r"course_kiosk_sync_oldest_pending_age_seconds \d+")
            finally:
                server.stop()


class RosterPullTest(SyncBase):
    """GET .../roster: new attendees, revocations and trusted keys in one transaction."""

    def registry_signed_device(self, pem):
        """Another device whose signing key is the registry's key (to make its badges)."""
        holder = tempfile.mkdtemp(prefix="ck-regkey-")
        self.addCleanup(lambda: shutil.rmtree(holder, ignore_errors=True))
        os.makedirs(os.path.join(holder, "data", "keys"))
        shutil.copy(pem, os.path.join(holder, "data", "keys", "signing-key.pem"))

        class KeyHolder:
            data = os.path.join(holder, "data")
        signer = DataDir(key_from=KeyHolder)
        self.addCleanup(signer.cleanup)
        signer.import_roster([("R900", "Registrant", "Late", "IT")])
        return signer

    def test_roster_applied_then_304_and_a_bad_roster_refused_whole(self):
        pem = generate_ed25519_key(os.path.join(self._tmp_token_dir("x"), "registry.pem"))
        with FakeRegistry(validate=False) as registry:
            device = self.make_device(registry, checkins=0)
            signer = self.registry_signed_device(pem)
            foreign = signer.credential("R900")
            old_badge = device.credential("A001")
            registry.set_roster(MODULE_ID, {
                "attendees": [{"id": "R900", "family_name": "Registrant", "given_name": "Late"}],
                "revoked": [{"attendee_id": "A001", "issue": 1}],
                "keys": [ed25519_key_entry(pem)]})
            self.sync_once()
            self.sync_once()
            self.assertGreaterEqual(registry.roster_request_count(MODULE_ID, status=304), 1)
            server = Server(device)
            try:
                status, _, body = server.checkin(foreign)
                self.assertEqual(status, 201, body)
                self.assertFalse(body["checkin"]["not_in_roster"])
                self.assertEqual(body["attendee"]["display_name"], "Late R.")
                status, _, body = server.checkin(old_badge)
                self.assertEqual((status, body["error"]["code"]), (422, "revoked"))
            finally:
                server.stop()
            # A bad roster (one attendee without a family name) changes nothing at all.
            registry.set_roster(MODULE_ID, {
                "attendees": [{"id": "R901", "family_name": "Good", "given_name": "Row"},
                              {"id": "R902", "given_name": "NoFamily"}],
                "revoked": [{"attendee_id": "A002", "issue": 1}], "keys": []})
            self.sync_once()
            add_staff(device, "maria", "correct horse battery")
            server = Server(device)
            try:
                staff = staff_login(server, "maria", "correct horse battery")
                _, _, listed = staff.request("GET", "/api/v1/attendees?q=R90")
                self.assertEqual([a["id"] for a in listed["attendees"]], ["R900"])
                _, _, sync = staff.request("GET", "/api/v1/sync")
                self.assertEqual(sync["roster"]["last_error"]["code"], "bad_roster")
                status, _, body = server.checkin(device.credential("A002"))
                self.assertEqual(status, 201, body)
            finally:
                server.stop()


if __name__ == "__main__":
    unittest.main()
