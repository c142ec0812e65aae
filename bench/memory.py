"""bench/run memory: the server's memory with a big roster (issue 14, item 14).

A store of 10,000 attendees with 30,000 check-ins (three sessions each). Then, all at once:
eight staff clients reading the whole attendee list (GET /api/v1/attendees, page by page
as the dashboard does, following `next`; a server without pages answers everything at
once), four JSON exports and the badge sheet of everyone. They send
`Accept-Encoding: gzip, deflate, br`, as browsers do. Then a dashboard's polling: 300
rounds of the summary and the first page of attendees with If-None-Match.

RSS is sampled from /proc/PID/status every 20 ms, less the pages of the store's map
(data.mdb in /proc/PID/smaps, the kernel's page cache of the store): before the load,
its peak, 2 s after it (the server idle), and before and after the polling. Writes the
"Big rosters" section of bench/RESULTS.md; `--bin` measures another build of the server
(the store is filled by this build's ck-bench-fill), `--label` names the row.

    bench/run memory                                  # this tree's build
    python3 bench/memory.py --bin OLD/course-kiosk --label before
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import threading
import time

import bench

ATTENDEES = 10000
CHECKINS = 30000
LIST_CLIENTS = 8
LIST_ROUNDS = 2  # each client reads the whole list this often
JSON_EXPORTS = 4
POLL_ROUNDS = 300
BROWSER_ENCODINGS = os.environ.get("BENCH_ACCEPT_ENCODING", "gzip, deflate, br")
SECTION = "## Big rosters (issue 14, item 14)"


def prepare(binary):
    """A data directory with 10,000 attendees and 30,000 check-ins, and a staff account."""
    data = os.path.join(bench.WORK, "roster-10k")
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(bench.WORK, exist_ok=True)
    config = os.path.join(bench.WORK, "roster-10k.json")
    with open(config, "w", encoding="utf-8") as f:
        json.dump({"device_id": "bench", "module": bench.module()}, f)
    subprocess.run([binary, "init", "--data", data, "--config", config], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([binary, "staff", "add", "--data", data, "bench"], check=True,
                   input=bench.STAFF_PASSWORD + "\n", text=True, stdout=subprocess.DEVNULL)
    creds = os.path.join(bench.WORK, "roster-10k-credentials")
    os.makedirs(creds, exist_ok=True)
    subprocess.run([bench.FILL, "--data", data, "--attendees", str(ATTENDEES), "--checkins",
                    str(CHECKINS), "--fresh", "0", "--out", creds], check=True,
                   stdout=subprocess.DEVNULL)
    return data


class Sampler(threading.Thread):
    """The server's memory every 20 ms: the peak, and the last reading."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.peak = {}
        self.last = {}
        self.done = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        while not self.done.wait(0.02):
            try:
                now = self.server.memory()
            except OSError:
                return
            with self.lock:
                self.last = now
                for key, value in now.items():
                    self.peak[key] = max(self.peak.get(key, 0), value)

    def reset_peak(self):
        with self.lock:
            self.peak = dict(self.last)

    def stop(self):
        self.done.set()
        self.join()


def get(conn, path, cookie, etag=None):
    headers = {"Cookie": cookie, "Accept-Encoding": BROWSER_ENCODINGS}
    if etag:
        headers["If-None-Match"] = etag
    conn.request("GET", path, headers=headers)
    res = conn.getresponse()
    body = res.read()
    if res.status not in (200, 304):
        raise RuntimeError(f"GET {path}: {res.status} {body[:200]!r}")
    return res, body


def decoded_json(res, body):
    encoding = res.getheader("Content-Encoding", "")
    if encoding == "gzip":
        import gzip
        body = gzip.decompress(body)
    elif encoding == "br":
        import brotli  # python3-brotli; only when the server chose br
        body = brotli.decompress(body)
    return json.loads(body)


def failing(fn):
    """A client that failed (a timeout) is counted, and the run goes on."""
    def run(*args):
        try:
            fn(*args)
        except (OSError, RuntimeError, ValueError) as e:
            args[2]["errors"].append(f"{fn.__name__}: {e!r}")
    return run


@failing
def read_list(port, cookie, stats):
    """The whole attendee list, page by page as the dashboard reads it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(LIST_ROUNDS):
        cursor, seen = None, 0
        while True:
            path = "/api/v1/attendees?limit=200" + (f"&cursor={cursor}" if cursor else "")
            res, body = get(conn, path, cookie)
            page = decoded_json(res, body)
            seen += len(page["attendees"])
            stats["list_requests"] += 1
            cursor = page.get("next")
            if not cursor:
                break
        stats["list_attendees"].append(seen)
    conn.close()


@failing
def download(port, cookie, path, stats, key):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    res, body = get(conn, path, cookie)
    stats[key].append({"bytes": len(body), "encoding": res.getheader("Content-Encoding", ""),
                       "chunked": res.getheader("Transfer-Encoding", "") == "chunked"})
    conn.close()


def poll(port, cookie, rounds):
    """The dashboard's rounds: the summary and the first page of attendees, conditionally."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    tags = {}
    for _ in range(rounds):
        for path in ("/api/v1/summary", "/api/v1/attendees?limit=200"):
            res, _ = get(conn, path, cookie, tags.get(path))
            if res.getheader("ETag"):
                tags[path] = res.getheader("ETag")
    conn.close()


