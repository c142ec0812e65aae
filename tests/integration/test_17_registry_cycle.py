"""End to end: real course-kiosk devices for modules 1-4, in three cycles and four venues,
syncing to one course-registry; an attendee's ECNR cycle completes only when the fourth
module does, whatever the order, and cycle_completed_at is that check-in's time. Each
device runs its own module's day (COURSE_KIOSK_FAKE_TIME) and checks in with its own
badges."""
import copy
import datetime
import json
import os
import shutil
import tempfile
import unittest

from course_registry import CourseRegistry, run as registry_run
from kiosk import MODULE, ROSTER, DataDir, Server
from pg_cluster import PgCluster
from test_14_registry_sync import SYNC_TIMEOUT_S, poll


def edition(cycle, number, venue, first_day):
    """MODULE in another cycle, number, venue and week; one session completes it."""
    m = copy.deepcopy(MODULE)
    m["cycle"], m["number"], m["venue"] = cycle, number, venue
    year, month, day = (int(x) for x in first_day.split("-"))
    m["days"][0]["date"] = first_day
    m["days"][1]["date"] = f"{year:04d}-{month:02d}-{day + 1:02d}"
    m["completion"] = {"min_sessions": 1}
    return m


def module_id(m):
    return f"ecnr-{m['cycle']}-m{m['number']}"


# (module, device id, the moment of its first morning the device starts at)
EDITIONS = [
    (edition("2025-2", 2, "Lisbon", "2025-11-17"), "lisbon", "2025-11-17T08:40:00+00:00"),
    (edition("2026-1", 1, "Berlin", "2026-03-16"), "berlin", "2026-03-16T08:40:00+01:00"),
    (edition("2026-1", 3, "Vienna", "2026-05-18"), "vienna", "2026-05-18T08:40:00+02:00"),
    (edition("2026-2", 4, "Lille", "2026-11-23"), "lille", "2026-11-23T08:40:00+01:00"),
]


class CycleEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def setUp(self):
        self.pg.create_database("cycle")
        self.reg = CourseRegistry(self.pg, "cycle", devices=()).start()
        self.addCleanup(self.reg.stop)
        self.tmp = tempfile.mkdtemp(prefix="ck-cycle-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def device(self, m, device_id, fake_time):
        """A course-kiosk for edition `m`, added to the registry, serving at `fake_time`."""
        path = os.path.join(self.tmp, module_id(m) + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(m, f)
        registry_run("module", "add", "--db", self.reg.db, path)
        token = registry_run("device", "add", "--db", self.reg.db, device_id, "--module",
                             module_id(m)).stdout.strip()
        token_path = os.path.join(self.tmp, device_id + ".token")
        with open(token_path, "w", encoding="utf-8") as f:
            f.write(token + "\n")
        os.chmod(token_path, 0o600)
        data = DataDir(module=m, extra_config={
            "device_id": device_id,
            "registry": {"url": self.reg.url, "token_file": token_path, "ca_file": None,
                         "interval_s": 5, "timeout_s": 10}})
        self.addCleanup(data.cleanup)
        self.assertEqual(data.import_roster(ROSTER).returncode, 0)
        server = Server(data, fake_time=fake_time)
        self.addCleanup(server.stop)
        return data, server

    def progress(self, attendee):
        [line] = registry_run("progress", "--db", self.reg.db, attendee).stdout.splitlines()
        return json.loads(line)

    def test_the_cycle_completes_with_the_fourth_module(self):
        checked_in = {}
        for index, (m, device_id, fake_time) in enumerate(EDITIONS):
            data, server = self.device(m, device_id, fake_time)
            status, _, body = server.checkin(data.credential("A001"))
            self.assertEqual(status, 201, body)
            checked_in[m["number"]] = body["checkin"]
            expected = 1
            if index < 3:  # A002 comes to the first three
                self.assertEqual(server.checkin(data.credential("A002"))[0], 201)
                expected = 2
            poll(lambda: len(self.reg.events(device_id)) == expected, SYNC_TIMEOUT_S,
                 f"{device_id}'s check-ins at the registry")
            p = self.progress("A001")
            done = sorted(int(n) for n, mod in p["modules"].items() if mod and mod["completed_at"])
            self.assertEqual(done, sorted(e[0]["number"] for e in EDITIONS[:index + 1]), p)
            if index < len(EDITIONS) - 1:
                self.assertFalse(p["cycle_complete"], p)
                self.assertIsNone(p["cycle_completed_at"], p)
        self.assertTrue(p["cycle_complete"], p)
        # The time of the fourth module's check-in, as the Lille device filed it.
        completed = datetime.datetime.fromisoformat(p["cycle_completed_at"].replace("Z", "+00:00"))
        self.assertEqual(int(completed.timestamp()), checked_in[4]["at_unix"], p)
        self.assertTrue(p["cycle_completed_at"].startswith("2026-11-23T07:40"), p)
        self.assertEqual({n: mod["module_id"] for n, mod in p["modules"].items()},
                         {"1": "ecnr-2026-1-m1", "2": "ecnr-2025-2-m2",
                          "3": "ecnr-2026-1-m3", "4": "ecnr-2026-2-m4"})
        # Someone who came to three of them only.
        lukas = self.progress("A002")
        self.assertFalse(lukas["cycle_complete"])
        self.assertIsNone(lukas["modules"]["4"])


if __name__ == "__main__":
    unittest.main()
