"""The clock (SPEC section 8): a device whose clock is not trusted never files a check-in
under the wrong session or day. Check-ins are held (202, on disk) and filed under the
session open at their true time once staff (or NTP, or the registry) make the clock
trusted; the true time is the trusted clock minus the boot-clock time since the scan.

The wrong clocks here are the test hook COURSE_KIOSK_FAKE_TIME (the system clock starts
there) with COURSE_KIOSK_CLOCK_TRUSTED=0 (no NTP); staff then set the true time.
"""
import datetime
import json
import os
import unittest

from fake_registry import FakeRegistry
from kiosk import ROSTER, DataDir, Server, add_staff, run, staff_login, validate

STAFF, PASSWORD = "clerk", "a long enough password"


def parse(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class HeldCheckinTest(unittest.TestCase):
    def setUp(self):
        self.data = DataDir()
        self.data.import_roster(ROSTER)
        add_staff(self.data, STAFF, PASSWORD)
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            server.stop()
        self.data.cleanup()

    def serve(self, wrong_time):
        server = Server(self.data, fake_time=wrong_time, trusted=False)
        self.servers.append(server)
        return server, staff_login(server, STAFF, PASSWORD)

    def hold(self, server, attendee, again=False):
        """`again`: the same badge scanned minutes after its first held scan."""
        status, _, body = server.checkin(self.data.credential(attendee))
        self.assertEqual(status, 200 if again else 202, body)
        validate(body, "checkin-response")
        self.assertEqual(body["status"], "already_held" if again else "held")
        return body

    def set_clock(self, staff, true_time):
        status, _, body = staff.request("PUT", "/api/v1/clock", {"time": true_time})
        self.assertEqual(status, 200, body)
        validate(body, "clock-response")
        self.assertTrue(body["trusted"])
        return body

    def checkins(self, staff, attendee):
        status, _, body = staff.request("GET", "/api/v1/attendees/" + attendee)
        self.assertEqual(status, 200, body)
        return [c for c in body["checkins"] if not c.get("voided")]

    def test_clock_a_day_ahead_files_under_the_true_session(self):
        # The device thinks it is Tuesday 09:00 (d2-am open); it is Monday 09:00 (d1-am).
        server, staff = self.serve("2026-11-24T09:00:00+01:00")
        status, _, health = server.request("GET", "/healthz")
        validate(health, "healthz")
        self.assertFalse(health["clock_trusted"])
        self.hold(server, "A001")
        self.hold(server, "A001", again=True)  # scanned twice: "already", kept, filed once
        self.hold(server, "A002")
        status, _, health = server.request("GET", "/healthz")
        self.assertEqual(health["held_checkins"], 3, health)
        status, _, held = staff.request("GET", "/api/v1/held")
        validate(held, "held")
        self.assertEqual([h["attendee_id"] for h in held["held"]], ["A001", "A001", "A002"])

        answer = self.set_clock(staff, "2026-11-23T09:00:00+01:00")
        self.assertEqual((answer["held_filed"], answer["held"]), (3, 0), answer)
        for attendee in ("A001", "A002"):
            with self.subTest(attendee):
                checkins = self.checkins(staff, attendee)
                self.assertEqual([c["session_id"] for c in checkins], ["d1-am"], checkins)
                at = parse(checkins[0]["at"])
                self.assertEqual(at.date(), datetime.date(2026, 11, 23))
                # Taken moments before the clock was set, so just before 09:00 Monday.
                true = parse("2026-11-23T09:00:00+01:00")
                self.assertLessEqual(abs((true - at).total_seconds()), 60, checkins)
                self.assertTrue(checkins[0]["late"])  # after 08:45
                self.assertFalse(checkins[0]["clock_untrusted"])
        status, _, summary = staff.request("GET", "/api/v1/summary")
        counts = {s["id"]: s["present"] for s in summary["sessions"]}
        self.assertEqual((counts["d1-am"], counts["d2-am"]), (2, 0), counts)
        self.assertEqual(summary["clock"]["held"], 0)
        status, _, audit = staff.request("GET", "/api/v1/audit")
        actions = [e["action"] for e in audit["entries"]]
        self.assertEqual(actions.count("file_held_checkin"), 3, actions)

    def test_clock_behind_files_when_no_session_seemed_open(self):
        # The clock restored from the last shutdown: Sunday evening. It is Monday 08:40.
        server, staff = self.serve("2026-11-22T20:00:00+01:00")
        body = self.hold(server, "A003")  # not "no_open_session": the clock cannot tell
        self.assertTrue(body["held"]["device_time"].startswith("2026-11-22T20:0"), body)
        self.set_clock(staff, "2026-11-23T08:40:00+01:00")
        checkins = self.checkins(staff, "A003")
        self.assertEqual([c["session_id"] for c in checkins], ["d1-am"], checkins)
        self.assertFalse(checkins[0]["late"])  # before 08:45

    def test_held_check_ins_survive_a_kill_and_are_filed_after_restart(self):
        server, _ = self.serve("2026-11-24T09:00:00+01:00")
        self.hold(server, "A001")
        server.kill()
        server, staff = self.serve("2026-11-24T09:00:00+01:00")
        status, _, health = server.request("GET", "/healthz")
        self.assertEqual(health["held_checkins"], 1, health)
        self.set_clock(staff, "2026-11-23T09:00:00+01:00")
        checkins = self.checkins(staff, "A001")
        self.assertEqual([c["session_id"] for c in checkins], ["d1-am"], checkins)

    def test_no_session_at_the_true_time_waits_for_staff(self):
        server, staff = self.serve("2026-11-23T09:00:00+01:00")
        self.hold(server, "A002")
        # True time 12:45: between d1-am (ended 12:30) and d1-pm's window (13:00).
        answer = self.set_clock(staff, "2026-11-23T12:45:00+01:00")
        self.assertEqual((answer["held_filed"], answer["held"]), (0, 1), answer)
        self.assertEqual(self.checkins(staff, "A002"), [])
        status, _, held = staff.request("GET", "/api/v1/held")
        validate(held, "held")
        [entry] = held["held"]
        self.assertIn("no session was open", entry["problem"])
        status, _, body = staff.request("POST", f"/api/v1/held/{entry['id']}/file",
                                        {"session_id": "nope"})
        self.assertEqual(status, 400, body)
        status, _, body = staff.request("POST", f"/api/v1/held/{entry['id']}/file",
                                        {"session_id": "d1-am"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["held"], 0)
        checkins = self.checkins(staff, "A002")
        self.assertEqual([(c["session_id"], c["source"]) for c in checkins], [("d1-am", "badge")])
        status, _, body = staff.request("POST", f"/api/v1/held/{entry['id']}/file",
                                        {"session_id": "d1-am"})
        self.assertEqual(status, 404, body)

    def test_the_registry_learns_which_check_ins_were_held(self):
        server, staff = self.serve("2026-11-24T09:00:00+01:00")
        self.hold(server, "A001")
        self.hold(server, "A002")
        # Staff file A001 by hand before the clock is set; the clock files A002.
        status, _, held = staff.request("GET", "/api/v1/held")
        [first] = [h for h in held["held"] if h["attendee_id"] == "A001"]
        status, _, body = staff.request("POST", f"/api/v1/held/{first['id']}/file",
                                        {"session_id": "d1-am"})
        self.assertEqual(status, 200, body)
        self.set_clock(staff, "2026-11-23T09:00:00+01:00")
        server.checkin(self.data.credential("A003"))  # a check-in never held
        server.stop()
        self.servers.remove(server)

        with FakeRegistry() as registry:  # validates every batch against the schema
            token = os.path.join(self.data.path, "registry-token")
            with open(token, "w", encoding="utf-8") as f:
                f.write(registry.token + "\n")
            os.chmod(token, 0o600)
            with open(self.data.config_path, encoding="utf-8") as f:
                config = json.load(f)
            config["registry"] = {"url": registry.url, "token_file": token}
            with open(self.data.config_path, "w", encoding="utf-8") as f:
                json.dump(config, f)
            run("init", "--data", self.data.data, "--config", self.data.config_path)
            run("sync", "--data", self.data.data, "--once")
            events = {e["attendee_id"]: e for e in registry.events(config["device_id"])
                      if e["type"] == "checkin"}
        self.assertEqual(set(events), {"A001", "A002", "A003"}, events)
        self.assertNotIn("held", events["A003"])
        for attendee in ("A001", "A002"):
            with self.subTest(attendee):
                held = events[attendee]["held"]
                self.assertTrue(held["device_time"].startswith("2026-11-24T09:0"), held)
                self.assertEqual(events[attendee]["session_id"], "d1-am")
        self.assertEqual(events["A001"]["held"]["filed_by"], STAFF)
        self.assertTrue(events["A001"]["clock_untrusted"])  # its true time is unknown
        self.assertEqual(events["A002"]["held"]["filed_by"], "clock")
        self.assertFalse(events["A002"]["clock_untrusted"])

    def test_a_restart_in_the_same_boot_keeps_the_staff_correction(self):
        server = Server(self.data, trusted=None)  # the device decides: no NTP here
        self.servers.append(server)
        status, _, health = server.request("GET", "/healthz")
        if health["clock_source"] == "ntp":
            self.skipTest("this machine's clock is NTP-synchronised")
        self.assertFalse(health["clock_trusted"], health)
        self.set_clock(staff_login(server, STAFF, PASSWORD), "2026-11-23T09:00:00+01:00")
        server.kill()  # a crash, or the watchdog restarting the service
        server = Server(self.data, trusted=None)
        self.servers.append(server)
        status, _, health = server.request("GET", "/healthz")
        self.assertEqual((health["clock_trusted"], health["clock_source"]), (True, "staff"))
        self.assertTrue(health["time"].startswith("2026-11-23T09:0"), health)
        status, _, body = server.checkin(self.data.credential("A001"))
        self.assertEqual((status, body.get("status")), (201, "checked_in"), body)
        self.assertEqual(body["session"]["id"], "d1-am")

    def test_trusted_clock_records_at_once(self):
        server = Server(self.data, trusted=True)
        self.servers.append(server)
        status, _, body = server.checkin(self.data.credential("A001"))
        self.assertEqual(status, 201, body)
        status, _, health = server.request("GET", "/healthz")
        self.assertEqual((health["held_checkins"], health["clock_source"]), (0, "forced"))


if __name__ == "__main__":
    unittest.main()