def measure(binary, data):
    bench.BIN = binary
    server = bench.Server(data)
    sampler = Sampler(server)
    try:
        server.login()
        time.sleep(1.0)  # settle before the idle reading (not a timing assertion)
        r = {"idle": server.memory()}
        sampler.start()
        stats = {"list_requests": 0, "list_attendees": [], "json": [], "badges": [],
                 "errors": []}
        threads = [threading.Thread(target=read_list, args=(server.port, server.cookie, stats))
                   for _ in range(LIST_CLIENTS)]
        threads += [threading.Thread(target=download, args=(
            server.port, server.cookie, "/api/v1/export?format=json", stats, "json"))
            for _ in range(JSON_EXPORTS)]
        threads.append(threading.Thread(target=download, args=(
            server.port, server.cookie, "/api/v1/badges", stats, "badges")))
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r["load_s"] = time.monotonic() - began
        r["peak"] = dict(sampler.peak)
        time.sleep(2.0)  # the server idle after the load
        r["after"] = server.memory()
        r["stats"] = stats
        sampler.reset_peak()
        before_poll = server.memory()
        began = time.monotonic()
        poll(server.port, server.cookie, POLL_ROUNDS // 3)
        r["poll_third"] = server.memory()  # the rest must not add to it
        poll(server.port, server.cookie, POLL_ROUNDS - POLL_ROUNDS // 3)
        r["poll_s"] = time.monotonic() - began
        r["poll_before"] = before_poll
        r["poll_peak"] = dict(sampler.peak)
        r["poll_after"] = server.memory()
    finally:
        sampler.stop()
        server.stop()
    return r


def mib(n):
    return f"{n / 1048576:.1f}"


def row(label, r):
    s = r["stats"]
    none = {"bytes": 0, "encoding": "failed", "chunked": False}
    sheet = (s["badges"] or [none])[0]
    exports = (s["json"] or [none])[0]
    return (f"| {label} | {mib(r['idle']['Process'])} | {mib(r['peak']['Process'])} "
            f"(anonymous {mib(r['peak']['RssAnon'])}) | {mib(r['after']['Process'])} | "
            f"{mib(r['poll_before']['Process'])} → {mib(r['poll_third']['Process'])} → "
            f"{mib(r['poll_after']['Process'])} "
            f"(peak {mib(r['poll_peak']['Process'])}) | {mib(r['peak']['StoreMap'])} | "
            f"{r['load_s']:.1f} s; {s['list_requests']} list requests; JSON export "
            f"{exports['bytes'] / 1e6:.1f} MB {exports['encoding'] or 'identity'}"
            f"{', chunked' if exports['chunked'] else ''}; sheet {sheet['bytes'] / 1e6:.1f} MB "
            f"{sheet['encoding'] or 'identity'}{', chunked' if sheet['chunked'] else ''}"
            f"{'; ' + str(len(s['errors'])) + ' clients failed (timeouts)' if s['errors'] else ''} |")


def write_section(label, r):
    """Replaces this label's row in the Big rosters section of RESULTS.md."""
    head = [
        SECTION,
        "",
        f"`bench/run memory` (`bench/memory.py`): {ATTENDEES:,} attendees and {CHECKINS:,} "
        f"check-ins; at once {LIST_CLIENTS} staff clients reading the whole attendee list "
        f"{LIST_ROUNDS} times (page by page, 200 a page, where the server pages), "
        f"{JSON_EXPORTS} JSON exports and the badge sheet of everyone, as browsers ask "
        f"(`Accept-Encoding: {BROWSER_ENCODINGS}`); then {POLL_ROUNDS} rounds of the "
        "dashboard's polling (summary and first page, If-None-Match). RSS in MiB outside "
        "the store's map (the `data.mdb` pages, shown apart), sampled every 20 ms. Target: "
        "under 64 MiB throughout.",
        "",
        "The before row was measured with `BENCH_ACCEPT_ENCODING='gzip, deflate'`: with `br`, "
        "that server brotli-compressed every answer at quality 11 (cpp-httplib's default); "
        "five minutes into the load it was still compressing, past 2.3 GiB, and its list "
        "clients had timed out. Its polling column has no middle figure (measured before "
        "the column had one).",
        "",
        "| server | idle | peak under the load | 2 s after | polling: before → a third → after | "
        "store's map at the peak | the load |",
        "|---|---|---|---|---|---|---|",
    ]
    bench.write_section(SECTION, head, label, row(label, r))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=bench.BIN)
    parser.add_argument("--fill", default=bench.FILL, help="ck-bench-fill of this tree")
    parser.add_argument("--label", default="this build")
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args()
    bench.FILL = os.path.abspath(args.fill)
    data = prepare(args.bin)
    r = measure(os.path.abspath(args.bin), data)
    print(json.dumps(r, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(r, f, indent=2)
    write_section(args.label, r)


if __name__ == "__main__":
    main()
