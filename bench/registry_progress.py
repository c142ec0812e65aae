#!/usr/bin/env python3
"""bench/run registry-progress: course-registry's reads with years of data (issue 15).

The data set: 10 cycles x modules 1-4 = 40 module editions (five days x two sessions, as
docs/example-config.json; half of them complete with 8 of the 10 sessions), 100,000
attendees and about 5 million events. Attendees start in any cycle, take one to four
modules a cycle in their own order, miss sessions, repeat modules they did not complete,
drop out; two per cent of a roster never come, one per cent of those who come are not in
the roster. Each edition has three kiosks: a check-in at either, sometimes at two (the
same session twice), a void now and then from another kiosk than the check-in's (so a
completion record of the kiosk that took it claims more than the union: a
disagreement), completion records from one or two kiosks at the module's close,
a check-in taken with an untrusted clock now and then. Everything goes in through the
real paths: `module add`, `roster import`, `device add`, and each device's event log in
seq order as gzip batches of 1,000 events to POST /api/v1/devices/{id}/events, eight
devices at a time, roughly in the order the editions took place, with one device in
twenty sending its log late (a year or more after its edition).

The prepared cluster is kept in build/bench/registry-progress/ (a few GB; remove it to
start again) and each measurement runs on a copy of its database. Measured, with a staff
login cookie as the office page has:
  - GET /api/v1/attendees/{id}/progress of random attendees, one after the other on one
    connection: p50, p99, max;
  - GET /api/v1/cycles (everyone's cycle state, and the complete ones),
  - GET /api/v1/progress (the whole list) and filtered lists (cycle_complete=true|false,
    module_id=..., both), each several times: seconds to the last byte, size;
  - the same attendee's progress right after a void from another kiosk (the answer must
    show it), and the latency of those reads;
  - the registry's RSS, sampled every 20 ms, from its start to the end of the reads.
Targets (issue 15): progress <= 5 ms p99, the office's list of everyone's cycle state (GET /api/v1/cycles) <= 200 ms, RSS <= 64 MiB.

    bench/run registry-progress                      # this tree's build, full scale
    bench/run registry-progress --scale 0.1          # 10,000 attendees, ~500,000 events
    python3 bench/registry_progress.py --bin OLD/course-registry --label before
Writes the "Registry progress" section of bench/RESULTS.md (one row per --label)."""
import argparse
import datetime
import gzip
import http.client
import json
import multiprocessing
import os
import pwd
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import bench  # noqa: E402  (write_section, BUILD)
from pg_cluster import PG_BIN, PgCluster  # noqa: E402

SECTION = "## Registry progress with years of data (issue 15)"
GENERATOR = 4  # bump when the data set changes: a cached cluster of another is rebuilt
CACHE = os.path.join(bench.BUILD, "registry-progress")
STAFF_PASSWORD = "bench staff password"
BATCH = 1000
SENDERS = 8
CYCLES = [f"{year}-{half}" for year in range(2022, 2027) for half in (1, 2)]
VENUES = [("Lille", "Europe/Paris"), ("Berlin", "Europe/Berlin"), ("Lisbon", "Europe/Lisbon"),
          ("Vienna", "Europe/Vienna"), ("Prague", "Europe/Prague"), ("Madrid", "Europe/Madrid"),
          ("Dublin", "Europe/Dublin"), ("Warsaw", "Europe/Warsaw"), ("Athens", "Europe/Athens"),
          ("Helsinki", "Europe/Helsinki")]
FAMILY = ["Müller", "Kowalska", "Dubois", "García", "Rossi", "Novák", "Nagy", "Jensen",
          "O'Brien", "Papadopoulos", "Virtanen", "Silva", "Smith", "Horváth", "Popescu",
          "Jovanović", "Lindqvist", "Van der Berg", "Şahin", "Ivanova"]
GIVEN = ["Lukas", "Anna", "Chloé", "José", "Giulia", "Jiří", "Zsófia", "Mette", "Siobhán",
         "Eleni", "Aino", "João", "Emma", "Ádám", "Ioana", "Miloš", "Åsa", "Daan", "Elif",
         "Olga"]
