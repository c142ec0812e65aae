"""Presence mode end to end (issue 16, SPEC section 10): a five-day module whose
attendees scan in and out at a real course-kiosk that syncs to a real course-registry.
Entries, exits, a double scan, a forgotten exit, a kill -9 between an entry and its exit
(every time step here is a kill -9 and a restart at the next moment), two stays in one
session. The minutes and credits in the device's export, its completion records and the
registry's progress must all equal the table below, worked out by hand from the rules
(stays clipped to 08:30-12:30 and 14:00-18:00; 80% of 240 minutes attends; 0.5 credit
per 30 minutes, at most 3 a session and 6 a day)."""
import copy
import csv
import io
import json
import os
import shutil
import tempfile
import unittest

from course_registry import CourseRegistry, run as registry_run
from kiosk import MODULE, ROSTER, DataDir, Server, add_staff, staff_login
from pg_cluster import PgCluster
from test_14_registry_sync import SYNC_TIMEOUT_S, poll

DAYS = ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
PEOPLE = ["A001", "A002", "A003", "A004", "A005"]


def presence_module():
    m = copy.deepcopy(MODULE)
    m["days"] = [{"date": day, "sessions": [
        {"id": f"d{i + 1}-am", "label": f"{WEEKDAYS[i]} morning", "start": "08:30",
         "end": "12:30", "cme_hours": 3.5},
        {"id": f"d{i + 1}-pm", "label": f"{WEEKDAYS[i]} afternoon", "start": "14:00",
         "end": "18:00", "cme_hours": 3.5}]} for i, day in enumerate(DAYS)]
    m.pop("completion", None)
    m["attendance"] = {"mode": "presence"}
    return m


def scans():
    """(day index, "HH:MM", attendee, what the kiosk must answer), in time order."""
    out = []
    for d in range(5):
        for who in PEOPLE:
            out.append((d, "08:25", who, "checked_in"))
            if who == "A002" and d == 0:
                out.append((d, "08:25", who, "already_checked_in"))  # scanned twice
        if d == 4:
            out.append((d, "10:00", "A005", "checked_out"))
            out.append((d, "10:30", "A005", "checked_in"))
        if d == 3:
            out.append((d, "11:00", "A004", "checked_out"))  # after a kill -9 at 08:40
        for who in PEOPLE:
            if (d, who) in ((3, "A004"), (2, "A003")):
                continue  # A004 left at 11:00; A003 forgets to scan out on Wednesday morning
            out.append((d, "12:35", who, "checked_out"))
        for who in PEOPLE:
            out.append((d, "13:55", who, "checked_in"))
        if d == 1:
            out.append((d, "16:00", "A002", "checked_out"))  # leaves early on Tuesday
        for who in PEOPLE:
            if (d, who) == (1, "A002"):
                continue
            out.append((d, "18:05", who, "checked_out"))
    return out


# The table: minutes per session that differ from a whole 240, credits, sessions attended.
FULL = 240
EXPECTED = {
    "A001": {"minutes": {}, "credits": 30, "attended": 10, "complete": True},
    "A002": {"minutes": {"d2-pm": 120}, "credits": 29, "attended": 9, "complete": False},
    "A003": {"minutes": {}, "credits": 30, "attended": 10, "complete": True,
             "no_exit": "d3-am"},
    "A004": {"minutes": {"d4-am": 150}, "credits": 29.5, "attended": 9, "complete": False},
    "A005": {"minutes": {"d5-am": 210}, "credits": 30, "attended": 10, "complete": True},
}


def minutes_of(attendee, session_id):
    return EXPECTED[attendee]["minutes"].get(session_id, FULL)


class PresenceEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    databases = 0

    def setUp(self):
        PresenceEndToEndTest.databases += 1
        name = f"presence{self.databases}"
        self.pg.create_database(name)
        self.reg = CourseRegistry(self.pg, name, devices=()).start()
        self.addCleanup(self.reg.stop)
        self.tmp = tempfile.mkdtemp(prefix="ck-presence-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.module = presence_module()
        path = os.path.join(self.tmp, "module.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.module, f)
        registry_run("module", "add", "--db", self.reg.db, path)
        self.data = self.door("door-a")
        rows = [r for r in ROSTER if r[0] in PEOPLE]
        rows += [(p, "Presence", p, "FR") for p in PEOPLE if p not in {r[0] for r in ROSTER}]
        self.assertEqual(self.data.import_roster(rows).returncode, 0)
        self.badges = {p: self.data.credential(p) for p in PEOPLE}
        self.server = None

    def door(self, device_id, key_from=None):
        """The data directory of a kiosk of the edition, added to the registry."""
        token = registry_run("device", "add", "--db", self.reg.db, device_id, "--module",
                             "ecnr-2026-2-m3").stdout.strip()
        token_path = os.path.join(self.tmp, device_id + ".token")
        with open(token_path, "w", encoding="utf-8") as f:
            f.write(token + "\n")
        os.chmod(token_path, 0o600)
        data = DataDir(module=self.module, key_from=key_from, extra_config={
            "device_id": device_id,
            "registry": {"url": self.reg.url, "token_file": token_path, "ca_file": None,
                         "interval_s": 5, "timeout_s": 10}})
        self.addCleanup(data.cleanup)
        return data

    def at(self, day, hhmm):
        """The device, serving from DAYS[day] hhmm (Paris, +01:00): the one before is
        killed with -9 first: nothing it acknowledged may be lost."""
        if self.server is not None:
            self.server.kill()
        self.server = Server(self.data, fake_time=f"{DAYS[day]}T{hhmm}:00+01:00")
        self.addCleanup(self.server.stop)

    def test_a_five_day_module_in_and_out(self):
        moment = None
        for day, hhmm, who, expected in scans():
            if (day, hhmm) != moment:
                moment = (day, hhmm)
                self.at(day, hhmm)
            status, _, body = self.server.checkin(self.badges[who])
            self.assertIn(status, (200, 201), body)
            self.assertEqual(body["status"], expected, (day, hhmm, who, body))
            if (day, hhmm, who) == (3, "08:25", PEOPLE[-1]):
                # A kill -9 at 08:40, between A004's entry and its exit at 11:00.
                self.at(3, "08:40")
            if (day, hhmm, who) == (1, "16:00", "A002"):
                self.assertEqual(body["minutes_present"], 120)
        # After the last session the device closes the module by itself: the completion
        # records are written, and everything reaches the registry.
        self.at(4, "18:30")
        add_staff(self.data, "maria", "correct horse battery")
        staff = staff_login(self.server, "maria", "correct horse battery")
        poll(lambda: staff.request("GET", "/api/v1/completions")[2]["closed"], SYNC_TIMEOUT_S,
             "the module closed")

        def synced():
            status, _, sync = staff.request("GET", "/api/v1/sync")
            return status == 200 and sync["acked_through"] == sync["last_seq"]
        poll(synced, SYNC_TIMEOUT_S, "every event at the registry")

        # The device's completion records.
        status, _, completions = staff.request("GET", "/api/v1/completions")
        records = {r["attendee_id"]: r for r in completions["records"]}
        # The device's export (CSV): minutes, credits and stays per session.
        status, _, text = staff.request("GET", "/api/v1/export?format=csv")
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        for who, want in EXPECTED.items():
            with self.subTest(attendee=who):
                record = records[who]
                self.assertEqual(record["cme_credits"], want["credits"], record)
                self.assertEqual(record["sessions_attended"], want["attended"], record)
                self.assertEqual(record["attendance_complete"], want["complete"], record)
                for d in range(5):
                    for half in ("am", "pm"):
                        sid = f"d{d + 1}-{half}"
                        self.assertEqual(record["minutes_present"][sid], minutes_of(who, sid),
                                         (sid, record))
                mine = {r["session_id"]: r for r in rows if r["attendee_id"] == who}
                self.assertEqual(len(mine), 10)
                for sid, row in mine.items():
                    self.assertEqual(int(row["minutes_present"]), minutes_of(who, sid), row)
                    self.assertEqual(row["present"], "yes" if minutes_of(who, sid) >= 192
                                     else "no", row)
                    self.assertEqual(row["no_exit"], "yes" if want.get("no_exit") == sid
                                     else "no", row)
                # The registry, from the device's entries and exits.
                [line] = registry_run("progress", "--db", self.reg.db, who).stdout.splitlines()
                m3 = json.loads(line)["modules"]["3"]
                self.assertEqual(m3["cme_credits"], want["credits"], m3)
                self.assertEqual(m3["sessions_attended"], want["attended"], m3)
                self.assertEqual(m3["attendance_complete"], want["complete"], m3)
                self.assertFalse(m3["disagreement"], m3)
        stays = [r["stays"] for r in rows if r["attendee_id"] == "A005" and
                 r["session_id"] == "d5-am"]
        self.assertEqual(stays, ["08:25-10:00; 10:30-12:35"])

    def test_in_by_one_door_out_by_the_other_is_one_stay(self):
        # A second kiosk at the other door, of the same edition.
        other = self.door("door-b", key_from=self.data)
        self.at(0, "08:25")
        self.assertEqual(self.server.checkin(self.badges["A001"])[2]["status"], "checked_in")
        door_b = Server(other, fake_time=f"{DAYS[0]}T10:00:00+01:00")
        self.addCleanup(door_b.stop)
        # Door B cannot know Anna is inside: its screen welcomes her...
        status, _, body = door_b.checkin(self.badges["A001"])
        self.assertEqual((status, body["status"]), (201, "checked_in"), body)
        # ...and the registry, which has both doors' scans, sees one stay, 08:30-10:00.
        poll(lambda: len(self.reg.events("door-a")) == 1 and len(self.reg.events("door-b")) == 1,
             SYNC_TIMEOUT_S, "both doors' scans at the registry")
        [line] = registry_run("progress", "--db", self.reg.db, "A001").stdout.splitlines()
        m3 = json.loads(line)["modules"]["3"]
        self.assertEqual(m3["cme_credits"], 1.5, m3)  # 90 minutes
        self.assertEqual(m3["sessions_attended"], 0, m3)  # under 80% of 240


if __name__ == "__main__":
    unittest.main()
