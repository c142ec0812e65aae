"""course-registry's completion and cycle (SPEC section 9), from events pushed over the
device protocol: the union of an edition's devices, voids from any device, each device's
completion record compared, the ECNR cycle across editions and cycles (any order), the
`progress` and `export` commands."""
import copy
import json
import os
import tempfile
import unittest
import uuid

import subprocess

from course_registry import REGISTRY_BIN, CourseRegistry, run
from kiosk import MODULE
from pg_cluster import PgTestCase
from test_fake_registry import post_events

_NS = uuid.UUID("0b8e4f0e-49a7-4e55-8f0a-5d1f0c7a1e11")
SESSIONS = ("d1-am", "d1-pm", "d2-am")  # MODULE's three sessions, 3.5 h each: 3 credits


def edition(cycle, number, venue, first_day):
    """MODULE moved to another cycle, number, venue and week (days first_day, +1)."""
    m = copy.deepcopy(MODULE)
    m["cycle"], m["number"], m["venue"] = cycle, number, venue
    year, month, day = (int(x) for x in first_day.split("-"))
    m["days"][0]["date"] = first_day
    m["days"][1]["date"] = f"{year:04d}-{month:02d}-{day + 1:02d}"
    return m


def module_id(m):
    return f"ecnr-{m['cycle']}-m{m['number']}"


def session_time(m, session):
    """A moment inside `session` of edition `m`, in its local time (+01:00 in winter,
    +02:00 in summer: all these weeks are in one or the other)."""
    day = m["days"][0]["date"] if session.startswith("d1") else m["days"][1]["date"]
    hour = "09:00" if session.endswith("am") else "15:00"
    month = int(day[5:7])
    offset = "+02:00" if 4 <= month <= 9 else "+01:00"
    return f"{day}T{hour}:00{offset}"


class Device:
    """One device of an edition pushing its event log in order."""

    def __init__(self, reg, device_id, m):
        self.reg, self.device_id, self.m, self.seq = reg, device_id, m, 0
        self.ids = {}

    def push(self, *events):
        body = {"device_id": self.device_id, "first_seq": self.seq + 1, "events": []}
        for e in events:
            self.seq += 1
            e = dict(e, seq=self.seq, module_id=module_id(self.m))
            e.setdefault("id", str(uuid.uuid5(_NS, f"{self.device_id}/{self.seq}")))
            body["events"].append(e)
        status, _, answer = post_events(self.reg, body, device=self.device_id,
                                        token=self.reg.token_for(self.device_id))
        assert (status, answer) == (200, {"acked_through": self.seq}), (status, answer)
        return [e["id"] for e in body["events"]]

    def checkin(self, attendee, session):
        return self.push({"type": "checkin", "at": session_time(self.m, session),
                          "attendee_id": attendee, "session_id": session, "source": "badge",
                          "late": False, "not_in_roster": False, "clock_untrusted": False})[0]

    def void(self, attendee, session, checkin_id):
        self.push({"type": "void", "at": session_time(self.m, session), "attendee_id": attendee,
                   "session_id": session, "checkin_id": checkin_id, "reason": "wrong person",
                   "staff": "Marie Laurent"})

    def completion(self, attendee, sessions, complete, credits):
        self.push({"type": "completion", "at": session_time(self.m, "d2-am"),
                   "attendee_id": attendee, "sessions_attended": len(sessions),
                   "attended_session_ids": list(sessions), "attendance_complete": complete,
                   "cme_credits": credits, "not_in_roster": False})