SESSIONS = [f"d{d}-{h}" for d in range(1, 6) for h in ("am", "pm")]
SESSION_TIMES = {"am": ((8, 30), (12, 30)), "pm": ((14, 0), (18, 0))}


# --- the data set ----------------------------------------------------------------------

def edition_config(index):
    """Module edition `index` (0..39): cycle index // 4, module index % 4 + 1."""
    cycle, number = CYCLES[index // 4], index % 4 + 1
    year, half = int(cycle[:4]), int(cycle[5])
    venue, zone = VENUES[index % len(VENUES)]
    month = (1 if half == 1 else 8) + number  # spring: Feb-May; autumn: Sep-Dec
    first = datetime.date(year, month, 1)
    first += datetime.timedelta(days=(7 - first.weekday()) % 7 + 7)  # the second Monday
    days = []
    for d in range(5):
        day = first + datetime.timedelta(days=d)
        last = d == 4
        days.append({"date": day.isoformat(), "sessions": [
            {"id": f"d{d + 1}-am", "label": f"{day:%A} morning", "start": "08:30",
             "end": "12:30", "cme_hours": 3.5},
            {"id": f"d{d + 1}-pm", "label": f"{day:%A} afternoon", "start": "14:00",
             "end": "17:00" if last else "18:00", "cme_hours": 3 if last else 3.5}]})
    module = {"cycle": cycle, "number": number, "venue": venue, "timezone": zone,
              "checkin_opens_before_min": 60, "late_after_min": 15, "days": days}
    if index % 2 == 1:
        module["completion"] = {"min_sessions": 8}
    return module


def module_id(module):
    return f"ecnr-{module['cycle']}-m{module['number']}"


def device_ids(index):
    return [f"k{index:02d}-{kiosk}" for kiosk in "abc"]


def attendee_id(n):
    return f"R{n:06d}"


def journeys(attendees):
    """Per edition index, the attendees who take it: (attendee number, sessions attended,
    in_roster). Deterministic."""
    out = [[] for _ in range(40)]
    for n in range(attendees):
        rng = random.Random(n)
        pending = [1, 2, 3, 4]
        rng.shuffle(pending)
        first = rng.randrange(10)
        for cycle in range(first, 10):
            if not pending or (cycle > first and rng.random() < 0.06):
                break
            for number in pending[:rng.choice((1, 2, 2, 3, 4))]:
                index = cycle * 4 + number - 1
                roll = rng.random()
                if roll < 0.80:
                    attended = 10
                elif roll < 0.92:
                    attended = rng.choice((8, 9))
                elif roll < 0.98:
                    attended = rng.randrange(2, 8)
                else:
                    attended = 0  # in the roster, never came
                out[index].append((n, attended, rng.random() >= 0.01))
                rule = 8 if index % 2 == 1 else 10
                if attended >= rule:
                    pending.remove(number)
    return out


def local_time(module, session, minute_offset, zone_cache={}):
    """RFC 3339 local time `minute_offset` minutes after the session's start."""
    zone = zone_cache.setdefault(module["timezone"], zoneinfo.ZoneInfo(module["timezone"]))
    day = module["days"][int(session[1]) - 1]["date"]
    hour, minute = SESSION_TIMES[session[3:]][0]
    t = datetime.datetime(int(day[:4]), int(day[5:7]), int(day[8:10]), hour, minute,
                          tzinfo=zone) + datetime.timedelta(minutes=minute_offset)
    return t.isoformat()


def device_logs(index, takers):
    """The event logs of edition `index`'s three kiosks, each in time order: lists of
    (sort key, event dict without seq). Also the candidates for the bench's late voids:
    check-ins that alone give their attendee a session of a completed single edition."""
    module = edition_config(index)
    mid = module_id(module)
    rule = module.get("completion", {}).get("min_sessions", 10)
    rng = random.Random(1000 + index)
    logs = {d: [] for d in device_ids(index)}
    devices = list(logs)
    candidates = []

    def new_id():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    close_at = local_time(module, "d5-pm", 60)  # the module closes at 18:00 on Friday
    closing = devices[:2] if index % 3 else devices
    for n, attended, in_roster in takers:
        aid = attendee_id(n)
        seen = {d: set() for d in devices}  # what each kiosk itself counts
        candidate_taken = False  # one per attendee and edition
        sessions = sorted(rng.sample(SESSIONS, attended))
        for session in sessions:
            device = rng.choice(devices)
            minute = rng.randrange(-25, 20)
            cid = new_id()
            at = local_time(module, session, minute)
            untrusted = rng.random() < 0.002
            logs[device].append((at, {"id": cid, "type": "checkin", "at": at,
                                      "attendee_id": aid, "session_id": session,
                                      "source": rng.choice(("badge", "badge", "phone")),
                                      "late": minute > 15, "not_in_roster": not in_roster,
                                      "clock_untrusted": untrusted}))
            seen[device].add(session)
            if rng.random() < 0.10:  # scanned again at another kiosk
                other = rng.choice([d for d in devices if d != device])
                at2 = local_time(module, session, minute + rng.randrange(1, 30))
                logs[other].append((at2, {"id": new_id(), "type": "checkin", "at": at2,
                                          "attendee_id": aid, "session_id": session,
                                          "source": "badge", "late": False,
                                          "not_in_roster": not in_roster,
                                          "clock_untrusted": False}))
                seen[other].add(session)
            elif rng.random() < 0.004:  # the wrong person: voided at another kiosk
                other = rng.choice([d for d in devices if d != device])
                at2 = local_time(module, session, minute + rng.randrange(2, 90))
                logs[other].append((at2, {"id": new_id(), "type": "void", "at": at2,
                                          "attendee_id": aid, "session_id": session,
                                          "checkin_id": cid, "reason": "wrong attendee picked",
                                          "staff": "Marie Laurent"}))
            elif attended == 10 and rule == 10 and not candidate_taken:
                candidates.append((aid, mid, session, cid, device))
                candidate_taken = True
        for device in closing:
            if not in_roster and not seen[device]:
                continue
            kept = sorted(seen[device])
            credits = 3.0 * len(kept)  # 3.5 h and 3 h sessions: 3 credits each
            logs[device].append(("~" + close_at, {
                "id": new_id(), "type": "completion", "at": close_at, "attendee_id": aid,
                "sessions_attended": len(kept), "attended_session_ids": kept,
                "attendance_complete": len(kept) >= rule,
                "cme_credits": min(credits, 30.0), "not_in_roster": not in_roster}))
    for device in devices:
        logs[device].sort(key=lambda item: item[0])
    return mid, logs, candidates


def edition_batches(args):
    """Edition `index`'s kiosks' logs as gzip batch bodies, with the void candidates."""
    index, takers = args
    mid, logs, candidates = device_logs(index, takers)
    out = {}
    for device, log in logs.items():
        bodies = []
        for first in range(0, len(log), BATCH):
            events = []
            for i, (_, event) in enumerate(log[first:first + BATCH]):
                events.append(dict(event, seq=first + i + 1, module_id=mid))
            bodies.append(gzip.compress(json.dumps(
                {"device_id": device, "first_seq": first + 1, "events": events},
                ensure_ascii=False).encode(), compresslevel=6))
        out[device] = (len(log), bodies)
    # The candidates' kiosks: the void comes from another one.
    return index, out, candidates


# --- PostgreSQL and the registry -------------------------------------------------------

class CachedCluster(PgCluster):
    """A PgCluster in a fixed directory that outlives the bench (the prepared data)."""

    def __init__(self, directory):
        super().__init__()
        self.dir = directory

    def start(self):
        data = os.path.join(self.dir, "db")
        if not os.path.isdir(data):
            os.makedirs(self.dir, exist_ok=True)
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                for path in (CACHE, self.dir):
                    os.chown(path, pw.pw_uid, pw.pw_gid)
            subprocess.run(self._as_owner([f"{PG_BIN}/initdb", "-D", data, "-A", "trust",
                                           "-U", "postgres", "-E", "UTF8"]),
                           check=True, capture_output=True, timeout=120)
        self.start_server()
        return self

    def stop(self):
        self.stop_server()


def registry(binary, *args, stdin=None):
    proc = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True,
                          timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"course-registry {' '.join(args[:2])} failed: {proc.stderr}")
    return proc.stdout


