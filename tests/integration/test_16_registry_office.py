"""course-registry's office API (SPEC section 9): staff login with a cookie and CSRF as on
the device, accent-blind attendee search, progress of one attendee and of many, exports,
the editions with their devices' sync health, /metrics."""
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from course_registry import CourseRegistry, run
from kiosk import MODULE, MODULE_ID
from pg_cluster import PgTestCase
from test_15_registry_progress import SESSIONS, Device
from test_fake_registry import batch, post_events

PASSWORD = "correct horse battery"


class Office:
    """An HTTP client of the registry keeping the office cookie and CSRF token."""

    def __init__(self, reg):
        self.reg, self.cookie, self.csrf = reg, None, None

    def request(self, method, path, body=None, csrf=True, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.reg.port, timeout=10)
        hdrs = dict(headers or {})
        if self.cookie:
            hdrs["Cookie"] = self.cookie
        if csrf and self.csrf and method != "GET":
            hdrs["X-CSRF-Token"] = self.csrf
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        headers_out = {k.lower(): v for k, v in resp.getheaders()}
        kind = headers_out.get("content-type", "")
        parsed = json.loads(data) if kind.startswith("application/json") else data
        return resp.status, headers_out, parsed

    def login(self, username="office", password=PASSWORD):
        status, headers, body = self.request("POST", "/api/v1/session",
                                             {"username": username, "password": password})
        if status == 200:
            self.cookie = headers["set-cookie"].split(";")[0]
            self.csrf = body["csrf_token"]
        return status, headers, body


