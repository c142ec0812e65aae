"""bench/run's measurements (see bench/README.md). Writes bench/RESULTS.md.

Every figure is the median of REPS runs, with min and max. The server is the build in
build/bench (RelWithDebInfo, as packaged) over data directories with 2,000 attendees and
50,000 earlier check-ins, its clock pinned inside an open session
(COURSE_KIOSK_FAKE_TIME, trusted), so that every check-in is admitted.
"""
import asyncio
import datetime
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from fake_registry import FakeRegistry  # noqa: E402  (the tests' registry, real HTTP)

BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "course-kiosk")
FILL = os.path.join(BUILD, "ck-bench-fill")
WORK = os.path.join(BUILD, "run")
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")
REPS = 3
FRESH_PER_REP = 150000  # fresh credentials per repetition of (b): more than one run uses
DURATION_S = 10
CONNECTIONS = 32
RUSH_CLIENTS = 500
RUSH_WINDOW_S = 10.0
STAFF_PASSWORD = "bench-password-1"
NOW = "2026-11-27T09:35:00+01:00"  # d5-s2 open: the 26th session, after 25 filled ones

SESSIONS = [("s1", "08:00", "09:20"), ("s2", "09:30", "10:50"), ("s3", "11:00", "12:20"),
            ("s4", "13:30", "14:50"), ("s5", "15:00", "16:20"), ("s6", "16:30", "17:50")]


def log(text):
    print("bench: " + text, flush=True)


