#!/usr/bin/env python3
"""A course-registry with a few years of an attendee's life, for the office page's browser
test (tests/browser/office.test.mjs): a private PostgreSQL cluster, the registry serving
it, four module editions over two cycles, a roster, events pushed over the device
protocol by two kiosks, and a staff account.

    COURSE_REGISTRY_BIN=... python3 office_fixture.py
prints one JSON line {"url", "username", "password"} once the registry serves, then runs
until its standard input closes (or 10 minutes pass), and stops everything. Meanwhile a
line "checkin DEVICE ATTENDEE SESSION" on its standard input makes that device push one
more check-in (as a kiosk syncing while the office page is open); the fixture answers
with one JSON line {"checkin": id} once the registry has committed it."""
import json
import os
import select
import sys
import time

from course_registry import CourseRegistry, run
from kiosk import MODULE, MODULE_ID
from pg_cluster import PgCluster
from test_15_registry_progress import SESSIONS, Device, edition, module_id

USERNAME = "office"
PASSWORD = "correct horse battery"
MAX_LIFETIME_S = 600


def seed(reg, tmp):
    devices = {}
    for m, device_id in ((edition("2025-2", 1, "Berlin", "2025-11-17"), "berlin"),
                         (edition("2026-1", 2, "Lisbon", "2026-03-16"), "lisbon"),
                         (edition("2026-1", 4, "Vienna", "2026-05-18"), "vienna")):
        path = os.path.join(tmp, module_id(m) + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(m, f)
        run("module", "add", "--db", reg.db, path)
        reg.tokens[device_id] = run("device", "add", "--db", reg.db, device_id, "--module",
                                    module_id(m)).stdout.strip()
        devices[device_id] = Device(reg, device_id, m)
    devices["lille-a"] = Device(reg, "lille-a", MODULE)
    devices["lille-b"] = Device(reg, "lille-b", MODULE)
    roster = os.path.join(tmp, "roster.json")
    with open(roster, "w", encoding="utf-8") as f:
        json.dump([{"id": "A001", "family_name": "Müller", "given_name": "Lukas"},
                   {"id": "A002", "family_name": "Kowalska", "given_name": "Anna"},
                   {"id": "A003", "family_name": "Dubois", "given_name": "Chloé"}], f)
    run("roster", "import", "--db", reg.db, MODULE_ID, roster)
    # Anna: all four modules, in the order 2, 1, 4, 3: her cycle is whole.
    for device_id in ("lisbon", "berlin", "vienna"):
        for s in SESSIONS:
            devices[device_id].checkin("A002", s)
    devices["lille-a"].checkin("A002", "d1-am")
    devices["lille-b"].checkin("A002", "d1-pm")
    devices["lille-b"].checkin("A002", "d2-am")
    # Lukas: modules 1 and 3, module 4 in part; lille-a claims more than the union.
    for s in SESSIONS:
        devices["berlin"].checkin("A001", s)
    ids = {s: devices["lille-a"].checkin("A001", s) for s in SESSIONS}
    devices["lille-a"].completion("A001", SESSIONS, True, 9.0)
    devices["lille-b"].void("A001", "d2-am", ids["d2-am"])
    devices["vienna"].checkin("A001", "d1-am")
    return devices


def main():
    pg = PgCluster().start()
    reg = None
    tmp = None
    try:
        pg.create_database("office")
        reg = CourseRegistry(pg, "office", devices=("lille-a", "lille-b")).start()
        tmp = reg._tmp
        devices = seed(reg, tmp)
        run("staff", "add", "--db", reg.db, USERNAME, input=PASSWORD + "\n")
        print(json.dumps({"url": reg.url, "username": USERNAME, "password": PASSWORD}),
              flush=True)
        # Commands until the test closes our standard input (bounded).
        deadline = time.monotonic() + MAX_LIFETIME_S
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sys.stdin], [], [], left)
            line = sys.stdin.readline() if ready else ""
            if not line:
                break
            words = line.split()
            if len(words) != 4 or words[0] != "checkin" or words[1] not in devices:
                raise SystemExit(f"office_fixture.py: unknown command {line!r}")
            print(json.dumps({"checkin": devices[words[1]].checkin(words[2], words[3])}),
                  flush=True)
    finally:
        if reg is not None:
            reg.stop()
        pg.stop()


if __name__ == "__main__":
    main()
