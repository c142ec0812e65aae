"""bench/run's measurements (see bench/README.md). Writes bench/RESULTS.md.

Each figure is the median of REPS runs, with min and max. The server is the release build
in build/bench over a data directory with 2,000 attendees and 50,000 earlier check-ins,
its clock pinned inside an open session (COURSE_KIOSK_FAKE_TIME, trusted).
"""
import datetime
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "course-kiosk")
FILL = os.path.join(BUILD, "ck-bench-fill")
WORK = os.path.join(BUILD, "run")
REPS = 3
FRESH_PER_REP = 100000  # fresh credentials per repetition of (b): more than one run uses
DURATION_S = 10
CONNECTIONS = 32
NOW = "2026-11-27T09:35:00+01:00"  # d5-s2 open: the 26th session, after 25 filled ones

SESSIONS = [("s1", "08:00", "09:20"), ("s2", "09:30", "10:50"), ("s3", "11:00", "12:20"),
            ("s4", "13:30", "14:50"), ("s5", "15:00", "16:20"), ("s6", "16:30", "17:50")]


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
    """A data directory with 2,000 attendees and `checkins` earlier check-ins."""
    data = os.path.join(WORK, name)
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(WORK, exist_ok=True)
    config = os.path.join(WORK, name + ".json")
    with open(config, "w", encoding="utf-8") as f:
        json.dump({"device_id": "bench", "module": module(),
                   "limits": {"checkins_per_client_per_s": 100000, "checkin_burst_per_client": 100000}},
                  f)
    subprocess.run([BIN, "init", "--data", data, "--config", config], check=True,
                   stdout=subprocess.DEVNULL)
    creds = os.path.join(WORK, name + "-credentials")
    os.makedirs(creds, exist_ok=True)
    subprocess.run([FILL, "--data", data, "--attendees", "2000", "--checkins", str(checkins),
                    "--fresh", str(fresh), "--out", creds], check=True)
    return data, creds


class Server:
    def __init__(self, data):
        self.port = free_port()
        env = dict(os.environ, COURSE_KIOSK_FAKE_TIME=NOW, COURSE_KIOSK_CLOCK_TRUSTED="1")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([BIN, "serve", "--data", data, "--listen",
                                      f"127.0.0.1:{self.port}"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.startup_s = self.wait_ready()

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

    def status(self, field):
        with open(f"/proc/{self.proc.pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def write_bytes(self):
        with open(f"/proc/{self.proc.pid}/io", encoding="utf-8") as f:
            for line in f:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
        return 0

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def wrk(url, script, *args):
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "-s",
                          os.path.join(ROOT, "bench", script), url, "--", *map(str, args)],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^RESULT (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError("wrk printed no RESULT line:\n" + out)
    result = json.loads(m.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    print("bench: preparing 2,000 attendees and 50,000 check-ins", flush=True)
    data, creds = prepare("big", 50000, REPS * FRESH_PER_REP)
    fresh = os.path.join(creds, "fresh.txt")
    results = {}

    startups = []
    for _ in range(REPS):
        server = Server(data)
        startups.append(server.startup_s * 1000)
        server.stop()
    results["startup_ms"] = spread(startups)

    server = Server(data)
    try:
        time.sleep(0.5)  # settle before the idle reading (not a timing assertion)
        results["rss_idle_bytes"] = server.status("VmRSS")
        ceiling = [wrk(server.url("/healthz"), "healthz.lua") for _ in range(REPS)]
        results["healthz"] = ceiling
        before = server.write_bytes()
        durable = []
        for rep in range(REPS):
            r = wrk(server.url("/api/v1/checkins"), "checkin.lua", fresh,
                    rep * FRESH_PER_REP + 1, 2)
            durable.append(r)
        written = server.write_bytes() - before
        results["checkins"] = durable
        total = sum(r["requests"] for r in durable)
        results["bytes_written_per_checkin"] = written / total if total else None
        results["rss_peak_bytes"] = server.status("VmHWM")
    finally:
        server.stop()
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
