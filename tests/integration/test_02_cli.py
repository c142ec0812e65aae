"""The command line (SPEC section 4): exit codes, init, roster import, credentials, demo."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from kiosk import BIN, MODULE, ROSTER, DataDir, Server, run


def decode_qr_svg(svg_text, workdir):
    """Renders SVG to PNG with rsvg-convert and decodes it with zbarimg."""
    svg = os.path.join(workdir, "code.svg")
    png = os.path.join(workdir, "code.png")
    with open(svg, "w", encoding="utf-8") as f:
        f.write(svg_text)
    subprocess.run(["rsvg-convert", "-w", "600", "-o", png, svg], check=True, timeout=60)
    out = subprocess.run(["zbarimg", "--raw", "-q", png], capture_output=True, text=True,
                         timeout=60)
    return out.stdout.strip()


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ck-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_version_and_usage(self):
        proc = run("version")
        self.assertRegex(proc.stdout, r"^course-kiosk \d+\.\d+\.\d+")
        self.assertEqual(run("no-such-command", check=False).returncode, 2)
        self.assertEqual(run(check=False).returncode, 2)
        self.assertEqual(run("init", "--data", self.tmp, check=False).returncode, 2)

    def test_init_refuses_a_bad_config_with_one_clear_line(self):
        cases = {
            "not json": "{",
            "no module": json.dumps({"device_id": "x"}),
            "bad zone": json.dumps({"module": dict(MODULE, timezone="Mars/Olympus")}),
            "bad number": json.dumps({"module": dict(MODULE, number=5)}),
            "unknown key": json.dumps({"module": MODULE, "colour": "red"}),
        }
        for name, text in cases.items():
            with self.subTest(name):
                path = os.path.join(self.tmp, "config.json")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                proc = run("init", "--data", os.path.join(self.tmp, "d"), "--config", path,
                           check=False)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                lines = proc.stderr.strip().split("\n")
                self.assertEqual(len(lines), 1, proc.stderr)
                self.assertTrue(lines[0].startswith("course-kiosk: "), lines[0])

    def test_commands_on_a_missing_data_dir_fail_clearly(self):
        missing = os.path.join(self.tmp, "nothing")
        for args in (["credential", "--data", missing],
                     ["serve", "--data", missing, "--listen", "127.0.0.1:0"]):
            with self.subTest(args[0]):
                proc = run(*args, check=False)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn("init", proc.stderr)

    def test_roster_import_reports_bad_rows_and_keeps_good_ones(self):
        data = DataDir()
        try:
            path = os.path.join(self.tmp, "roster.csv")
            with open(path, "w", encoding="utf-8-sig") as f:
                f.write('id;family_name;given_name;email\n'
                        'A001;Kowalska;Anna;anna@example.org\n'
                        'bad id!;Nobody;Nemo;\n'
                        'A002;"Müller; Sr.";Lukas;\n'
                        'A003;;Chloé;\n')
            proc = run("roster", "import", "--data", data.data, path, check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("2 of 4 rows", proc.stdout)
            self.assertRegex(proc.stderr, r"roster\.csv:3: rejected")
            self.assertRegex(proc.stderr, r"roster\.csv:5: rejected A003")
            out = run("credential", "--data", data.data).stdout.strip().split("\n")
            self.assertEqual([line.split("\t")[0] for line in out], ["A001", "A002"])
            for line in out:
                self.assertRegex(line, r"^[A-Za-z0-9._-]+\t[A-Z2-7]+$")
        finally:
            data.cleanup()

    def test_roster_import_json(self):
        data = DataDir()
        try:
            path = os.path.join(self.tmp, "roster.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"attendees": [
                    {"id": "J1", "family_name": "Ó Briain", "given_name": "Tomás"},
                    {"id": "J2", "family_name": 7, "given_name": "X"}]}, f)
            proc = run("roster", "import", "--data", data.data, path, check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("1 of 2 rows", proc.stdout)
            self.assertIn(":2: rejected J2", proc.stderr)
        finally:
            data.cleanup()

    def test_credential_svg_decodes_to_the_credential(self):
        data = DataDir()
        try:
            data.import_roster(ROSTER)
            text = data.credential("A002")
            svg = run("credential", "--data", data.data, "--svg", "A002").stdout
            self.assertTrue(svg.lstrip().startswith("<?xml"), svg[:80])
            self.assertEqual(decode_qr_svg(svg, self.tmp), text)
            self.assertEqual(run("credential", "--data", data.data, "--svg",
                                 check=False).returncode, 2)
            proc = run("credential", "--data", data.data, "NOBODY", check=False)
            self.assertEqual(proc.returncode, 1)
        finally:
            data.cleanup()

    def test_init_twice_keeps_the_key_and_refuses_another_module(self):
        data = DataDir()
        try:
            data.import_roster(ROSTER)
            before = data.credential("A001")
            run("init", "--data", data.data, "--config", data.config_path)
            self.assertEqual(data.credential("A001"), before)
            other = os.path.join(self.tmp, "other.json")
            with open(other, "w", encoding="utf-8") as f:
                json.dump({"module": dict(MODULE, number=1)}, f)
            proc = run("init", "--data", data.data, "--config", other, check=False)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("ecnr-2026-2-m3", proc.stderr)
            key = os.path.join(data.data, "keys", "signing-key.pem")
            self.assertEqual(os.stat(key).st_mode & 0o077, 0)
        finally:
            data.cleanup()


class DemoTest(unittest.TestCase):
    """The README's walk-through: demo, check in a printed credential, kill -9, restart."""

    def test_demo_checkin_survives_kill(self):
        # The demo's own clock rule, not the tests' forced trust: it trusts this machine's
        # clock, NTP-synchronised or not, and says so when it is not.
        env = {k: v for k, v in os.environ.items() if k != "COURSE_KIOSK_CLOCK_TRUSTED"}
        tmp = tempfile.mkdtemp(prefix="ck-demo-")
        data = os.path.join(tmp, "kiosk-data")
        try:
            proc = subprocess.Popen([BIN, "serve", "--demo", "--data", data, "--listen",
                                     "127.0.0.1:0"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=env)
            lines = []
            port = None
            credentials = []
            for _ in range(40):
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line)
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    port = int(m.group(1))
                m = re.search(r"\((A\d+)\): ([A-Z2-7]+)$", line.strip())
                if m:
                    credentials.append(m.group(2))
                if line.startswith("Stop with"):
                    break
            self.assertIsNotNone(port, "".join(lines))
            self.assertEqual(len(credentials), 2, "".join(lines))
            self.assertTrue(any("/staff" in l or "Kiosk" in l for l in lines))

            class Handle:  # reuse Server.request on the demo process
                pass
            server = Server.__new__(Server)
            server.proc, server.port = proc, port
            status, _, health = server.request("GET", "/healthz")
            self.assertTrue(health["clock_trusted"], health)
            self.assertIn(health["clock_source"], ("ntp", "demo"), health)
            said = any("trusts this machine's clock" in l for l in lines)
            self.assertEqual(said, health["clock_source"] == "demo", "".join(lines))
            status, _, body = server.checkin(credentials[0])
            self.assertEqual(status, 201, body)
            status, _, body = server.checkin(credentials[0])
            self.assertEqual((status, body["status"]), (200, "already_checked_in"))
            first_id = body["checkin"]["id"]
            status, _, module = server.request("GET", "/api/v1/module")
            self.assertEqual(len(module["days"]), 5)
            self.assertEqual([s["start"] for s in module["days"][0]["sessions"]],
                             ["00:00", "12:00"])
            server.kill()

            again = Server.__new__(Server)
            again.proc = subprocess.Popen([BIN, "serve", "--demo", "--data", data, "--listen",
                                           "127.0.0.1:0"], stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, env=env)
            again.port = None
            for _ in range(40):
                line = again.proc.stdout.readline()
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    again.port = int(m.group(1))
                    break
            status, _, body = again.checkin(credentials[0])
            self.assertEqual((status, body["checkin"]["id"]), (200, first_id))
            again.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
