"""The installed device (SPEC section 8): first start from the package's config, the
systemd notifications (ready, watchdog, stopping), `course-kiosk doctor`, and the pages it
serves from its binary (or from --web-dir) with ETags, so that browsers revalidate them."""
import json
import os
import shutil
import socket
import stat
import tempfile
import unittest

from fake_registry import FakeRegistry
from kiosk import ROSTER, SOURCE_DIR, DataDir, Server, run


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmptyDir:
    """What systemd's StateDirectory gives the service on first start: an empty directory."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="ck-state-")
        self.data = os.path.join(self.path, "course-kiosk")
        os.mkdir(self.data, 0o750)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class FirstStartTest(unittest.TestCase):
    def test_serve_initialises_an_empty_data_dir_from_the_config(self):
        state = EmptyDir()
        self.addCleanup(state.cleanup)
        config = os.path.join(SOURCE_DIR, "docs", "example-config.json")
        server = Server(state, args=("--config", config))
        self.addCleanup(server.stop)
        status, _, health = server.request("GET", "/healthz")
        self.assertEqual(status, 200, health)
        self.assertEqual(health["module_id"], "ecnr-2026-2-m3")
        key = os.path.join(state.data, "keys", "signing-key.pem")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        server.stop()
        # The second start reuses it (same signing key).
        with open(key, encoding="utf-8") as f:
            first_key = f.read()
        server = Server(state, args=("--config", config))
        self.addCleanup(server.stop)
        with open(key, encoding="utf-8") as f:
            self.assertEqual(f.read(), first_key)


    def test_an_empty_store_takes_the_configs_module_a_used_one_refuses(self):
        state = EmptyDir()
        self.addCleanup(state.cleanup)
        example = os.path.join(SOURCE_DIR, "docs", "example-config.json")
        Server(state, args=("--config", example)).stop()  # the package's first start
        with open(example, encoding="utf-8") as f:
            doc = json.load(f)
        doc["module"]["number"] = 4
        doc["device_id"] = "lille-hall-b"
        mine = os.path.join(state.path, "mine.json")
        with open(mine, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        server = Server(state, args=("--config", mine))
        status, _, health = server.request("GET", "/healthz")
        self.assertEqual(health["module_id"], "ecnr-2026-2-m4")
        server.stop()
        # The data directory's copy follows the config the server runs with.
        with open(os.path.join(state.data, "config.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["device_id"], "lille-hall-b")
        # Once it holds attendees, the directory belongs to its module.
        roster = os.path.join(state.path, "roster.csv")
        with open(roster, "w", encoding="utf-8") as f:
            f.write("id,family_name,given_name\nA001,Kowalska,Anna\n")
        run("roster", "import", "--data", state.data, roster)
        proc = run("serve", "--data", state.data, "--config", example, "--listen",
                   "127.0.0.1:0", check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("holds module ecnr-2026-2-m4 but the config describes ecnr-2026-2-m3",
                      proc.stderr)


class NotifyTest(unittest.TestCase):
    """sd_notify over a real datagram socket, as systemd's Type=notify listens."""

    def test_ready_watchdog_and_stopping(self):
        tmp = tempfile.mkdtemp(prefix="ck-notify-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(30)
        data = DataDir()
        self.addCleanup(data.cleanup)
        # A 1 s watchdog: the server pings every 0.5 s while it answers its own /healthz.
        server = Server(data, extra_env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
        messages = []
        while sum(m.startswith("WATCHDOG=1") for m in messages) < 2:
            messages.append(sock.recv(4096).decode())
        self.assertTrue(messages[0].startswith("READY=1"), messages)
        self.assertIn("STATUS=serving ecnr-2026-2-m3", messages[0])
        server.stop()
        self.assertEqual(server.proc.returncode, 0)
        rest = []
        sock.settimeout(5)
        while not any(m.startswith("STOPPING=1") for m in rest):
            rest.append(sock.recv(4096).decode())


class DoctorTest(unittest.TestCase):
    def setUp(self):
        self.port = free_port()
        # A public_url: without it a loopback listener is a FAIL of its own (phones).
        self.data = DataDir(extra_config={"listen": f"127.0.0.1:{self.port}",
                                          "public_url": "http://192.0.2.10:8080"})
        self.addCleanup(self.data.cleanup)
        self.data.import_roster(ROSTER)

    def doctor(self, config=None):
        proc = run("doctor", "--data", self.data.data, "--config",
                   config or self.data.config_path, check=False)
        lines = {}
        for line in proc.stdout.splitlines()[:-1]:
            level, name, *_ = line.split()
            lines[name] = level
        return proc, lines

    def test_all_ok_with_a_running_server(self):
        server = Server(self.data, listen=f"127.0.0.1:{self.port}")
        self.addCleanup(server.stop)
        proc, lines = self.doctor()
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(lines, {"config": "ok", "data": "ok", "disk": "ok", "store": "ok",
                                 "server": "ok", "clock": "ok", "phones": "ok",
                                 "registry": "skip"},
                         proc.stdout)
        self.assertIn("sends phones to http://192.0.2.10:8080 (public_url)", proc.stdout)
        self.assertIn("3 attendees", proc.stdout)
        self.assertTrue(proc.stdout.rstrip().endswith("Ready."), proc.stdout)

    def test_untrusted_clock_warns(self):
        server = Server(self.data, listen=f"127.0.0.1:{self.port}", trusted=False)
        self.addCleanup(server.stop)
        proc, lines = self.doctor()
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertEqual(lines["clock"], "warn", proc.stdout)
        self.assertIn("NOT trusted", proc.stdout)
        status, _, body = server.checkin(self.data.credential("A001"))
        self.assertEqual(status, 202, body)
        proc, lines = self.doctor()
        self.assertIn("1 check-ins held", proc.stdout)

    def test_failures_are_named_and_exit_1(self):
        proc, lines = self.doctor()
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(lines["server"], "FAIL", proc.stdout)
        key = os.path.join(self.data.data, "keys", "signing-key.pem")
        os.chmod(key, 0o644)
        proc, lines = self.doctor()
        self.assertEqual(lines["data"], "FAIL", proc.stdout)
        self.assertIn("signing-key.pem is readable by others", proc.stdout)
        os.chmod(key, 0o600)
        bad = os.path.join(self.data.path, "bad.json")
        with open(bad, "w", encoding="utf-8") as f:
            f.write('{"module": {"cycle": "2026-2"}}')
        proc, lines = self.doctor(bad)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(lines["config"], "FAIL", proc.stdout)

    def config_with(self, name, **changes):
        """A copy of the data dir's config with keys changed (None: removed)."""
        with open(self.data.config_path, encoding="utf-8") as f:
            doc = json.load(f)
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        path = os.path.join(self.data.path, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return path

    def test_phones_that_cannot_reach_the_device_fail(self):
        server = Server(self.data, listen=f"127.0.0.1:{self.port}")
        self.addCleanup(server.stop)
        # Listening on loopback without public_url: no phone can open the QR code.
        proc, lines = self.doctor(self.config_with("loopback", public_url=None))
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(lines["phones"], "FAIL", proc.stdout)
        self.assertIn(f"listens on 127.0.0.1:{self.port} only", proc.stdout)
        self.assertIn("public_url", proc.stdout)
        self.assertNotIn("Ready.", proc.stdout)
        # A public_url on loopback is no better.
        proc, lines = self.doctor(self.config_with(
            "loopback-url", public_url=f"http://127.0.0.1:{self.port}"))
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertEqual(lines["phones"], "FAIL", proc.stdout)
        self.assertIn("loopback address", proc.stdout)
        # Every address, no public_url: an interface address (or none on a machine that
        # has no network address but loopback).
        proc, lines = self.doctor(self.config_with("wildcard", public_url=None,
                                                   listen=f"0.0.0.0:{self.port}"))
        line = next(l for l in proc.stdout.splitlines() if l.split()[1:2] == ["phones"])
        if lines["phones"] == "FAIL":
            self.assertIn("no network address", line)
        else:
            self.assertEqual(lines["phones"], "ok", proc.stdout)
            self.assertRegex(line, rf"sends phones to http://[^ ]+:{self.port} \(the address of ")
            self.assertNotIn("127.0.0.1", line)

    def test_registry_answers_or_refuses_the_token(self):
        registry = FakeRegistry(token="right")
        registry.start()
        self.addCleanup(registry.stop)
        tmp = tempfile.mkdtemp(prefix="ck-token-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for token, expected in (("right", ("ok", "warn")), ("wrong", ("FAIL",))):
            with self.subTest(token=token):
                token_file = os.path.join(tmp, token)
                with open(token_file, "w", encoding="utf-8") as f:
                    f.write(token + "\n")
                config = os.path.join(tmp, token + ".json")
                with open(self.data.config_path, encoding="utf-8") as f:
                    doc = json.load(f)
                doc["registry"] = {"url": registry.url, "token_file": token_file,
                                   "timeout_s": 5}
                with open(config, "w", encoding="utf-8") as f:
                    json.dump(doc, f)
                proc, lines = self.doctor(config)
                self.assertIn(lines["registry"], expected, proc.stdout)


class PageCacheTest(unittest.TestCase):
    """Pages and their assets, embedded or from --web-dir, carry a strong ETag (a hash of
    their bytes) and Cache-Control: no-cache: a browser asks again at every use and gets
    304 without the body while the file is unchanged, the new file as soon as it is not.
    API answers stay no-store."""

    # The pages and every script and style sheet of web/ (all of them are embedded), but
    # the registry's office page (office.*: course-registry embeds it, test_16 checks it).
    PATHS = ("/", "/staff", "/display", "/p") + tuple(
        "/" + name for name in sorted(os.listdir(os.path.join(SOURCE_DIR, "web")))
        if name.endswith((".js", ".css")) and not name.startswith("office."))

    def setUp(self):
        self.data = DataDir()
        self.addCleanup(self.data.cleanup)

    def assert_revalidates(self, server, path):
        """GET `path`, then again with its ETag in every form a browser or proxy sends;
        returns the ETag."""
        status, headers, full = server.request("GET", path)
        self.assertEqual(status, 200, path)
        self.assertTrue(full, path)
        etag = headers.get("etag", "")
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$', path)  # strong: no W/
        self.assertEqual(headers.get("cache-control"), "no-cache", path)
        for if_none_match in (etag, "W/" + etag, '"0123", ' + etag, "*"):
            with self.subTest(path=path, if_none_match=if_none_match):
                status, again, body = server.request("GET", path,
                                                     headers={"If-None-Match": if_none_match})
                self.assertEqual(status, 304)
                self.assertEqual(body, "")
                self.assertEqual(again.get("etag"), etag)
                self.assertEqual(again.get("cache-control"), "no-cache")
                self.assertIn("default-src 'self'", again.get("content-security-policy", ""))
                # No "Content-Length: 0": that would say the file is empty (RFC 9110 8.6).
                self.assertNotIn("content-length", again)
        # Another tag: the whole file again.
        status, headers, body = server.request("GET", path, headers={"If-None-Match": '"0123"'})
        self.assertEqual(status, 200, path)
        self.assertEqual(body, full)
        self.assertEqual(headers.get("etag"), etag)
        return etag

    def test_embedded_pages_answer_304_while_unchanged(self):
        server = Server(self.data)
        self.addCleanup(server.stop)
        tags = {path: self.assert_revalidates(server, path) for path in self.PATHS}
        self.assertEqual(len(set(tags.values())), len(self.PATHS), tags)
        # API answers are never stored, and an asset's tag means nothing to them.
        status, headers, _ = server.request("GET", "/api/v1/module",
                                            headers={"If-None-Match": tags["/"]})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("cache-control"), "no-store")
        self.assertNotIn("etag", headers)
        # The tags are the bytes' own: the same after a restart, so a browser keeps its
        # copies across a power cut of the device.
        server.stop()
        server = Server(self.data)
        self.addCleanup(server.stop)
        for path, etag in tags.items():
            with self.subTest(path=path):
                status, _, _ = server.request("GET", path, headers={"If-None-Match": etag})
                self.assertEqual(status, 304)

    def test_a_changed_file_in_web_dir_gets_a_new_etag(self):
        web = tempfile.mkdtemp(prefix="ck-web-")
        self.addCleanup(shutil.rmtree, web, True)
        for name in ("staff.html", "staff.js"):
            shutil.copy(os.path.join(SOURCE_DIR, "web", name), web)
        server = Server(self.data, args=("--web-dir", web))
        self.addCleanup(server.stop)
        page = self.assert_revalidates(server, "/staff")
        old = self.assert_revalidates(server, "/staff.js")
        with open(os.path.join(web, "staff.js"), "a", encoding="utf-8") as f:
            f.write("// edited\n")
        status, headers, body = server.request("GET", "/staff.js", headers={"If-None-Match": old})
        self.assertEqual(status, 200)
        self.assertTrue(body.endswith("// edited\n"))
        self.assertNotEqual(headers.get("etag"), old)
        self.assertEqual(self.assert_revalidates(server, "/staff.js"), headers.get("etag"))
        # The file next to it did not change, nor did its tag.
        status, _, _ = server.request("GET", "/staff", headers={"If-None-Match": page})
        self.assertEqual(status, 304)


if __name__ == "__main__":
    unittest.main()
