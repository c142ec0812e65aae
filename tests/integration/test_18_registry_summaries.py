"""course-registry's progress summaries (model/progress_summaries.hpp, schema version 3):
what the office reads must stay exactly what the events give, through every path that
changes it: a void from another device, through another registry process, batches of two
devices racing through two processes, events arriving late or out of order across
devices, `module add` changing an edition's rule, a roster import, and a database
migrated from version 2 while holding events. The reference is the computation from the
events (`progress --verify`, which compares the two in one snapshot) and the figures the
rules give, written out here."""
import copy
import json
import os
import shutil
import tempfile
import threading
import unittest

from course_registry import CourseRegistry, run
from kiosk import MODULE, MODULE_ID
from pg_cluster import PgTestCase
from test_15_registry_progress import SESSIONS, Device, edition, module_id, session_time
from test_16_registry_office import PASSWORD, Office


class RegistrySummariesTest(PgTestCase):
    def setUp(self):
        self.new_database("summaries")
        # MODULE (ecnr-2026-2-m3, Lille, three sessions) with two kiosks.
        self.reg = CourseRegistry(self.pg, self.dbname, devices=("lille-a", "lille-b")).start()
        self.addCleanup(lambda: self.reg.stop())
        self.tmp = tempfile.mkdtemp(prefix="ck-summaries-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        run("staff", "add", "--db", self.reg.db, "office", input=PASSWORD + "\n")
        self.lille_a = Device(self.reg, "lille-a", MODULE)
        self.lille_b = Device(self.reg, "lille-b", MODULE)

    # --- helpers ------------------------------------------------------------------------
    def add_edition(self, m, device_id=None):
        path = os.path.join(self.tmp, module_id(m) + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(m, f)
        out = run("module", "add", "--db", self.reg.db, path).stdout
        if device_id is None:
            return out
        self.reg.tokens[device_id] = run("device", "add", "--db", self.reg.db, device_id,
                                         "--module", module_id(m)).stdout.strip()
        return Device(self.reg, device_id, m)

    def import_roster(self, mid, rows):
        path = os.path.join(self.tmp, "roster.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rows, f)
        run("roster", "import", "--db", self.reg.db, mid, path)

    def office(self, reg=None):
        office = Office(reg or self.reg)
        self.assertEqual(office.login()[0], 200)
        return office

    def progress(self, office, attendee):
        status, _, body = office.request("GET", f"/api/v1/attendees/{attendee}/progress")
        self.assertEqual(status, 200, body)
        return body

    def listed(self, office, query=""):
        status, headers, body = office.request("GET", "/api/v1/progress" + query)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("transfer-encoding"), "chunked")  # streamed
        return body["attendees"]

    def stale(self):
        return int(self.pg.sql(self.dbname, "SELECT count(*) FROM stale_attendees"))

    def verify(self, *ids):
        """progress --verify: (exit code, stdout, stderr)."""
        proc = run("progress", "--verify", "--db", self.reg.db, *ids, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def assert_consistent(self, office):
        """The whole list is each attendee's own answer, and every summary not marked
        stale is what the events give."""
        everyone = self.listed(office)
        ids = [p["attendee_id"] for p in everyone]
        self.assertEqual(ids, sorted(ids))
        for p in everyone:
            self.assertEqual(p, self.progress(office, p["attendee_id"]))
        # The office's short list of everyone says the same of each (GET /api/v1/cycles).
        status, headers, cycles = office.request("GET", "/api/v1/cycles")
        self.assertEqual(status, 200, cycles)
        self.assertEqual(headers.get("transfer-encoding"), "chunked")
        self.assertEqual(cycles["attendees"], [
            {"attendee_id": p["attendee_id"], "name": p["name"],
             "cycle_complete": p["cycle_complete"], "cycle_completed_at": p["cycle_completed_at"],
             "modules_completed": [int(n) for n, m in sorted(p["modules"].items())
                                   if m and m["completed_at"]],
             "cme_credits_total": p["cme_credits_total"]} for p in everyone])
        code, out, err = self.verify()
        self.assertEqual(code, 0, out + err)
        self.assertIn(" 0 differ from their events", out)
        return {p["attendee_id"]: p for p in everyone}

    # --- the tests ----------------------------------------------------------------------
    def test_a_void_from_the_other_kiosk_shows_at_once_in_the_list_and_the_attendee(self):
        self.import_roster(MODULE_ID, [{"id": "A001", "family_name": "Müller",
                                        "given_name": "Lukas"},
                                       {"id": "A002", "family_name": "Kowalska",
                                        "given_name": "Anna"}])
        ids = {s: self.lille_a.checkin("A001", s) for s in SESSIONS}
        self.lille_b.checkin("A002", "d1-am")
        office = self.office()
        before = self.assert_consistent(office)
        three = before["A001"]["modules"]["3"]
        self.assertEqual((three["sessions_attended"], three["attendance_complete"],
                          three["completed_at"]), (3, True, "2026-11-24T08:00:00Z"))
        # Both read once: their summaries are built and not stale.
        self.assertEqual(self.stale(), 0)
        self.lille_b.void("A001", "d1-pm", ids["d1-pm"])
        three = self.progress(office, "A001")["modules"]["3"]
        self.assertEqual((three["sessions_attended"], three["attendance_complete"],
                          three["completed_at"], three["cme_credits"]), (2, False, None, 6.0))
        after = self.assert_consistent(office)
        self.assertEqual(after["A001"]["modules"]["3"], three)
        self.assertEqual(after["A002"], before["A002"])  # untouched

    def test_two_processes_racing_batches_of_two_kiosks_and_reads(self):
        second = self.reg.another_process()
        self.addCleanup(second.stop)
        offices = (self.office(), self.office(second))
        # Each kiosk checks in 40 attendees for every session, kiosk b in its own time,
        # through the other process; meanwhile both processes answer lists and attendees.
        attendees = [f"R{i:03d}" for i in range(40)]
        a = Device(self.reg, "lille-a", MODULE)
        b = Device(second, "lille-b", MODULE)
        taken = {}
        errors = []

        def kiosk(device, sessions):
            try:
                for s in sessions:
                    for i in range(0, len(attendees), 10):
                        ids = device.push(*[{"type": "checkin", "at": session_time(MODULE, s),
                                             "attendee_id": who, "session_id": s,
                                             "source": "badge", "late": False,
                                             "not_in_roster": True, "clock_untrusted": False}
                                            for who in attendees[i:i + 10]])
                        taken.update({(who, s, device.device_id): cid
                                      for who, cid in zip(attendees[i:i + 10], ids)})
            except Exception as e:  # noqa: BLE001 (asserted below)
                errors.append(e)

        def reader(office):
            try:
                for _ in range(6):
                    office.request("GET", "/api/v1/progress")
                    for who in attendees[::7]:
                        office.request("GET", f"/api/v1/attendees/{who}/progress")
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=kiosk, args=(a, SESSIONS[:2])),
                   threading.Thread(target=kiosk, args=(b, SESSIONS[1:])),
                   threading.Thread(target=reader, args=(offices[0],)),
                   threading.Thread(target=reader, args=(offices[1],))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        # Kiosk b voids its d2-am check-ins of the first ten through the first process.
        b_first = Device(self.reg, "lille-b", MODULE)
        b_first.seq = b.seq
        for who in attendees[:10]:
            b_first.void(who, "d2-am", taken[(who, "d2-am", "lille-b")])
        for office in offices:
            everyone = {p["attendee_id"]: p for p in self.listed(office)}
            self.assertEqual(sorted(everyone), attendees)
            for who in attendees:
                three = everyone[who]["modules"]["3"]
                self.assertEqual(three["sessions_attended"], 2 if who in attendees[:10] else 3,
                                 who)
                self.assertEqual(three["attendance_complete"], who not in attendees[:10])
        self.assertEqual(self.stale(), 0)
        self.assert_consistent(offices[1])

    def test_events_late_and_out_of_order_across_kiosks(self):
        office = self.office()
        # Kiosk b syncs first: a void of a check-in kiosk a has not sent yet.
        checkin_id = "5b0c7a52-8f8e-4b6e-9d1c-3f3c1c9c0a01"
        self.lille_b.push({"type": "void", "at": session_time(MODULE, "d1-am"),
                           "attendee_id": "A005", "session_id": "d1-am",
                           "checkin_id": checkin_id.upper(), "reason": "wrong person",
                           "staff": "Marie Laurent"})
        self.lille_b.checkin("A005", "d2-am")
        self.assertEqual(self.progress(office, "A005")["modules"]["3"]["sessions_attended"], 1)
        # Kiosk a's log arrives: the voided d1-am, and d1-pm.
        self.lille_a.push({"id": checkin_id, "type": "checkin",
                           "at": session_time(MODULE, "d1-am"), "attendee_id": "A005",
                           "session_id": "d1-am", "source": "badge", "late": False,
                           "not_in_roster": True, "clock_untrusted": False})
        self.lille_a.checkin("A005", "d1-pm")
        three = self.progress(office, "A005")["modules"]["3"]
        self.assertEqual((three["sessions_attended"], three["attendance_complete"]), (2, False))
        # A kiosk that was offline sends a d1-am check-in from the first morning, days late:
        # complete, at the time the rule first held (d2-am, the last session needed).
        late = Device(self.reg, "lille-late", MODULE)
        self.reg.tokens["lille-late"] = run("device", "add", "--db", self.reg.db, "lille-late",
                                            "--module", MODULE_ID).stdout.strip()
        late.checkin("A005", "d1-am")
        three = self.progress(office, "A005")["modules"]["3"]
        self.assertEqual((three["sessions_attended"], three["attendance_complete"],
                          three["completed_at"]), (3, True, "2026-11-24T08:00:00Z"))
        self.assert_consistent(office)

    def test_module_add_changing_the_rule_and_the_venue_recomputes_its_attendees(self):
        m1 = self.add_edition(edition("2025-2", 1, "Berlin", "2025-11-17"), "berlin")
        for s in SESSIONS[:2]:
            self.lille_a.checkin("A010", s)
            m1.checkin("A010", s)
        self.lille_a.checkin("A011", "d1-am")
        office = self.office()
        before = self.assert_consistent(office)
        self.assertEqual([before["A010"]["modules"][n]["attendance_complete"] for n in "13"],
                         [False, False])
        # Module 3's edition now completes with two sessions, in another venue.
        changed = copy.deepcopy(MODULE)
        changed["completion"] = {"min_sessions": 2}
        changed["venue"] = "Lille Grand Palais"
        self.assertIn("Updated", self.add_edition(changed))
        # Its attendees were marked in that transaction (or refreshed since, by serve).
        code, out, err = self.verify()
        self.assertEqual(code, 0, out + err)
        p = self.progress(office, "A010")
        three = p["modules"]["3"]
        self.assertEqual((three["venue"], three["sessions_attended"],
                          three["attendance_complete"], three["completed_at"]),
                         ("Lille Grand Palais", 2, True, "2026-11-23T14:00:00Z"))
        self.assertEqual(p["modules"]["1"], before["A010"]["modules"]["1"])  # not module 1's
        after = self.assert_consistent(office)
        self.assertFalse(after["A011"]["modules"]["3"]["attendance_complete"])
        self.assertEqual(after["A011"]["modules"]["3"]["venue"], "Lille Grand Palais")
        # The export reads the same summaries.
        rows = json.loads(run("export", "--db", self.reg.db, "--format", "json",
                              "--module", MODULE_ID).stdout)["rows"]
        self.assertEqual([(r["attendee_id"], r["attendance_complete"], r["completed_at"])
                          for r in rows],
                         [("A010", True, "2026-11-23T14:00:00Z"), ("A011", False, None)])

    def test_a_roster_import_names_an_attendee_known_from_events(self):
        self.lille_a.checkin("W001", "d1-am")  # a walk-in, not in any roster
        office = self.office()
        p = self.progress(office, "W001")
        self.assertEqual((p["name"], p["modules"]["3"]["in_roster"]), ("", False))
        m2 = edition("2026-1", 2, "Lisbon", "2026-03-16")
        self.add_edition(m2, "lisbon")
        self.import_roster(MODULE_ID, [{"id": "W001", "family_name": "Şahin",
                                        "given_name": "Elif"}])
        self.import_roster(module_id(m2), [{"id": "W001", "family_name": "Şahin",
                                            "given_name": "Elif"},
                                           {"id": "N001", "family_name": "Nagy",
                                            "given_name": "Zsófia"}])
        p = self.progress(office, "W001")
        self.assertEqual((p["name"], p["modules"]["3"]["in_roster"],
                          p["modules"]["2"]["module_id"], p["modules"]["2"]["sessions_attended"]),
                         ("Elif Şahin", True, "ecnr-2026-1-m2", 0))
        everyone = self.assert_consistent(office)
        self.assertEqual(sorted(everyone), ["N001", "W001"])
        self.assertEqual([p["attendee_id"] for p in self.listed(office, "?module_id=ecnr-2026-1-m2")],
                         ["N001", "W001"])
        self.assertEqual([p["attendee_id"] for p in self.listed(office, "?module_id=" + MODULE_ID)],
                         ["W001"])

    def test_a_database_migrated_from_version_2_builds_its_summaries(self):
        self.import_roster(MODULE_ID, [{"id": "A020", "family_name": "Rossi",
                                        "given_name": "Giulia"}])
        for s in SESSIONS:
            self.lille_a.checkin("A020", s)
        first = self.lille_b.checkin("A021", "d1-am")
        self.lille_a.void("A021", "d1-am", first)
        expected = {line["attendee_id"]: line for line in
                    map(json.loads, run("progress", "--db", self.reg.db).stdout.splitlines())}
        self.reg.stop()
        # The database as version 2 left it: no summaries, no revisions.
        self.pg.sql(self.dbname, "DROP TABLE attendee_progress, edition_progress, "
                                 "stale_attendees; ALTER TABLE module_editions DROP COLUMN "
                                 "revision; DELETE FROM schema_migrations WHERE version >= 3")
        proc = run("progress", "--db", self.reg.db, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("course-registry migrate", proc.stderr)
        self.assertIn("from version 2 to 4", run("migrate", "--db", self.reg.db).stdout)
        self.assertEqual(self.stale(), 2)  # every attendee waits for a summary
        code, out, _ = self.verify()
        self.assertEqual((code, out.strip()),
                         (0, "Checked 2 attendee(s): 0 differ from their events, "
                             "2 wait to be refreshed"))
        self.assertEqual(json.loads(run("progress", "--db", self.reg.db, "A021").stdout),
                         expected["A021"])
        self.assertEqual(self.stale(), 1)
        self.reg = self.reg.another_process()
        office = self.office()
        self.assertEqual(self.assert_consistent(office), expected)
        self.assertEqual(expected["A020"]["modules"]["3"]["completed_at"], "2026-11-24T08:00:00Z")
        self.assertEqual(expected["A021"]["modules"]["3"]["sessions_attended"], 0)

    def test_verify_names_a_summary_that_is_not_what_the_events_give(self):
        for s in SESSIONS:
            self.lille_a.checkin("A030", s)
        self.lille_a.checkin("A031", "d1-am")
        office = self.office()
        self.assert_consistent(office)
        self.pg.sql(self.dbname, "UPDATE attendee_progress SET progress = replace(progress, "
                                 "'\"sessions_attended\":3', '\"sessions_attended\":2') "
                                 "WHERE attendee_id = 'A030'")
        code, out, err = self.verify()
        self.assertEqual(code, 1)
        self.assertIn("1 differ from their events", out)
        self.assertIn("the progress summary of A030 is not what its events give", err)
        self.pg.sql(self.dbname, "UPDATE edition_progress SET cme_credits = 1 "
                                 "WHERE attendee_id = 'A031'")
        self.assertIn("2 differ from their events", self.verify()[1])
        self.assertEqual(self.verify("A031")[0], 1)
        # Marked stale, both are computed again by the next read.
        self.pg.sql(self.dbname, "INSERT INTO stale_attendees (attendee_id) "
                                 "VALUES ('A030'), ('A031')")
        self.assertEqual(self.progress(office, "A030")["modules"]["3"]["sessions_attended"], 3)
        self.assert_consistent(office)


if __name__ == "__main__":
    unittest.main()