def module():
    days = []
    for d in range(5):
        date = datetime.date(2026, 11, 23) + datetime.timedelta(days=d)
        days.append({"date": date.isoformat(), "sessions": [
            {"id": f"d{d + 1}-{sid}", "label": f"Day {d + 1} {sid}", "start": start, "end": end,
             "cme_hours": 1} for sid, start, end in SESSIONS]})
    return {"cycle": "2026-2", "number": 3, "venue": "Bench", "timezone": "Europe/Paris",
            "checkin_opens_before_min": 5, "late_after_min": 15, "days": days}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(name, checkins, fresh):
    """A data directory with 2,000 attendees, `checkins` earlier check-ins and a staff
    account, and its credential files."""
    data = os.path.join(WORK, name)
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(WORK, exist_ok=True)
    config = os.path.join(WORK, name + ".json")
    with open(config, "w", encoding="utf-8") as f:
        # The per-client limits would stop a load generator on one address.
        json.dump({"device_id": "bench", "module": module(),
                   "limits": {"checkins_per_client_per_s": 100000,
                              "checkin_burst_per_client": 100000}}, f)
    subprocess.run([BIN, "init", "--data", data, "--config", config], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([BIN, "staff", "add", "--data", data, "bench"], check=True,
                   input=STAFF_PASSWORD + "\n", text=True, stdout=subprocess.DEVNULL)
    creds = os.path.join(WORK, name + "-credentials")
    os.makedirs(creds, exist_ok=True)
    out = subprocess.run([FILL, "--data", data, "--attendees", "2000", "--checkins",
                          str(checkins), "--fresh", str(fresh), "--out", creds], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r"^verify_per_s (\d+)$", out, re.M)
    return data, creds, (int(m.group(1)) if m else None)


def read_status(pid):
    """RSS, its anonymous and file-backed parts, the part that is the store's map
    (data.mdb pages: the kernel's page cache of the store, mapped), and threads."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                n = int(value.split()[0])
                out[key] = n if key == "Threads" else n * 1024
    store_map, in_store = 0, False
    with open(f"/proc/{pid}/smaps", encoding="utf-8") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                in_store = line.rstrip().endswith("/data.mdb")
            elif in_store and line.startswith("Rss:"):
                store_map += int(line.split()[1]) * 1024
    out["StoreMap"] = store_map
    out["Process"] = out["VmRSS"] - store_map
    return out


class Server:
    def __init__(self, data, env=None):
        self.port = free_port()
        environment = dict(os.environ, COURSE_KIOSK_FAKE_TIME=NOW, COURSE_KIOSK_CLOCK_TRUSTED="1")
        environment.update(env or {})
        self.started = time.monotonic()
        self.proc = subprocess.Popen([BIN, "serve", "--data", data, "--listen",
                                      f"127.0.0.1:{self.port}"], env=environment,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.startup_s = self.wait_ready()
        self.cookie = None
        self.csrf = None

    def wait_ready(self):
        """Seconds from exec to the first answered GET /healthz (polled without pause)."""
        deadline = self.started + 20
        request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(request)
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return time.monotonic() - self.started
            except OSError:
                continue
        raise RuntimeError("the server did not answer within 20 s")

    def memory(self):
        return read_status(self.proc.pid)

    def write_bytes(self):
        with open(f"/proc/{self.proc.pid}/io", encoding="utf-8") as f:
            for line in f:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
        return 0

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers=dict(headers or {}))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=20) as res:
            return res.status, res.headers, res.read()

    def login(self):
        _, headers, body = self.request("POST", "/api/v1/session",
                                        {"username": "bench", "password": STAFF_PASSWORD})
        self.cookie = headers["Set-Cookie"].split(";")[0]
        self.csrf = json.loads(body)["csrf_token"]

    def metrics(self):
        _, _, body = self.request("GET", "/metrics", headers={"Cookie": self.cookie})
        out = {}
        for line in body.decode().splitlines():
            m = re.match(r"^(course_kiosk_\w+) (\d+)$", line)
            if m:
                out[m.group(1)] = int(m.group(2))
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


class MemorySampler:
    """Highest RSS, anonymous and file-backed, while a load runs (every 20 ms)."""

    def __init__(self, server):
        self.server = server
        self.peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0, "StoreMap": 0, "Process": 0,
                     "Threads": 0}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.done.wait(0.02):
            try:
                now = self.server.memory()
            except OSError:
                return
            for key in self.peak:
                self.peak[key] = max(self.peak[key], now.get(key, 0))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def wrk(url, script, *args, connections=CONNECTIONS, threads=2, duration=DURATION_S,
        header=None):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
               os.path.join(ROOT, "bench", script)]
    if header:
        command += ["-H", header]
    command += [url, "--", *map(str, args)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    m = re.search(r"^RESULT (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError("wrk printed no RESULT line:\n" + out)
    result = json.loads(m.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# --- (c) the morning rush ----------------------------------------------------------------

async def http_exchange(reader, writer, method, path, body=b"", headers=()):
    lines = [f"{method} {path} HTTP/1.1", "Host: kiosk.local", "User-Agent: bench-phone",
             *headers]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    payload = await reader.readexactly(length) if length else b""
    return status, head, payload


async def phone(index, port, token, credential, start_at, stats):
    """One attendee's phone: a new connection (from its own address), the check-in page
    and what it loads, then the badge code; the connection then stays open, as a
    browser's does, until the server closes it or the run ends."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    address = f"127.0.{1 + index // 250}.{1 + index % 250}"
    began = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0)), 10)
    except (OSError, asyncio.TimeoutError) as e:
        stats["errors"].append(f"connect: {e!r}")
        return
    try:
        steps = [("GET", f"/p?t={token}", b"", 200), ("GET", "/common.css", b"", 200),
                 ("GET", "/phone.css", b"", 200), ("GET", "/phone.js", b"", 200),
                 ("POST", "/api/v1/phone/identify",
                  json.dumps({"token": token, "credential": credential}).encode(), 201)]
        for method, path, body, expected in steps:
            sent = time.monotonic()
            status, _, payload = await asyncio.wait_for(
                http_exchange(reader, writer, method, path, body), 10)
            stats["latencies"].append(time.monotonic() - sent)
            if status != expected:
                stats["errors"].append(f"{method} {path}: {status} {payload[:120]!r}")
                return
        stats["client_s"].append(time.monotonic() - began)
        try:  # held open like a browser: the server's keep-alive timeout ends it
            await asyncio.wait_for(reader.read(), RUSH_WINDOW_S + 5)
        except asyncio.TimeoutError:
            pass
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
        stats["errors"].append(f"exchange: {e!r}")
    finally:
        writer.close()