class RegistryProgressTest(PgTestCase):
    def setUp(self):
        self.new_database("progress")
        # MODULE is ecnr-2026-2-m3 at Lille, with two kiosks.
        self.reg = CourseRegistry(self.pg, self.dbname, devices=("lille-a", "lille-b")).start()
        self.addCleanup(self.reg.stop)
        self.tmp = tempfile.mkdtemp(prefix="ck-progress-")
        self.m1 = self.add_edition(edition("2025-2", 1, "Berlin", "2025-11-17"), "berlin")
        self.m2 = self.add_edition(edition("2026-1", 2, "Lisbon", "2026-03-16"), "lisbon")
        self.m4 = self.add_edition(edition("2026-1", 4, "Vienna", "2026-05-18"), "vienna")
        self.m4b = self.add_edition(edition("2026-2", 4, "Vienna", "2026-12-07"), "vienna-2")
        self.m3 = MODULE
        self.lille_a = Device(self.reg, "lille-a", MODULE)
        self.lille_b = Device(self.reg, "lille-b", MODULE)

    def add_edition(self, m, device_id):
        path = os.path.join(self.tmp, module_id(m) + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(m, f)
        run("module", "add", "--db", self.reg.db, path)
        self.reg.tokens[device_id] = run("device", "add", "--db", self.reg.db, device_id,
                                         "--module", module_id(m)).stdout.strip()
        return Device(self.reg, device_id, m)

    def import_roster(self, m, rows):
        m = m.m if isinstance(m, Device) else m
        path = os.path.join(self.tmp, "roster.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rows, f)
        run("roster", "import", "--db", self.reg.db, module_id(m), path)

    def progress(self, *ids):
        out = run("progress", "--db", self.reg.db, *ids).stdout
        return [json.loads(line) for line in out.splitlines()]

    def attend(self, device, attendee, sessions=SESSIONS):
        return {s: device.checkin(attendee, s) for s in sessions}

    def test_the_cycle_completes_only_with_the_fourth_module_in_any_order(self):
        self.import_roster(self.m3, [{"id": "A001", "family_name": "Kowalska",
                                      "given_name": "Anna"}])
        self.attend(self.m2, "A001")            # module 2 first,
        self.attend(self.m1, "A001")            # then module 1 (an older cycle's edition),
        self.attend(self.m4, "A001", SESSIONS[:2])  # module 4 only in part,
        self.attend(self.lille_a, "A001")       # and module 3.
        [p] = self.progress("A001")
        self.assertEqual(p["name"], "Anna Kowalska")
        self.assertFalse(p["cycle_complete"])
        self.assertIsNone(p["cycle_completed_at"])
        self.assertEqual({n: m["module_id"] for n, m in p["modules"].items()},
                         {"1": "ecnr-2025-2-m1", "2": "ecnr-2026-1-m2",
                          "3": "ecnr-2026-2-m3", "4": "ecnr-2026-1-m4"})
        four = p["modules"]["4"]
        self.assertEqual((four["sessions_attended"], four["sessions_total"],
                          four["attendance_complete"], four["completed_at"], four["cme_credits"]),
                         (2, 3, False, None, 6.0))
        self.assertEqual(p["modules"]["3"]["completed_at"], "2026-11-24T08:00:00Z")
        # Module 4 again, in the next cycle: now the cycle is whole, when that completes.
        self.attend(self.m4b, "A001")
        [p] = self.progress("A001")
        self.assertTrue(p["cycle_complete"])
        self.assertEqual(p["modules"]["4"]["module_id"], "ecnr-2026-2-m4")
        self.assertEqual(p["cycle_completed_at"], "2026-12-08T08:00:00Z")
        self.assertEqual(p["cme_credits_total"], 4 * 9.0)

    def test_two_kiosks_add_up_and_a_void_from_either_counts(self):
        self.lille_a.checkin("A002", "d1-am")
        pm = self.lille_b.checkin("A002", "d1-pm")
        self.lille_a.checkin("A002", "d1-pm")   # the same session at both kiosks: once
        self.lille_b.checkin("A002", "d2-am")
        [p] = self.progress("A002")
        three = p["modules"]["3"]
        self.assertEqual((three["sessions_attended"], three["attendance_complete"]), (3, True))
        self.assertEqual(three["cme_credits"], 9.0)
        # lille-b voids its d1-pm; lille-a's d1-pm still counts.
        self.lille_b.void("A002", "d1-pm", pm)
        self.assertEqual(self.progress("A002")[0]["modules"]["3"]["sessions_attended"], 3)
        # A004 checked in once at lille-a; lille-b voids it: nothing remains.
        first = self.lille_a.checkin("A004", "d1-am")
        self.lille_b.void("A004", "d1-am", first)
        four = self.progress("A004")[0]["modules"]["3"]
        self.assertEqual((four["sessions_attended"], four["cme_credits"]), (0, 0))

    def test_a_device_record_claiming_more_than_the_union_is_a_disagreement(self):
        ids = self.attend(self.lille_a, "A003")
        self.lille_a.completion("A003", SESSIONS, True, 9.0)
        self.lille_b.completion("A003", SESSIONS[:1], False, 3.0)  # saw less: fine
        three = self.progress("A003")[0]["modules"]["3"]
        self.assertFalse(three["disagreement"])
        self.assertEqual([(r["device_id"], r["agrees"]) for r in three["device_records"]],
                         [("lille-a", True), ("lille-b", True)])
        # A void the device's record did not take into account.
        self.lille_b.void("A003", "d2-am", ids["d2-am"])
        three = self.progress("A003")[0]["modules"]["3"]
        self.assertEqual((three["sessions_attended"], three["attendance_complete"]), (2, False))
        self.assertTrue(three["disagreement"])
        self.assertEqual([(r["device_id"], r["agrees"]) for r in three["device_records"]],
                         [("lille-a", False), ("lille-b", True)])

    def test_progress_of_rostered_unknown_and_all_attendees(self):
        self.import_roster(self.m2, [{"id": "B001", "family_name": "Dubois",
                                      "given_name": "Chloé"}])
        [p] = self.progress("B001")
        self.assertEqual(p["modules"]["2"]["sessions_attended"], 0)
        self.assertTrue(p["modules"]["2"]["in_roster"])
        self.assertIsNone(p["modules"]["1"])
        proc = run("progress", "--db", self.reg.db, "NOBODY", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("NOBODY", proc.stderr)
        self.lille_a.checkin("A009", "d1-am")
        self.assertEqual([p["attendee_id"] for p in self.progress()], ["A009", "B001"])

    def test_export_csv_and_json(self):
        self.import_roster(self.m3, [{"id": "A001", "family_name": "Müller",
                                      "given_name": "Lukas"},
                                     {"id": "A002", "family_name": "X", "given_name": "=cmd"}])
        self.attend(self.lille_a, "A001", SESSIONS[:2])
        self.attend(self.m1, "A001")
        raw = subprocess.run([REGISTRY_BIN, "export", "--db", self.reg.db, "--format", "csv",
                              "--module", "ecnr-2026-2-m3"], capture_output=True, check=True,
                             timeout=60).stdout
        self.assertTrue(raw.startswith(b"\xef\xbb\xbfattendee_id;name;module_id;"))
        lines = raw[3:].decode("utf-8").split("\r\n")
        self.assertEqual(lines, [
            "attendee_id;name;module_id;sessions_attended;sessions_total;attendance_complete;"
            "cme_credits;completed_at",
            "A001;Lukas Müller;ecnr-2026-2-m3;2;3;no;6,0;",
            "A002;\"'=cmd X\";ecnr-2026-2-m3;0;3;no;0,0;",
            ""])
        comma = run("export", "--db", self.reg.db, "--format", "csv", "--separator", ",").stdout
        self.assertIn("A001,Lukas Müller,ecnr-2025-2-m1,3,3,yes,9.0,2025-11-18T08:00:00Z", comma)
        rows = json.loads(run("export", "--db", self.reg.db, "--format", "json").stdout)["rows"]
        self.assertEqual(sorted((r["attendee_id"], r["module_id"], r["attendance_complete"])
                                for r in rows),
                         [("A001", "ecnr-2025-2-m1", True), ("A001", "ecnr-2026-2-m3", False),
                          ("A002", "ecnr-2026-2-m3", False)])
        self.assertEqual(run("export", "--db", self.reg.db, "--format", "json", "--module",
                             "ecnr-1999-1-m1", check=False).returncode, 1)


if __name__ == "__main__":
    unittest.main()
