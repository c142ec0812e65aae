#!/usr/bin/env python3
"""bench/run registry: course-registry's ingest (issue 15). 50 devices push batches of
1,000 events at once into PostgreSQL (a private cluster, default settings, fsync on), as
course-kiosk sends them (gzip). Events per second from the first request to the last
acknowledgement, and the registry's RSS sampled every 20 ms. Target: >= 20,000 events/s,
RSS <= 64 MiB. The bodies are made before the clock starts, so the client's Python is not
what is measured. Writes the "Registry ingest" section of bench/RESULTS.md."""
import argparse
import gzip
import http.client
import json
import os
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import bench  # noqa: E402  (write_section)
from course_registry import CourseRegistry, run  # noqa: E402
from kiosk import MODULE_ID  # noqa: E402
from pg_cluster import PgCluster  # noqa: E402

SECTION = "## Registry ingest (issue 15)"
DEVICES = 50
BATCH = 1000


def body(device, first):
    events = []
    for seq in range(first, first + BATCH):
        events.append({"seq": seq, "id": str(uuid.uuid4()), "type": "checkin",
                       "at": "2026-11-23T08:41:07+01:00", "module_id": MODULE_ID,
                       "attendee_id": f"A{seq % 2000:04d}", "session_id": "d1-am",
                       "source": "badge", "late": False, "not_in_roster": False,
                       "clock_untrusted": False})
    return gzip.compress(json.dumps({"device_id": device, "first_seq": first,
                                     "events": events}).encode())


def rss_mib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=4, help="batches per device")
    parser.add_argument("--label", default="now")
    args = parser.parse_args()
    devices = [f"bench-{i:02d}" for i in range(DEVICES)]
    pg = PgCluster().start()
    try:
        pg.create_database("bench")
        reg = CourseRegistry(pg, "bench", devices=devices).start()
        try:
            bodies = {d: [body(d, 1 + b * BATCH) for b in range(args.batches)] for d in devices}
            errors = []
            peak = [rss_mib(reg.proc.pid)]
            done = threading.Event()

            def sample():
                while not done.wait(0.02):
                    peak[0] = max(peak[0], rss_mib(reg.proc.pid))

            def push(device):
                conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=120)
                headers = {"Authorization": "Bearer " + reg.token_for(device),
                           "Content-Type": "application/json", "Content-Encoding": "gzip"}
                for b, payload in enumerate(bodies[device]):
                    conn.request("POST", f"/api/v1/devices/{device}/events", payload, headers)
                    resp = conn.getresponse()
                    answer = resp.read()
                    if resp.status != 200 or json.loads(answer) != {"acked_through": (b + 1) * BATCH}:
                        errors.append((device, resp.status, answer[:200]))
                        return
                conn.close()

            sampler = threading.Thread(target=sample)
            sampler.start()
            threads = [threading.Thread(target=push, args=(d,)) for d in devices]
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(600)
            elapsed = time.monotonic() - start
            done.set()
            sampler.join()
            if errors:
                raise SystemExit(f"refused batches: {errors[:3]}")
            total = DEVICES * args.batches * BATCH
            stored = int(pg.sql("bench", "SELECT count(*) FROM events"))
            assert stored == total, (stored, total)
        finally:
            reg.stop()
    finally:
        pg.stop()
    rate = total / elapsed
    print(f"{total:,} events from {DEVICES} devices in {elapsed:.2f} s: {rate:,.0f} events/s; "
          f"registry RSS peak {peak[0]:.1f} MiB")
    head = [SECTION, "",
            f"`bench/run registry` (`bench/registry_ingest.py`): {DEVICES} devices at once, each "
            f"sending {args.batches} gzip batches of {BATCH:,} check-in events to "
            "`course-registry serve` on a private PostgreSQL 15 cluster with default settings "
            "(fsync on). Events/s from the first request to the last acknowledgement (every "
            "batch committed before its 200); RSS of the registry sampled every 20 ms. "
            "Targets: >= 20,000 events/s, RSS <= 64 MiB. Rows of earlier runs are kept and "
            "may come from another machine (the stamp below is the last run's): compare "
            "rows measured together.",
            "",
            "| run | events | seconds | events/s | registry RSS peak |",
            "|---|---|---|---|---|"]
    bench.write_section(SECTION, head, args.label,
                        f"| {args.label} | {total:,} | {elapsed:.2f} | {rate:,.0f} | "
                        f"{peak[0]:.1f} MiB |")


if __name__ == "__main__":
    main()