class RegistryOfficeTest(PgTestCase):
    def setUp(self):
        self.new_database("office")
        self.reg = CourseRegistry(self.pg, self.dbname, devices=("lille-a", "lille-b")).start()
        self.addCleanup(self.reg.stop)
        run("staff", "add", "--db", self.reg.db, "office", input=PASSWORD + "\n")
        self.office = Office(self.reg)
        self.tmp = tempfile.mkdtemp(prefix="ck-office-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def import_roster(self, rows):
        path = os.path.join(self.tmp, "roster.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rows, f)
        run("roster", "import", "--db", self.reg.db, MODULE_ID, path)

    def test_login_cookie_csrf_and_logout(self):
        status, _, body = self.office.request("GET", "/api/v1/attendees/A001/progress")
        self.assertEqual((status, body["error"]["code"]), (401, "unauthenticated"))
        for name, password in (("office", "wrong password"), ("nobody", PASSWORD)):
            status, _, body = self.office.login(name, password)
            self.assertEqual((status, body["error"]["code"]), (401, "bad_credentials"))
        status, headers, body = self.office.login()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["username"], "office")
        cookie = headers["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertTrue(cookie.startswith("cr_office="))
        self.assertEqual(self.office.request("GET", "/api/v1/session")[2]["csrf_token"],
                         self.office.csrf)
        # Logging out is state-changing: without the CSRF token it is refused.
        status, _, body = self.office.request("DELETE", "/api/v1/session", csrf=False)
        self.assertEqual((status, body["error"]["code"]), (403, "csrf_failed"))
        self.assertEqual(self.office.request("DELETE", "/api/v1/session")[0], 200)
        self.assertEqual(self.office.request("GET", "/api/v1/session")[0], 401)
        # A new password ends the sessions.
        self.office.login()
        run("staff", "add", "--db", self.reg.db, "office", input="another long one\n")
        self.assertEqual(self.office.request("GET", "/api/v1/session")[0], 401)
        proc = run("staff", "add", "--db", self.reg.db, "short", input="abc\n", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("at least 8", proc.stderr)

    def test_search_progress_export_and_editions(self):
        self.import_roster([{"id": "A001", "family_name": "Müller", "given_name": "Lukas"},
                            {"id": "A002", "family_name": "Kowalska", "given_name": "Anna"},
                            {"id": "B777", "family_name": "Dubois", "given_name": "Chloé"}])
        lille_a = Device(self.reg, "lille-a", MODULE)
        lille_b = Device(self.reg, "lille-b", MODULE)
        for s in SESSIONS[:2]:
            lille_a.checkin("A001", s)
        lille_b.checkin("A001", SESSIONS[2])
        lille_b.checkin("A002", SESSIONS[0])
        self.office.login()

        def search(q):
            status, _, body = self.office.request("GET", "/api/v1/attendees?q=" + q)
            self.assertEqual(status, 200, body)
            return [a["id"] for a in body["attendees"]]
        self.assertEqual(search("muller"), ["A001"])
        self.assertEqual(search("MUELLER"), ["A001"])
        self.assertEqual(search("chloe"), ["B777"])
        self.assertEqual(search("annakowal"), ["A002"])
        self.assertEqual(search("b77"), ["B777"])
        self.assertEqual(search(""), ["A001", "A002", "B777"])

        status, _, p = self.office.request("GET", "/api/v1/attendees/A001/progress")
        self.assertEqual(status, 200, p)
        self.assertEqual((p["name"], p["modules"]["3"]["sessions_attended"],
                          p["modules"]["3"]["attendance_complete"], p["cycle_complete"]),
                         ("Lukas Müller", 3, True, False))
        self.assertEqual(self.office.request("GET", "/api/v1/attendees/ZZZ/progress")[0], 404)
        status, _, many = self.office.request("GET", "/api/v1/progress?cycle_complete=false")
        self.assertEqual([a["attendee_id"] for a in many["attendees"]], ["A001", "A002", "B777"])
        status, _, many = self.office.request("GET", "/api/v1/progress?cycle_complete=true")
        self.assertEqual(many["attendees"], [])
        self.assertEqual(self.office.request("GET", "/api/v1/progress?cycle_complete=maybe")[0],
                         400)
        status, _, short = self.office.request("GET", "/api/v1/cycles?cycle_complete=false")
        self.assertEqual(status, 200, short)
        self.assertEqual(short["attendees"][0],
                         {"attendee_id": "A001", "name": "Lukas Müller", "cycle_complete": False,
                          "cycle_completed_at": None, "modules_completed": [3],
                          "cme_credits_total": 9})
        self.assertEqual(self.office.request("GET", "/api/v1/cycles?module_id=" + MODULE_ID)[2]
                         ["attendees"][0]["attendee_id"], "A001")
        self.assertEqual(self.office.request("GET", "/api/v1/cycles?cycle_complete=true")[2],
                         {"attendees": []})
        self.assertEqual(self.office.request("GET", "/api/v1/cycles?cycle_complete=2")[0], 400)

        status, headers, csv = self.office.request("GET", "/api/v1/export?format=csv&module_id="
                                                   + MODULE_ID)
        self.assertEqual(status, 200)
        self.assertTrue(csv.startswith(b"\xef\xbb\xbfattendee_id;name;"))
        self.assertIn(b"A001;Lukas M\xc3\xbcller;ecnr-2026-2-m3;3;3;yes;9,0;", csv)
        self.assertIn("attachment", headers["content-disposition"])
        status, _, rows = self.office.request("GET", "/api/v1/export?format=json")
        self.assertEqual([(r["attendee_id"], r["sessions_attended"]) for r in rows["rows"]],
                         [("A001", 3), ("A002", 1), ("B777", 0)])
        self.assertEqual(self.office.request("GET", "/api/v1/export?format=xls")[0], 400)

        status, _, body = self.office.request("GET", "/api/v1/editions")
        [edition] = body["editions"]
        self.assertEqual((edition["module_id"], edition["attendees"]), (MODULE_ID, 3))
        devices = {d["device_id"]: d for d in edition["devices"]}
        self.assertEqual((devices["lille-a"]["acked_through"],
                          devices["lille-b"]["acked_through"]), (2, 2))
        self.assertIsNotNone(devices["lille-a"]["last_contact"])
        self.assertIsNone(devices["lille-a"]["last_refusal"])
        # A refused batch (a gap) shows on the device's line until another one replaces it.
        gap = batch(9, 9, device="lille-a")
        self.assertEqual(post_events(self.reg, gap, device="lille-a",
                                     token=self.reg.token_for("lille-a"))[0], 409)
        status, _, body = self.office.request("GET", "/api/v1/editions")
        refusal = {d["device_id"]: d for d in body["editions"][0]["devices"]}["lille-a"][
            "last_refusal"]
        self.assertEqual((refusal["code"], refusal["first_seq"], refusal["acked_through"]),
                         ("gap", 9, 2))
        self.assertRegex(refusal["at"], r"^\d{4}-\d\d-\d\dT")

    def test_the_office_page_and_its_files(self):
        status, headers, body = self.office.request("GET", "/")
        self.assertEqual((status, headers["location"]), (302, "/office"))
        status, headers, body = self.office.request("GET", "/office")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        self.assertIn(b'<script type="module" src="/office.js">', body)
        self.assertIn("default-src 'self'", headers["content-security-policy"])
        self.assertEqual(headers["x-frame-options"], "DENY")
        etag = headers["etag"]
        status, _, _ = self.office.request("GET", "/office", headers={"If-None-Match": etag})
        self.assertEqual(status, 304)
        for path in ("/office.js", "/office.css", "/common.js", "/common.css", "/staff.css",
                     "/staff-api.js"):
            with self.subTest(path):
                self.assertEqual(self.office.request("GET", path)[0], 200)
        # The device's own pages are not the registry's.
        for path in ("/staff", "/staff.js", "/schemas/sync-events-request.schema.json"):
            with self.subTest(path):
                self.assertEqual(self.office.request("GET", path)[0], 404)

    def test_metrics(self):
        lille_a = Device(self.reg, "lille-a", MODULE)
        lille_a.checkin("A001", SESSIONS[0])
        status, headers, text = self.office.request("GET", "/metrics")
        self.assertEqual(status, 200)
        text = text.decode()
        self.assertIn("course_registry_events 1\n", text)
        self.assertIn("course_registry_events_stored_total 1\n", text)
        self.assertIn("course_registry_batches_stored_total 1\n", text)
        tool = os.environ.get("PROMTOOL") or shutil.which("promtool")
        if tool is None:
            if os.environ.get("CI"):
                self.fail("promtool is missing: run bash scripts/dev test")
            self.skipTest("promtool is not installed (bash scripts/dev test installs it)")
        checked = subprocess.run([tool, "check", "metrics"], input=text, text=True,
                                 capture_output=True, timeout=60)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)


if __name__ == "__main__":
    unittest.main()