async def rush_once(port, token, credentials, seed, window_s=RUSH_WINDOW_S):
    rng = random.Random(seed)
    t0 = time.monotonic() + 0.2
    stats = {"latencies": [], "errors": [], "client_s": []}
    await asyncio.gather(*[
        phone(i, port, token, c, t0 + rng.uniform(0, window_s), stats)
        for i, c in enumerate(credentials)])
    lat = sorted(stats["latencies"])
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa
    return {"clients": len(credentials), "completed": len(stats["client_s"]),
            "errors": len(stats["errors"]), "first_errors": stats["errors"][:3],
            "requests": len(lat), "p50_ms": p(0.50) * 1000, "p99_ms": p(0.99) * 1000,
            "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "slowest_client_ms": max(stats["client_s"], default=float("nan")) * 1000}


def display_token(server):
    _, _, body = server.request("GET", "/api/v1/display")
    url = json.loads(body)["token_url"]
    return urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["t"][0]


# --- (g) sync --------------------------------------------------------------------------

def sync_once(data):
    """Seconds from exec until the fake registry has acknowledged every pending event, and
    the body bytes on the wire per event."""
    with FakeRegistry(token="bench-token", validate=False) as registry:
        token_file = os.path.join(data, "registry-token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write("bench-token\n")
        os.chmod(token_file, 0o600)
        config_path = os.path.join(data, "config.json")
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        config["registry"] = {"url": registry.url, "token_file": token_file, "interval_s": 5}
        with open(config_path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        server = Server(data)
        try:
            server.login()
            pending = json.loads(server.request("GET", "/api/v1/sync",
                                                headers={"Cookie": server.cookie})[2])
            last_seq = pending["last_seq"]
            if not registry.wait_for_acked("bench", last_seq, timeout=120):
                raise RuntimeError("the registry did not receive every event within 120 s")
            seconds = time.monotonic() - server.started
        finally:
            server.stop()
        batches = [b for b in registry.received_batches if b.get("status") == 200]
        wire = sum(b["wire_bytes"] for b in batches)
        events = len(registry.events("bench"))
        return {"events": events, "seconds": seconds, "batches": len(batches),
                "wire_bytes_per_event": wire / events,
                "json_bytes_per_event": sum(b["body_bytes"] for b in batches) / events}


# --- the run -----------------------------------------------------------------------------

def main():
    started = time.monotonic()
    log("preparing stores: 2,000 attendees with 50,000 check-ins, and with 100")
    big, creds, verify_per_s = prepare("big", 50000, REPS * FRESH_PER_REP)
    small, small_creds, _ = prepare("small", 100, 0)
    sync_dirs = []
    for rep in range(REPS):  # copies of a store with 50,000 events not yet delivered
        target = os.path.join(WORK, f"sync-{rep + 1}")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(big, target)
        sync_dirs.append(target)
    fresh = os.path.join(creds, "fresh.txt")
    with open(os.path.join(creds, "roster.txt"), encoding="utf-8") as f:
        roster_credentials = [line.strip() for line in f if line.strip()]
    r = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
         "cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
         "commit": source_commit(), "verify_per_s": verify_per_s}

    log("(e) start-up")
    startups = []
    for _ in range(REPS):
        server = Server(big)
        startups.append(server.startup_s * 1000)
        server.stop()
    r["startup_ms"] = spread(startups)

    server = Server(big)
    try:
        server.login()
        time.sleep(1.0)  # settle before the idle reading (not a timing assertion)
        r["memory_idle"] = server.memory()

        log("(a) GET /healthz")
        r["healthz"] = [wrk(server.url("/healthz"), "get.lua") for _ in range(REPS)]

        log("(b) durable check-ins")
        before_io, before_metrics = server.write_bytes(), server.metrics()
        durable = []
        with MemorySampler(server) as sampler:
            for rep in range(REPS):
                durable.append(wrk(server.url("/api/v1/checkins"), "checkin.lua", fresh,
                                   rep * FRESH_PER_REP + 1, 2))
        written, after_metrics = server.write_bytes() - before_io, server.metrics()
        r["checkins"] = durable
        r["memory_load"] = sampler.peak
        total = sum(x["requests"] for x in durable)
        r["bytes_written_per_checkin"] = written / total
        batches = (after_metrics["course_kiosk_store_write_batches_total"]
                   - before_metrics["course_kiosk_store_write_batches_total"])
        r["checkins_per_commit"] = total / batches if batches else None

        log("(c) morning rush")
        token = display_token(server)
        rush = []
        with MemorySampler(server) as sampler:
            for rep in range(REPS):
                batch = roster_credentials[rep * RUSH_CLIENTS:(rep + 1) * RUSH_CLIENTS]
                rush.append(asyncio.run(rush_once(server.port, token, batch, seed=rep)))
        r["rush"] = rush
        r["memory_rush"] = sampler.peak

        log("(f) summary, 50,000 check-ins")
        r["summary_big"] = [wrk(server.url("/api/v1/summary"), "get.lua", connections=1,
                                threads=1, duration=5, header="Cookie: " + server.cookie)
                            for _ in range(REPS)]
    finally:
        server.stop()
    server = Server(small)
    try:
        server.login()
        log("(f) summary, 100 check-ins")
        r["summary_small"] = [wrk(server.url("/api/v1/summary"), "get.lua", connections=1,
                                  threads=1, duration=5, header="Cookie: " + server.cookie)
                              for _ in range(REPS)]
        log("(c') a harder rush: 500 phones in 2 s, on the other store")
        token = display_token(server)
        with open(os.path.join(small_creds, "roster.txt"), encoding="utf-8") as f:
            small_roster = [line.strip() for line in f if line.strip()]
        r["burst"] = [asyncio.run(rush_once(server.port, token,
                                            small_roster[rep * RUSH_CLIENTS:(rep + 1) * RUSH_CLIENTS],
                                            seed=10 + rep, window_s=2.0))
                      for rep in range(REPS)]
    finally:
        server.stop()

    log("(g) sync of 50,000 events")
    r["sync"] = [sync_once(d) for d in sync_dirs]
    r["run_seconds"] = time.monotonic() - started
    with open(os.path.join(WORK, "results.json"), "w", encoding="utf-8") as f:
        json.dump(r, f, indent=2)
    write_results(r)
    log(f"done in {r['run_seconds']:.0f} s: {RESULTS}")


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("model name", "Model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def source_commit():
    """The commit measured, marked when the tree had changes; "unknown" outside git."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    head = git("rev-parse", "--short=12", "HEAD")
    if head.returncode != 0:
        return "unknown"
    # RESULTS.md itself is written by the run before, so it does not count as a change.
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                ":!bench/RESULTS.md").stdout.strip()
    return head.stdout.strip() + (" with uncommitted changes" if dirty else "")


# --- RESULTS.md --------------------------------------------------------------------------

def mib(n):
    return f"{n / 1048576:.1f} MiB"


def fmt(s, unit="", digits=0):
    f = f"{{:,.{digits}f}}"
    return (f"{f.format(s['median'])}{unit} ({f.format(s['min'])}–{f.format(s['max'])})")


def write_results(r):
    healthz_rps = spread([x["rps"] for x in r["healthz"]])
    healthz_p99 = spread([x["p99_us"] / 1000 for x in r["healthz"]])
    checkin_rps = spread([x["rps"] for x in r["checkins"]])
    checkin_p50 = spread([x["p50_us"] / 1000 for x in r["checkins"]])
    checkin_p99 = spread([x["p99_us"] / 1000 for x in r["checkins"]])
    checkin_errors = sum(x["errors"] + x["non_201"] for x in r["checkins"])
    ratio = checkin_rps["median"] / healthz_rps["median"]
    rush_p99 = spread([x["p99_ms"] for x in r["rush"]])
    rush_p50 = spread([x["p50_ms"] for x in r["rush"]])
    rush_errors = sum(x["errors"] for x in r["rush"])
    rush_slowest = spread([x["slowest_client_ms"] for x in r["rush"]])
    big_p50 = spread([x["p50_us"] / 1000 for x in r["summary_big"]])
    small_p50 = spread([x["p50_us"] / 1000 for x in r["summary_small"]])
    summary_ratio = big_p50["median"] / small_p50["median"]
    sync_s = spread([x["seconds"] for x in r["sync"]])
    sync_bytes = spread([x["wire_bytes_per_event"] for x in r["sync"]])
    startup = r["startup_ms"]
    idle, load, rush_mem = r["memory_idle"], r["memory_load"], r["memory_rush"]
    peak = {k: max(load[k], rush_mem[k]) for k in load}
    burst_p99 = spread([x["p99_ms"] for x in r["burst"]])
    burst_errors = sum(x["errors"] for x in r["burst"])
    burst_slowest = spread([x["slowest_client_ms"] for x in r["burst"]])

    def verdict(ok):
        return "met" if ok else "**missed**"

    def memory(m):
        return (f"{mib(m['Process'])} outside the store's map (anonymous {mib(m['RssAnon'])}); "
                f"with the map's pages {mib(m['VmRSS'])}")

    rows = [
        ("(a) `GET /healthz`, 32 connections", f"{fmt(healthz_rps)} req/s; p99 {fmt(healthz_p99, ' ms', 2)}", "—", ""),
        ("(b) durable check-ins, 32 connections", f"{fmt(checkin_rps)} /s; p50 {fmt(checkin_p50, ' ms', 2)}; p99 {fmt(checkin_p99, ' ms', 2)}; {checkin_errors} errors", "p99 ≤ 5 ms", verdict(checkin_p99["median"] <= 5 and checkin_errors == 0)),
        ("(b)/(a)", f"{ratio:.2f}", "≥ 0.5", verdict(ratio >= 0.5)),
        ("(c) rush: 500 phones in 10 s, new connections", f"p50 {fmt(rush_p50, ' ms', 1)}; p99 {fmt(rush_p99, ' ms', 1)}; slowest phone {fmt(rush_slowest, ' ms')}; {rush_errors} errors", "no error, p99 ≤ 50 ms", verdict(rush_errors == 0 and rush_p99["median"] <= 50)),
        ("(c') harder: 500 phones in 2 s", f"p99 {fmt(burst_p99, ' ms', 1)}; slowest phone {fmt(burst_slowest, ' ms')}; {burst_errors} errors", "(no target)", ""),
        ("(d) RSS idle", memory(idle), "16 MB", verdict(idle["Process"] <= 16e6)),
        ("(d) RSS under load, peak of (b) and (c)", f"{memory(peak)}; {peak['Threads']} threads", "32 MB", verdict(peak["Process"] <= 32e6)),
        ("(e) start-up to first `/healthz`, 50,000 check-ins", fmt(startup, " ms", 1), "150 ms", verdict(startup["median"] <= 150)),
        ("(f) summary p50, 50,000 vs 100 check-ins", f"{fmt(big_p50, ' ms', 3)} vs {fmt(small_p50, ' ms', 3)}: {summary_ratio:.2f}×", "≤ 2×", verdict(summary_ratio <= 2)),
        ("(g) sync of 50,000 events", f"{fmt(sync_s, ' s', 2)}; {fmt(sync_bytes, ' bytes/event', 1)} (gzip body)", "5 s, 60 bytes", verdict(sync_s["median"] <= 5 and sync_bytes["median"] <= 60)),
        ("(h) bytes written per check-in", f"{r['bytes_written_per_checkin'] / 1024:,.1f} KiB; {r['checkins_per_commit']:.1f} check-ins per commit", "—", ""),
    ]
    notes = []
    verify = r.get("verify_per_s")
    if verify and (ratio < 0.5 or checkin_p99["median"] > 5):
        rps = checkin_rps["median"]
        notes += [
            "**Why (b) misses.** Every check-in in (b) carries a badge never seen before, so "
            f"each one costs an Ed25519 verification: {1e6 / verify:,.0f} µs of one core here "
            f"(`ck-bench-fill` verified {verify:,}/s on one core). At {rps:,.0f} check-ins/s that "
            f"is {rps / verify:.2f} of the machine's {r['cores']} cores, which wrk shares; half "
            f"of (a), {0.5 * healthz_rps['median']:,.0f}/s, would take "
            f"{0.5 * healthz_rps['median'] / verify:.1f} cores for the signatures alone. With 32 "
            "requests always in flight, the mean latency is 32 / throughput (Little's law), "
            f"{32000 / rps:.1f} ms at {rps:,.0f}/s, so a p99 of 5 ms is out of reach for the same "
            "reason. A badge scanned again (every later session of the module) is answered "
            "from the verifier's memory, without this cost.",
            ""]
    if peak["VmRSS"] > 32e6:
        notes += [
            "**RSS and the store's map.** RSS counts the pages of `data.mdb` the server has "
            "touched through LMDB's read-only map. Those are the kernel's page cache of the "
            "store, shared and reclaimable, and can reach the size of the store (here "
            f"{mib(peak['StoreMap'])} after (b) has added its check-ins); the targets are "
            "judged on the memory outside that map, and both are shown.",
            ""]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/run` on {r['date']} from commit {r['commit']}: {r['cores']} cores ({r['cpu']}), Linux "
        f"{r['kernel']}, load generator on the same machine. Medians of {REPS} runs, "
        "(min–max) after each. See `bench/README.md` for what each figure means.",
        "",
        "| figure | measured | target | |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        *notes,
        f"The whole run took {r['run_seconds']:.0f} s.",
        "",
    ]
    # The sections `bench/run memory` and `bench/run slow` write are kept.
    kept = ""
    try:
        with open(RESULTS, encoding="utf-8") as f:
            old = f.read()
        at = old.find("\n## ")
        kept = old[at:] if at >= 0 else ""
    except OSError:
        pass
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + kept)


def write_section(section, head, label, row):
    """Writes `section` of RESULTS.md: its `head` lines (the table's header included), the
    rows of other labels it held, and `row` for `label`, then when and where it ran."""
    with open(RESULTS, encoding="utf-8") as f:
        text = f.read()
    rows = {}
    if section in text:
        before, _, rest = text.partition(section)
        body, sep, after = rest.partition("\n## ")
        after = sep.lstrip("\n") + after if sep else ""
        for line in body.splitlines():
            m = re.match(r"^\| ([^|]+?) \|", line)
            if m and not line.startswith("|---") and line not in head:
                rows[m.group(1)] = line
        text = before.rstrip("\n") + "\n\n" + ("\n" + after if after else "")
    rows[label] = row
    stamp = (f"Measured {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}, "
             f"{os.cpu_count()} cores ({cpu_model()}), commit {source_commit()}.")
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n\n" + "\n".join(head + list(rows.values()) + ["", stamp, ""]))


if __name__ == "__main__":
    main()