class Serve:
    """`course-registry serve` on a database, its RSS sampled every 20 ms."""

    def __init__(self, binary, conninfo):
        self.started = time.monotonic()
        self.proc = subprocess.Popen([binary, "serve", "--db", conninfo, "--listen",
                                      "127.0.0.1:0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.port = None
        self.output = []
        for line in self.proc.stdout:
            self.output.append(line)
            if "listening on" in line:
                self.port = int(line.rsplit(":", 1)[1])
                break
        if self.port is None:
            raise SystemExit(f"serve did not start: {self.output} {self.proc.stderr.read()}")
        self.listening_s = time.monotonic() - self.started
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.peak = {}
        self.phase = "start"
        self.rss_now = self.rss()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample)
        self._sampler.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line)

    def rss(self):
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _sample(self):
        while not self._done.wait(0.02):
            self.rss_now = self.rss()
            self.peak[self.phase] = max(self.peak.get(self.phase, 0.0), self.rss_now)

    def stop(self):
        self._done.set()
        self._sampler.join()
        self.proc.terminate()
        self.proc.wait(30)


class Client:
    """One keep-alive connection with the office's cookie."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        self.cookie = None
        status, _, body = self.request("POST", "/api/v1/session",
                                       json.dumps({"username": "bench",
                                                   "password": STAFF_PASSWORD}).encode(),
                                       {"Content-Type": "application/json"})
        if status != 200:
            raise SystemExit(f"login: {status} {body[:200]}")
        self.csrf = json.loads(body)["csrf_token"]

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body, headers)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, http.client.ResponseNotReady,
                ConnectionResetError, BrokenPipeError):
            # The server ended the idle keep-alive connection (after a long pause of the
            # client's, e.g. parsing a list): once more on a new one.
            self.conn.close()
            self.conn.request(method, path, body, headers)
            resp = self.conn.getresponse()
        data = resp.read()
        if resp.getheader("Set-Cookie"):
            self.cookie = resp.getheader("Set-Cookie").split(";")[0]
        return resp.status, resp, data


def push(port, token, device, body, expect):
    """Sends one batch as a device does: again after Retry-After when the registry is
    busy (503)."""
    for _ in range(20):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("POST", f"/api/v1/devices/{device}/events", body,
                     {"Authorization": "Bearer " + token, "Content-Type": "application/json",
                      "Content-Encoding": "gzip"})
        resp = conn.getresponse()
        answer = resp.read()
        conn.close()
        if resp.status == 503:
            time.sleep(int(resp.getheader("Retry-After", "5")))
            continue
        if resp.status != 200 or json.loads(answer) != {"acked_through": expect}:
            raise RuntimeError(f"{device}: {resp.status} {answer[:300]}")
        return
    raise RuntimeError(f"{device}: still busy after 20 tries")


# --- preparing the data ----------------------------------------------------------------

def prepare(binary, scale, rebuild, tag=""):
    """The cached cluster with database `prepared` holding the data set (built when
    missing); returns (cluster, meta). `tag` names another cache of the same data set
    (e.g. one built by another registry)."""
    attendees = int(100_000 * scale)
    key = f"g{GENERATOR}-a{attendees}{'-' + tag if tag else ''}"
    pg = CachedCluster(os.path.join(CACHE, key))
    meta_path = os.path.join(CACHE, key + ".json")
    if rebuild and os.path.isdir(pg.dir):
        shutil.rmtree(pg.dir)
    if os.path.exists(meta_path) and os.path.isdir(pg.dir) and not rebuild:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        pg.start()
        return pg, meta
    if os.path.isdir(pg.dir):
        shutil.rmtree(pg.dir)
    if os.path.exists(meta_path):
        os.remove(meta_path)
    print(f"preparing {attendees:,} attendees (cached in {pg.dir})", flush=True)
    t0 = time.monotonic()
    takers = journeys(attendees)
    with multiprocessing.Pool(os.cpu_count()) as pool:
        editions = sorted(pool.map(edition_batches, list(enumerate(takers)), chunksize=1))
    events = sum(n for _, out, _ in editions for n, _ in out.values())
    print(f"  {events:,} events made in {time.monotonic() - t0:.0f} s", flush=True)
    pg.start()
    pg.create_database("prepared")
    db = pg.conninfo("prepared")
    registry(binary, "migrate", "--db", db)
    tmp = os.path.join(CACHE, "tmp")
    os.makedirs(tmp, exist_ok=True)
    tokens = {}
    t1 = time.monotonic()
    for index in range(40):
        module = edition_config(index)
        path = os.path.join(tmp, "module.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(module, f)
        registry(binary, "module", "add", "--db", db, path)
        roster = []
        for n, _, in_roster in takers[index]:
            if in_roster:
                rng = random.Random(n)
                roster.append({"id": attendee_id(n), "family_name": rng.choice(FAMILY),
                               "given_name": rng.choice(GIVEN)})
        path = os.path.join(tmp, "roster.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(roster, f, ensure_ascii=False)
        registry(binary, "roster", "import", "--db", db, module_id(module), path)
        for device in device_ids(index):
            tokens[device] = registry(binary, "device", "add", "--db", db, device, "--module",
                                      module_id(module)).strip()
    registry(binary, "staff", "add", "--db", db, "bench", stdin=STAFF_PASSWORD + "\n")
    print(f"  editions, rosters and devices in {time.monotonic() - t1:.0f} s", flush=True)
    # The order the devices send in: by their edition, one in twenty a year or more late.
    rng = random.Random(7)
    order = []
    for index, out, _ in editions:
        for device, (_, bodies) in out.items():
            late = rng.random() < 0.05
            order.append((index + (rng.randrange(4, 12) if late else 0) + rng.random(),
                          device, bodies))
    order.sort()
    serve = Serve(binary, db)
    serve.phase = "ingest"
    queue = list(reversed(order))
    lock = threading.Lock()
    errors = []

    def sender():
        while True:
            with lock:
                if not queue or errors:
                    return
                _, device, bodies = queue.pop()
            try:
                for b, body in enumerate(bodies):
                    push(serve.port, tokens[device], device, body,
                         min((b + 1) * BATCH, counts[device]))
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(e)
                return

    counts = {device: n for _, out, _ in editions for device, (n, _) in out.items()}
    t2 = time.monotonic()
    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ingest_s = time.monotonic() - t2
    serve.stop()
    if errors:
        raise SystemExit(f"ingest failed: {errors[0]}")
    print(f"  {events:,} events ingested in {ingest_s:.0f} s ({events / ingest_s:,.0f}/s), "
          f"registry RSS peak {serve.peak.get('ingest', 0):.1f} MiB", flush=True)
    pg.sql("prepared", "VACUUM ANALYZE")
    pg.sql("prepared", "CHECKPOINT")
    candidates = [c for _, _, cands in editions for c in cands]
    meta = {"attendees": attendees, "events": events, "tokens": tokens,
            "counts": counts, "schema": int(pg.sql("prepared", "SELECT max(version) FROM "
                                                               "schema_migrations")),
            "built_by": binary, "ingest_s": ingest_s,
            "ingest_rss_mib": serve.peak.get("ingest", 0),
            "candidates": random.Random(8).sample(
                candidates, min(1000, len(candidates)))}
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f)
    shutil.rmtree(tmp, ignore_errors=True)
    return pg, meta


# --- measuring -------------------------------------------------------------------------

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


ATTENDEE = b'{"attendee_id":'  # each attendee's object begins so (keys in order)


def timed_list(client, path, timeout_s):
    """Seconds to the last byte, bytes and attendees of one list, read as it comes and
    dropped (the client's own memory is not what is measured); None when it took longer
    than timeout_s (the connection is then given up)."""
    client.conn.timeout = timeout_s
    if client.conn.sock is not None:
        client.conn.sock.settimeout(timeout_s)
    start = time.monotonic()
    size, count, tail = 0, 0, b""
    try:
        client.conn.request("GET", path, headers={"Cookie": client.cookie})
        resp = client.conn.getresponse()
        while True:
            piece = resp.read1(1 << 20)
            if not piece:
                break
            size += len(piece)
            count += (tail + piece).count(ATTENDEE)
            tail = piece[-(len(ATTENDEE) - 1):]
        resp.read()  # the end of the chunked body: the connection is ready again
    except (TimeoutError, http.client.RemoteDisconnected, ConnectionResetError):
        client.conn.close()
        return None, 0, 0
    elapsed = time.monotonic() - start
    if resp.status != 200:
        raise SystemExit(f"{path}: {resp.status}")
    return elapsed, size, count


def measure(binary, pg, meta, args):
    pg.sql("postgres", "DROP DATABASE IF EXISTS measure")
    t0 = time.monotonic()
    pg.sql("postgres", "CREATE DATABASE measure TEMPLATE prepared STRATEGY FILE_COPY")
    print(f"copied the prepared database in {time.monotonic() - t0:.0f} s", flush=True)
    db = pg.conninfo("measure")
    serve = Serve(binary, db)
    result = {"listening_s": serve.listening_s, "migrated": any(
        "migrated" in line for line in serve.output)}
    try:
        # The summaries of a migrated database are built by serve in the background
        # (reads build what they need meanwhile): wait for that first.
        serve.phase = "catch-up"
        has_stale = pg.sql("measure", "SELECT to_regclass('stale_attendees') IS NOT NULL")
        start = time.monotonic()
        if has_stale == "t":
            while int(pg.sql("measure", "SELECT count(*) FROM stale_attendees")) > 0:
                time.sleep(0.5)
        result["catch_up_s"] = time.monotonic() - start if has_stale == "t" else None
        # Then autovacuum's work on what was just written (a few minutes at most), so that
        # the reads are measured on a settled database, as they run in a working week.
        quiet, deadline = 0, time.monotonic() + 300
        while quiet < 3 and time.monotonic() < deadline:
            busy = int(pg.sql("measure", "SELECT count(*) FROM pg_stat_activity "
                                         "WHERE backend_type = 'autovacuum worker'"))
            quiet = quiet + 1 if busy == 0 else 0
            time.sleep(1)
        serve.phase = "reads"
        result["rss_idle"] = serve.rss()
        client = Client(serve.port)
        rng = random.Random(42)
        ids = [attendee_id(rng.randrange(meta["attendees"])) for _ in range(args.samples)]
        for aid in ids[:50]:  # warm-up
            client.request("GET", f"/api/v1/attendees/{aid}/progress")
        latencies = []
        for aid in ids:
            start = time.perf_counter()
            status, _, body = client.request("GET", f"/api/v1/attendees/{aid}/progress")
            latencies.append((time.perf_counter() - start) * 1000)
            if status not in (200, 404):
                raise SystemExit(f"progress {aid}: {status} {body[:200]}")
        result["progress"] = {"n": len(latencies), "p50": percentile(latencies, 50),
                              "p99": percentile(latencies, 99), "max": max(latencies)}
        print(f"progress of {len(ids)} attendees: p50 {result['progress']['p50']:.2f} ms, "
              f"p99 {result['progress']['p99']:.2f} ms, max {result['progress']['max']:.1f} ms",
              flush=True)
        # A void from another kiosk, then the attendee's progress at once.
        fresh = []
        acked = dict(meta["counts"])
        for aid, mid, session, cid, device in meta["candidates"][:args.voids]:
            status, _, body = client.request("GET", f"/api/v1/attendees/{aid}/progress")
            before = json.loads(body)
            number = mid[-1]
            slot = before["modules"][number]
            if slot is None or slot["module_id"] != mid or slot["sessions_attended"] != 10:
                continue  # another edition of the module counts for this attendee
            other = next(d for d in device_ids(int(device[1:3])) if d != device)
            acked[other] += 1
            event = {"seq": acked[other], "id": str(uuid.UUID(int=rng.getrandbits(128),
                                                              version=4)),
                     "type": "void", "at": "2026-12-01T10:00:00+01:00", "module_id": mid,
                     "attendee_id": aid, "session_id": session, "checkin_id": cid,
                     "reason": "bench", "staff": "Bench"}
            push(serve.port, meta["tokens"][other], other, gzip.compress(json.dumps(
                {"device_id": other, "first_seq": acked[other], "events": [event]}).encode()),
                acked[other])
            start = time.perf_counter()
            status, _, body = client.request("GET", f"/api/v1/attendees/{aid}/progress")
            fresh.append((time.perf_counter() - start) * 1000)
            after = json.loads(body)["modules"][number]
            if after["module_id"] == mid and after["sessions_attended"] != 9:
                raise SystemExit(f"{aid}: the void from {other} is not in {after}")
        result["after_void"] = {"n": len(fresh), "p50": percentile(fresh, 50) if fresh else 0,
                                "max": max(fresh) if fresh else 0}
        print(f"progress right after a void ({len(fresh)}): p50 "
              f"{result['after_void']['p50']:.2f} ms, max {result['after_void']['max']:.1f} ms",
              flush=True)
        one_edition = "ecnr-2024-2-m3"
        lists = [("cycles", "/api/v1/cycles"),
                 ("cycles, complete", "/api/v1/cycles?cycle_complete=true"),
                 ("all", "/api/v1/progress"),
                 ("complete", "/api/v1/progress?cycle_complete=true"),
                 ("incomplete", "/api/v1/progress?cycle_complete=false"),
                 ("edition", f"/api/v1/progress?module_id={one_edition}"),
                 ("edition, complete",
                  f"/api/v1/progress?cycle_complete=true&module_id={one_edition}")]
        result["lists"] = {}
        gave_up = False
        for name, path in lists:
            if name.startswith("cycles") and not args.cycles:
                result["lists"][name] = {"times": [], "bytes": 0, "count": None,
                                         "timed_out": False, "skipped": True}
                continue
            if gave_up:  # the registry is still working on the list it was asked for
                result["lists"][name] = {"times": [], "bytes": 0, "count": None,
                                         "timed_out": True, "skipped": True}
                continue
            times, size, count = [], 0, None
            for _ in range(args.repeat):
                elapsed, size, count = timed_list(client, path, args.list_timeout)
                if elapsed is None:
                    client = Client(serve.port)
                    gave_up = True
                    break
                times.append(elapsed)
            result["lists"][name] = {"times": times, "bytes": size, "count": count,
                                     "timed_out": len(times) < args.repeat}
            shown = (f"median {statistics.median(times):.3f} s (min {min(times):.3f}, "
                     f"max {max(times):.3f})" if times else "")
            print(f"list {name}: {count} attendees, {size / 1e6:.1f} MB, {shown}"
                  f"{' timed out after %d s' % args.list_timeout if len(times) < args.repeat else ''}",
                  flush=True)
    finally:
        serve.stop()
    result["rss_peak"] = serve.peak
    if args.verify:
        # Every summary against its events, after all of the above (a registry that keeps
        # summaries: `progress --verify`).
        start = time.monotonic()
        proc = subprocess.run([binary, "progress", "--verify", "--db", db],
                              capture_output=True, text=True, timeout=3600)
        result["verify"] = (f"{proc.stdout.strip()} (exit {proc.returncode}, "
                            f"{time.monotonic() - start:.0f} s)")
        print(f"progress --verify: {result['verify']}", flush=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
    pg.sql("postgres", "DROP DATABASE IF EXISTS measure")
    return result


def seconds(times):
    if not times:
        return "—"
    return f"{statistics.median(times):.3f} s ({min(times):.3f}–{max(times):.3f})"


def list_cell(r, timeout_s):
    if r.get("skipped") and not r["timed_out"]:
        return "—"
    if r.get("skipped"):
        return "not asked (the registry was still on the one before)"
    if r["timed_out"] and not r["times"]:
        return f"over {timeout_s} s (stopped)"
    return f"{seconds(r['times'])}; {r['count']:,} attendees, {r['bytes'] / 1e6:.1f} MB"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("COURSE_REGISTRY_BIN",
                                                        "build/bench/course-registry"))
    parser.add_argument("--build-bin", help="the course-registry that builds the data set "
                                            "(default: --bin)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of 100,000 attendees (and of the events)")
    parser.add_argument("--samples", type=int, default=2000, help="progress requests")
    parser.add_argument("--repeat", type=int, default=5, help="reads of each list")
    parser.add_argument("--list-timeout", type=int, default=300)
    parser.add_argument("--voids", type=int, default=100)
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--cache-tag", default="",
                        help="keep this data set apart from the default cache (e.g. "
                             "one built by another registry)")
    parser.add_argument("--verify", action="store_true",
                        help="then check every summary against the events (progress --verify)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="build (or check) the cached data set, measure nothing")
    parser.add_argument("--label", default="now")
    parser.add_argument("--no-cycles", dest="cycles", action="store_false",
                        help="a registry without GET /api/v1/cycles (before schema version 4)")
    args = parser.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    pg, meta = prepare(args.build_bin or args.bin, args.scale, args.rebuild, args.cache_tag)
    if args.prepare_only:
        pg.stop()
        return
    try:
        r = measure(args.bin, pg, meta, args)
    finally:
        pg.stop()
    peak = r["rss_peak"]
    print(f"RSS peak: {json.dumps({k: round(v, 1) for k, v in peak.items()})}")
    p = r["progress"]
    lists = r["lists"]
    catch_up = "—" if r["catch_up_s"] is None else f"{r['catch_up_s']:.0f} s"
    head = [SECTION, "",
            "`bench/run registry-progress` (`bench/registry_progress.py`, described in "
            "`bench/README.md`): 40 module editions (10 cycles × modules 1–4, five days × two "
            "sessions), 100,000 attendees and their events from three kiosks per edition, "
            "pushed through the device protocol; then, with a staff cookie, attendees' "
            "progress one after the other, the office's lists several times (seconds to the "
            "last byte; median, min–max), the progress right after a void from another "
            "kiosk, and the registry's RSS every 20 ms. Targets: progress p99 ≤ 5 ms, the "
            "office's list of 100,000 attendees' cycle states ≤ 200 ms, RSS ≤ 64 MiB. "
            "PostgreSQL 15 with default settings. "
            "\"serve: listening, summaries built\": from exec to listening (a database made "
            "by an older registry is migrated first), then until no attendee waits for a "
            "refresh (the summaries of every attendee, built in the background from all their "
            "events).",
            "",
            "**The office's list of everyone** is `GET /api/v1/cycles`: each attendee's cycle "
            "state in short (id, name, complete and when, the modules completed, credits; "
            "about 150 bytes). `GET /api/v1/progress` answers each attendee as "
            "`GET /api/v1/attendees/{id}/progress` does (SPEC section 9): about 2.2 kB of "
            "JSON each, over 200 MB for 100,000 attendees; on this machine's 2 cores, shared "
            "by PostgreSQL, the registry and the client, moving that many bytes takes several "
            "times 200 ms, so it is the list for a tool that wants everything, not for a page.",
            "",
            "| run | data | serve: listening, summaries built | progress p50 / p99 / max "
            "| everyone's cycle state (`/api/v1/cycles`) | cycle complete (`/api/v1/cycles`) "
            "| whole list | cycle complete | cycle not complete | one edition | "
            "one edition, complete | after a void p50 / max | RSS peak (reads) | "
            "`progress --verify` afterwards |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    row = (f"| {args.label} | {meta['attendees']:,} attendees, {meta['events']:,} events, "
           f"ingested at {meta['events'] / meta['ingest_s']:,.0f}/s by the registry that "
           f"built it "
           f"| {r['listening_s']:.1f} s{' (migrated)' if r['migrated'] else ''}, {catch_up} "
           f"| {p['p50']:.2f} / {p['p99']:.2f} / {p['max']:.1f} ms "
           f"| {list_cell(lists['cycles'], args.list_timeout)} "
           f"| {list_cell(lists['cycles, complete'], args.list_timeout)} "
           f"| {list_cell(lists['all'], args.list_timeout)} | {list_cell(lists['complete'], args.list_timeout)} "
           f"| {list_cell(lists['incomplete'], args.list_timeout)} | {list_cell(lists['edition'], args.list_timeout)} "
           f"| {list_cell(lists['edition, complete'], args.list_timeout)} "
           f"| {r['after_void']['p50']:.1f} / {r['after_void']['max']:.1f} ms "
           f"| {max(peak.values()):.1f} MiB ({peak.get('reads', 0):.1f}) "
           f"| {r.get('verify', '—')} |")
    bench.write_section(SECTION, head, args.label, row)


if __name__ == "__main__":
    main()
