"""The staff API (SPEC section 5) against the real server: sessions and CSRF on every staff
route of the route table, login throttling, `staff add`, manual check-ins, voids, roster
upload, summary and attendee list with ETags, exports, badges, completion records and the
module close, the clock, sync status and metrics. Every JSON answer is validated against
schemas/.

Logins are rate-limited per client address (a burst of 10, then one per 5 s), and every
request here comes from 127.0.0.1: each class logs in once and keeps its session, and the
classes that need many logins have a server of their own."""
import csv
import datetime
import gzip
import http.client
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid
from urllib.parse import quote

from kiosk import (BETWEEN, BIN, IN_MORNING, LATE_MORNING, ROSTER, STAFF_COOKIE, DataDir, Server,
                   add_staff, routes, run, staff_login, validate)

STAFF = "marie.dupont"
PASSWORD = "correct horse battery"


# What the staff GET routes answer with a valid session (concrete paths of the walk).
GET_SCHEMAS = {
    "/api/v1/session": "session",
    "/api/v1/summary": "summary",
    "/api/v1/attendees": "attendees",
    "/api/v1/attendees/A001": "attendee",
    "/api/v1/completions": "completions",
    "/api/v1/held": "held",
    "/api/v1/audit": "audit",
    "/api/v1/sync": "sync-status",
    "/api/v1/staff": "staff-accounts",
}


def concrete_path(pattern):
    """A path the route's pattern matches: attendee ids become A001, check-in ids a UUID."""
    def group(m):
        return str(uuid.uuid4()) if "{36}" in m.group(0) else "A001"
    return re.sub(r"\([^()]*\)", group, pattern)


def audit_entries(session):
    status, _, body = session.request("GET", "/api/v1/audit")
    assert status == 200, body
    validate(body, "audit")
    return body["entries"]


class StaffAssertions:
    def assert_error(self, answer, http_status, code, api=True):
        """`api`: the path is under /api/, whose answers must never be stored by caches."""
        status, headers, body = answer
        self.assertEqual(status, http_status, body)
        self.assertIsInstance(body, dict, body)
        validate(body, "error")
        self.assertEqual(body["error"]["code"], code, body)
        self.assertTrue(body["error"]["message"])
        if api:
            self.assertIn("no-store", headers.get("cache-control", ""))
        return body

    def assert_json(self, answer, http_status, schema):
        status, headers, body = answer
        self.assertEqual(status, http_status, body)
        self.assertIn("application/json", headers.get("content-type", ""))
        validate(body, schema)
        return body


class StaffServerTest(StaffAssertions, unittest.TestCase):
    """A server over a data dir with the standard roster, a staff account and one login."""
    FAKE_TIME = IN_MORNING
    TRUSTED = True

    @classmethod
    def setUpClass(cls):
        cls.data = DataDir()
        try:
            cls.data.import_roster(ROSTER)
            add_staff(cls.data, STAFF, PASSWORD)
            cls.prepare()
            cls.server = Server(cls.data, fake_time=cls.FAKE_TIME, trusted=cls.TRUSTED)
        except BaseException:
            cls.cleanup_extra()
            cls.data.cleanup()
            raise
        try:
            cls.staff = staff_login(cls.server, STAFF, PASSWORD)
        except BaseException:
            cls.server.stop()
            cls.cleanup_extra()
            cls.data.cleanup()
            raise

    @classmethod
    def prepare(cls):
        """Hook: more set-up before the server starts."""

    @classmethod
    def cleanup_extra(cls):
        """Hook: clean up what prepare() made."""

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.cleanup_extra()
        cls.data.cleanup()

    # Helpers over the logged-in session.
    def get(self, path, schema=None, status=200):
        answer = self.staff.request("GET", path)
        if schema:
            return self.assert_json(answer, status, schema)
        return answer

    def summary_counts(self, session_id="d1-am"):
        body = self.get("/api/v1/summary", "summary")
        [item] = [s for s in body["sessions"] if s["id"] == session_id]
        return item["present"], item["late"]

    def manual_checkin(self, attendee_id, body=None, status=201):
        if body is not None:
            validate(body, "manual-checkin-request")
        answer = self.staff.request("POST", f"/api/v1/attendees/{attendee_id}/checkins",
                                    body)
        return self.assert_json(answer, status, "checkin-response")

    def void(self, checkin_id, reason):
        body = {"reason": reason}
        validate(body, "void-request")
        return self.staff.request("POST", f"/api/v1/checkins/{checkin_id}/void", body)

    def badge_checkin(self, attendee_id, status=201):
        answer = self.server.checkin(self.data.credential(attendee_id))
        return self.assert_json(answer, status, "checkin-response")


class RouteWalkTest(StaffServerTest):
    """Every staff route of the route table refuses requests without a valid session, and
    state-changing ones without the CSRF token."""

    def test_every_staff_route_requires_a_session_and_csrf(self):
        staff_routes = [r for r in routes() if r["access"] == "staff"]
        self.assertGreaterEqual(len(staff_routes), 15, staff_routes)
        targets = []
        for r in staff_routes:
            path = concrete_path(r["pattern"])
            self.assertRegex(path, r"^/[A-Za-z0-9/._-]*$", r)
            self.assertIsNotNone(re.fullmatch(r["pattern"], path), (r, path))
            targets.append((r["method"], path))
        self.assertIn(("DELETE", "/api/v1/session"), targets)
        self.assertIn(("POST", "/api/v1/module/close"), targets)

        def api(path):
            return path.startswith("/api/")

        def send(method, path, headers):
            body = None if method == "GET" else {}
            return self.server.request(method, path, body, headers=headers)

        garbage = {"not hex": STAFF_COOKIE + "=garbage",
                   "unknown token": STAFF_COOKIE + "=" + secrets.token_hex(32),
                   "empty": STAFF_COOKIE + "=",
                   "other cookie name": "session=" + self.staff.token}
        for method, path in targets:
            with self.subTest("no cookie", method=method, path=path):
                self.assert_error(send(method, path, {}), 401, "unauthenticated", api(path))
            for name, cookie in garbage.items():
                with self.subTest(name, method=method, path=path):
                    headers = {"Cookie": cookie, "X-CSRF-Token": self.staff.csrf_token}
                    self.assert_error(send(method, path, headers), 401, "unauthenticated",
                                      api(path))
            if method == "GET":
                with self.subTest("valid session", method=method, path=path):
                    status, headers, body = send(method, path, {"Cookie": self.staff.cookie})
                    self.assertNotIn(status, (401, 403), body)
                    if "json" in headers.get("content-type", "") and status < 400:
                        self.assertIn(path, GET_SCHEMAS, "a staff route without a schema here")
                        validate(body, GET_SCHEMAS[path])
                    elif "json" in headers.get("content-type", ""):
                        validate(body, "error")
            else:
                with self.subTest("no CSRF token", method=method, path=path):
                    self.assert_error(send(method, path, {"Cookie": self.staff.cookie}),
                                      403, "csrf_failed", api(path))
                for name, token in (("wrong", secrets.token_hex(32)),
                                    ("prefix", self.staff.csrf_token[:-1]),
                                    ("empty", "")):
                    with self.subTest("bad CSRF token: " + name, method=method, path=path):
                        headers = {"Cookie": self.staff.cookie, "X-CSRF-Token": token}
                        self.assert_error(send(method, path, headers), 403, "csrf_failed",
                                          api(path))

        # The refused requests changed nothing: still logged in, module open, no actions.
        self.assert_json(self.staff.request("GET", "/api/v1/session"), 200, "session")
        completions = self.get("/api/v1/completions", "completions")
        self.assertFalse(completions["closed"])
        actions = {e["action"] for e in audit_entries(self.staff)}
        self.assertEqual(actions, {"staff_add", "login"})

        # Logging out ends the session: the old cookie (and token) no longer open anything.
        status, headers, body = self.staff.logout()
        self.assertEqual(status, 200, body)
        validate(body, "logout-response")
        self.assertRegex(headers.get("set-cookie", ""), r"^" + STAFF_COOKIE + r"=;.*Max-Age=0")
        for method, path in targets:
            with self.subTest("after logout", method=method, path=path):
                headers = {"Cookie": self.staff.cookie, "X-CSRF-Token": self.staff.csrf_token}
                self.assert_error(send(method, path, headers), 401, "unauthenticated",
                                  api(path))


class StaffAccountsTest(StaffServerTest):
    """Roles and accounts: `staff add --role`, the /api/v1/staff routes for admins only,
    refusals, a disabled account's session and login, and the audit (issue 14, item 6)."""

    @classmethod
    def prepare(cls):
        made = add_staff(cls.data, "desk", PASSWORD, role="staff")
        assert "(staff)" in made.stdout, made.stdout

    def account(self, name):
        body = self.get("/api/v1/staff", "staff-accounts")
        [found] = [a for a in body["accounts"] if a["username"] == name]
        return found

    def test_cli_role(self):
        refused = add_staff(self.data, "other", PASSWORD, role="boss", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("role", refused.stderr)
        self.assertEqual(self.account(STAFF)["role"], "admin")  # the default
        self.assertEqual(self.account("desk")["role"], "staff")
        self.assertNotIn("hash", json.dumps(self.get("/api/v1/staff", "staff-accounts")))

    def test_admin_manages_accounts_and_staff_are_refused(self):
        desk = staff_login(self.server, "desk", PASSWORD)
        session = self.assert_json(desk.request("GET", "/api/v1/session"), 200, "session")
        self.assertEqual(session["role"], "staff")
        mine = self.assert_json(self.staff.request("GET", "/api/v1/session"), 200, "session")
        self.assertEqual(mine["role"], "admin")
        for method, path, body in (
                ("GET", "/api/v1/staff", None),
                ("POST", "/api/v1/staff", {"username": "x1", "password": PASSWORD,
                                           "role": "admin"}),
                ("PUT", "/api/v1/staff/desk", {"role": "admin"}),
                ("PUT", f"/api/v1/staff/{STAFF}/password", {"password": PASSWORD})):
            with self.subTest(method=method, path=path):
                self.assert_error(desk.request(method, path, body), 403, "forbidden")

        new = {"username": "anna.k", "password": "three unrelated words", "role": "staff"}
        validate(new, "staff-add-request")
        added = self.assert_json(self.staff.request("POST", "/api/v1/staff", new), 201,
                                 "staff-account-response")
        self.assertEqual(added["account"]["role"], "staff")
        self.assertIsNotNone(added["account"]["created"])
        self.assert_error(self.staff.request("POST", "/api/v1/staff", new), 409, "staff_exists")
        self.assert_error(self.staff.request("POST", "/api/v1/staff",
                                             dict(new, username="b", password="short")),
                          422, "weak_password")

        # Disabling ends desk's open session at once; its right password then fails as a
        # wrong one does.
        change = {"disabled": True}
        validate(change, "staff-access-request")
        body = self.assert_json(self.staff.request("PUT", "/api/v1/staff/desk", change), 200,
                                "staff-account-response")
        self.assertTrue(body["account"]["disabled"])
        self.assert_error(desk.request("GET", "/api/v1/summary"), 401, "unauthenticated")
        self.assert_error(self.server.request("POST", "/api/v1/session",
                                              {"username": "desk", "password": PASSWORD}),
                          401, "bad_credentials")

        # Nobody disables or demotes themselves.
        self.assert_error(self.staff.request("PUT", f"/api/v1/staff/{STAFF}",
                                             {"disabled": True}), 409, "own_account")
        self.assert_error(self.staff.request("PUT", f"/api/v1/staff/{STAFF}",
                                             {"role": "staff"}), 409, "own_account")

        # A reset by the admin: the new password works, the old one does not.
        anna = staff_login(self.server, "anna.k", "three unrelated words")
        reset = {"password": "a different phrase"}
        validate(reset, "staff-password-request")
        self.assert_json(self.staff.request("PUT", "/api/v1/staff/anna.k/password", reset),
                         200, "staff-account-response")
        self.assert_error(anna.request("GET", "/api/v1/summary"), 401, "unauthenticated")
        staff_login(self.server, "anna.k", "a different phrase")

        entries = audit_entries(self.staff)
        actions = [(e["action"], e["actor"], e["details"].get("username")) for e in entries]
        self.assertIn(("staff_add", STAFF, "anna.k"), actions)
        self.assertIn(("staff_disable", STAFF, "desk"), actions)
        self.assertIn(("staff_password_reset", STAFF, "anna.k"), actions)
        text = json.dumps(entries)
        for password in ("three unrelated words", "a different phrase"):
            self.assertNotIn(password, text)


class LoginTest(StaffServerTest):
    def test_login_answers_and_cookie(self):
        bad = self.assert_error(
            self.server.request("POST", "/api/v1/session",
                                {"username": STAFF, "password": "wrong password"}),
            401, "bad_credentials")
        unknown = self.assert_error(
            self.server.request("POST", "/api/v1/session",
                                {"username": "nobody", "password": PASSWORD}),
            401, "bad_credentials")
        # Nothing tells an unknown user from a wrong password.
        self.assertEqual(bad, unknown)

        request = {"username": STAFF, "password": PASSWORD}
        validate(request, "login-request")
        status, headers, body = self.server.request("POST", "/api/v1/session", request)
        self.assertEqual(status, 200, body)
        validate(body, "session")
        self.assertEqual(body["username"], STAFF)
        cookie = headers.get("set-cookie", "")
        parts = [p.strip() for p in cookie.split(";")]
        name, _, token = parts[0].partition("=")
        self.assertEqual(name, STAFF_COOKIE, cookie)
        self.assertRegex(token, r"^[0-9a-f]{64}$")
        attributes = {p.split("=")[0].lower(): p.partition("=")[2] for p in parts[1:]}
        self.assertIn("httponly", attributes, cookie)
        self.assertEqual(attributes.get("samesite"), "Strict", cookie)
        self.assertEqual(attributes.get("path"), "/", cookie)
        self.assertRegex(attributes.get("max-age", ""), r"^[1-9][0-9]*$", cookie)
        self.assertNotEqual(token, self.staff.token)  # a new session per login

        status, _, again = self.server.request(
            "GET", "/api/v1/session", headers={"Cookie": STAFF_COOKIE + "=" + token})
        self.assertEqual(status, 200, again)
        validate(again, "session")
        self.assertEqual(again, {"username": STAFF, "csrf_token": body["csrf_token"],
                                 "role": "admin"})
        # The session cookie is found among others.
        status, _, mixed = self.server.request(
            "GET", "/api/v1/session",
            headers={"Cookie": f"theme=dark; {STAFF_COOKIE}={token}; lang=fr"})
        self.assertEqual(status, 200, mixed)
        self.assertEqual(mixed["csrf_token"], body["csrf_token"])
        # Each session has its own CSRF token.
        self.assertNotEqual(body["csrf_token"], self.staff.csrf_token)

    def test_malformed_login(self):
        for raw in (b"{", b'{"username": "x"}', b'{"username": 1, "password": "p"}', b"[]"):
            with self.subTest(raw=raw):
                self.assert_error(self.server.request(
                    "POST", "/api/v1/session", raw=raw,
                    headers={"Content-Type": "application/json"}), 400, "malformed_request")


class StaffAddTest(StaffAssertions, unittest.TestCase):
    def setUp(self):
        self.data = DataDir()
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
        self.data.cleanup()

    def login(self, user, password):
        return self.server.request("POST", "/api/v1/session",
                                   {"username": user, "password": password})

    def test_staff_add_from_stdin(self):
        short = add_staff(self.data, "shorty", "1234567", check=False)
        self.assertEqual(short.returncode, 1, short.stderr)
        self.assertEqual(len(short.stderr.strip().split("\n")), 1, short.stderr)
        self.assertTrue(short.stderr.startswith("course-kiosk"), short.stderr)
        empty = add_staff(self.data, "shorty", "", check=False)
        self.assertEqual(empty.returncode, 1, empty.stderr)
        for name in ("bad name", "a/b", "x" * 65, "Ümlaut", "semi;colon"):
            with self.subTest(name=name):
                proc = add_staff(self.data, name, "long enough password", check=False)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertTrue(proc.stderr.strip(), "no message for a bad name")

        exactly_eight = "12345678"
        self.assertEqual(add_staff(self.data, "eight", exactly_eight).returncode, 0)
        first = "first password 1"
        second = "second password 2"
        created = add_staff(self.data, "rita", first)
        self.assertIn("created", created.stdout)
        self.assertNotIn(first, created.stdout + created.stderr)

        self.server = Server(self.data)
        self.assert_json(self.login("rita", first), 200, "session")
        self.assert_json(self.login("eight", exactly_eight), 200, "session")
        self.assert_error(self.login("shorty", "1234567"), 401, "bad_credentials")

        # Adding an existing name resets its password, also while the server runs.
        reset = add_staff(self.data, "rita", second)
        self.assertIn("updated", reset.stdout)
        self.assert_error(self.login("rita", first), 401, "bad_credentials")
        self.assert_json(self.login("rita", second), 200, "session")

        # No password is stored in clear anywhere in the data dir.
        for root, _, files in os.walk(self.data.data):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    content = f.read()
                for password in (first, second, exactly_eight):
                    with self.subTest(file=name, password=password):
                        self.assertNotIn(password.encode(), content)


class StaffApiTest(StaffServerTest):
    """Manual check-in, roster upload, summary and attendee list, exports and badges on a
    server in the d1-am window (08:40, not late)."""

    def test_manual_checkin(self):
        first = self.manual_checkin("A001", {})
        self.assertEqual(first["status"], "checked_in")
        self.assertEqual(first["checkin"]["source"], "manual")
        self.assertEqual(first["checkin"]["session_id"], "d1-am")
        self.assertEqual(first["session"]["id"], "d1-am")
        self.assertEqual(first["attendee"]["display_name"], "Anna K.")
        self.assertFalse(first["checkin"]["late"])

        detail = self.get("/api/v1/attendees/A001", "attendee")
        [entry] = [c for c in detail["checkins"] if c["id"] == first["checkin"]["id"]]
        self.assertEqual(entry["source"], "manual")
        self.assertEqual(entry["staff"], STAFF)
        self.assertFalse(entry["voided"])
        self.assertEqual(detail["attendee"]["family_name"], "Kowalska")

        # Without a body: the open session again, which is already taken.
        again = self.manual_checkin("A001", None, status=200)
        self.assertEqual(again["status"], "already_checked_in")
        self.assertEqual(again["checkin"]["id"], first["checkin"]["id"])

        # A session that has not started counts for nothing yet (NoOpenSessionTest has one
        # that is over).
        for session_id in ("d1-pm", "d2-am"):
            with self.subTest(session=session_id):
                refused = self.assert_error(self.staff.request(
                    "POST", "/api/v1/attendees/A001/checkins", {"session_id": session_id}),
                    409, "session_not_started")
                self.assertIn("opens at", refused["error"]["message"])

        for body in ({"session_id": "d9-xx"}, {"session_id": 5}, {"session_id": ""}):
            with self.subTest(body=body):
                self.assert_error(self.staff.request(
                    "POST", "/api/v1/attendees/A001/checkins", body), 400, "malformed_request")
        self.assert_error(self.staff.request(
            "POST", "/api/v1/attendees/A001/checkins", raw=b"[1]",
            headers={"Content-Type": "application/json"}), 400, "malformed_request")
        self.assert_error(self.staff.request("POST", "/api/v1/attendees/NOPE-9/checkins", {}),
                          404, "not_found")
        self.assert_error(self.staff.request("GET", "/api/v1/attendees/NOPE-9"), 404,
                          "not_found")
        detail = self.get("/api/v1/attendees/A001", "attendee")
        self.assertEqual(len(detail["checkins"]), 1)  # the refused ones left nothing
        self.assertEqual(detail["completion"]["sessions_attended"], 1)

    def test_roster_upload_csv(self):
        text = ("id,family_name,given_name,country,email\n"
                "R100,Nowak,Piotr,PL,piotr@example.org\n"
                "bad id,Broken,Row,FR,\n"
                "R101,Bad,Email,DE,not-an-email\n"
                "R102,Łukasiewicz,Zoë,PL,\n")
        answer = self.staff.request("POST", "/api/v1/roster", raw=text.encode(),
                                    headers={"Content-Type": "text/csv; charset=utf-8"})
        report = self.assert_json(answer, 200, "roster-import-report")
        self.assertEqual(report["rows_total"], 4)
        self.assertEqual(report["accepted"], 2)
        self.assertEqual(report["created"], 2)
        self.assertIsNone(report["file_error"])
        problems = {(p["line"], p["code"]) for p in report["rejected"]}
        self.assertEqual(problems, {(3, "invalid_id"), (4, "invalid_email")})

        listing = self.get("/api/v1/attendees?q=R10", "attendees")
        ids = {a["id"] for a in listing["attendees"]}
        self.assertEqual(ids, {"R100", "R102"})
        [zoe] = [a for a in listing["attendees"] if a["id"] == "R102"]
        self.assertEqual((zoe["family_name"], zoe["given_name"]), ("Łukasiewicz", "Zoë"))

        # The same file again changes nothing; a changed row is an update.
        again = self.assert_json(self.staff.request(
            "POST", "/api/v1/roster", raw=text.encode(), headers={"Content-Type": "text/csv"}),
            200, "roster-import-report")
        self.assertEqual((again["created"], again["updated"], again["unchanged"]), (0, 0, 2))
        changed = text.replace("R100,Nowak,Piotr", "R100,Nowak,Paweł")
        update = self.assert_json(self.staff.request(
            "POST", "/api/v1/roster", raw=changed.encode(), headers={"Content-Type": "text/csv"}),
            200, "roster-import-report")
        self.assertEqual((update["created"], update["updated"], update["unchanged"]), (0, 1, 1))
        detail = self.get("/api/v1/attendees/R100", "attendee")
        self.assertEqual(detail["attendee"]["given_name"], "Paweł")
        imports = [e for e in audit_entries(self.staff) if e["action"] == "roster_import"]
        self.assertGreaterEqual(len(imports), 3)
        self.assertEqual(imports[0]["actor"], STAFF)

    def test_roster_upload_json(self):
        roster = {"attendees": [
            {"id": "J200", "family_name": "Rossi", "given_name": "Giulia", "country": "IT"},
            {"id": "J201", "given_name": "Nameless"},
        ]}
        report = self.assert_json(self.staff.request("POST", "/api/v1/roster", roster), 200,
                                  "roster-import-report")
        self.assertEqual((report["rows_total"], report["accepted"]), (2, 1))
        [problem] = report["rejected"]
        self.assertEqual((problem["line"], problem["id"], problem["code"]),
                         (2, "J201", "missing_field"))
        # The plain array form.
        array = [{"id": "J202", "family_name": "Santos", "given_name": "Inês"}]
        validate(array, "roster")
        report = self.assert_json(self.staff.request("POST", "/api/v1/roster", array), 200,
                                  "roster-import-report")
        self.assertEqual((report["accepted"], report["created"]), (1, 1))
        ids = {a["id"] for a in self.get("/api/v1/attendees?q=J20", "attendees")["attendees"]}
        self.assertEqual(ids, {"J200", "J202"})

    def test_roster_upload_refusals(self):
        before = self.get("/api/v1/attendees", "attendees")["total"]
        good_csv = b"id,family_name,given_name\nW300,Weber,Jonas\n"
        for ctype in ("text/xml", "application/x-www-form-urlencoded", "image/png"):
            with self.subTest(content_type=ctype):
                self.assert_error(self.staff.request("POST", "/api/v1/roster", raw=good_csv,
                                                     headers={"Content-Type": ctype}),
                                  415, "unsupported_media_type")
        cases = [("text/csv", b"W300,Weber,Jonas\n"),  # no header row
                 ("text/csv", b""),
                 ("application/json", b"{"),
                 ("application/json", b'{"people": []}')]
        for ctype, raw in cases:
            with self.subTest(content_type=ctype, body=raw):
                body = self.assert_error(self.staff.request(
                    "POST", "/api/v1/roster", raw=raw, headers={"Content-Type": ctype}),
                    400, "malformed_request")
                details = body["error"].get("details")
                self.assertIsNotNone(details, body)
                validate(details, "roster-import-report")
                self.assertTrue(details["file_error"], details)
                self.assertEqual(details["accepted"], 0)
        self.assertEqual(self.get("/api/v1/attendees", "attendees")["total"], before)

    def test_summary_etag(self):
        status, headers, first = self.get("/api/v1/summary")
        self.assertEqual(status, 200, first)
        validate(first, "summary")
        self.assertEqual(first["module"]["id"], "ecnr-2026-2-m3")
        self.assertEqual(first["open_session"]["id"], "d1-am")
        self.assertEqual(first["next_session"]["id"], "d1-pm")
        self.assertEqual(first["today"], "2026-11-23")
        self.assertTrue(first["clock"]["trusted"])
        self.assertFalse(first["module_closed"])
        self.assertEqual(first["expected"], first["sessions"][0]["expected"])
        etag = headers.get("etag")
        self.assertRegex(etag or "", r'^(W/)?".+"$')

        status, headers, body = self.staff.request("GET", "/api/v1/summary",
                                                    headers={"If-None-Match": etag})
        self.assertEqual(status, 304, body)
        self.assertEqual(body, "")
        self.assertEqual(headers.get("etag"), etag)

        present = [s["present"] for s in first["sessions"] if s["id"] == "d1-am"][0]
        self.badge_checkin("A003")
        status, headers, after = self.staff.request("GET", "/api/v1/summary",
                                                    headers={"If-None-Match": etag})
        self.assertEqual(status, 200, after)
        validate(after, "summary")
        self.assertNotEqual(headers.get("etag"), etag)
        self.assertEqual([s["present"] for s in after["sessions"] if s["id"] == "d1-am"][0],
                         present + 1)

    def test_attendee_list_search_and_etag(self):
        status, headers, everyone = self.get("/api/v1/attendees")
        self.assertEqual(status, 200, everyone)
        validate(everyone, "attendees")
        self.assertEqual([s["id"] for s in everyone["sessions"]], ["d1-am", "d1-pm", "d2-am"])
        total = everyone["total"]
        self.assertEqual(total, len(everyone["attendees"]))
        self.assertGreaterEqual(total, 3)
        searches = {"kowal": {"A001"}, "KOWALSKA": {"A001"},
                    "müller": {"A002"}, "a002": {"A002"}, "A003": {"A003"},
                    "Anna Kowalska": {"A001"}, "dubois chloé": {"A003"},
                    "no such person": set()}
        for query, expected in searches.items():
            with self.subTest(q=query):
                body = self.get("/api/v1/attendees?q=" + quote(query), "attendees")
                self.assertEqual({a["id"] for a in body["attendees"]}, expected)
                self.assertEqual(body["total"], total)

        etag = headers.get("etag")
        self.assertRegex(etag or "", r'^(W/)?".+"$')
        status, _, body = self.staff.request("GET", "/api/v1/attendees",
                                             headers={"If-None-Match": etag})
        self.assertEqual(status, 304, body)
        self.assertEqual(body, "")
        status, _, body = self.staff.request("GET", "/api/v1/attendees",
                                             headers={"If-None-Match": '"something else"'})
        self.assertEqual(status, 200, body)

    def test_exports(self):
        # A002 (Müller): a manual check-in for d1-am, voided, then present there by badge.
        wrong = self.manual_checkin("A002", {"session_id": "d1-am"})
        status, _, body = self.void(wrong["checkin"]["id"], "wrong person, sorry")
        self.assertEqual(status, 200, body)
        self.badge_checkin("A002")
        total = self.get("/api/v1/attendees", "attendees")["total"]

        status, headers, text = self.staff.request("GET", "/api/v1/export?format=csv")
        self.assertEqual(status, 200, text)
        self.assertTrue(headers.get("content-type", "").startswith("text/csv"), headers)
        self.assertIn("attachment", headers.get("content-disposition", ""))
        self.assertTrue(text.startswith("\ufeff"), text[:20])  # UTF-8 BOM
        rows = list(csv.reader(io.StringIO(text[1:], newline="")))
        header = ["attendee_id", "family_name", "given_name", "country", "email", "day",
                  "session_id", "session_label", "present", "checkin_time", "source", "late",
                  "staff", "voids", "not_in_roster"]
        self.assertEqual(rows[0], header)
        records = [dict(zip(header, r)) for r in rows[1:]]
        for r in rows[1:]:
            self.assertEqual(len(r), len(header), r)
        self.assertEqual(len(records), total * 3)
        pairs = {(r["attendee_id"], r["session_id"]) for r in records}
        self.assertEqual(len(pairs), total * 3)
        by_pair = {(r["attendee_id"], r["session_id"]): r for r in records}
        present = by_pair[("A002", "d1-am")]
        self.assertEqual(present["family_name"], "Müller")
        self.assertEqual((present["present"], present["source"]), ("yes", "badge"))
        self.assertIn("wrong person, sorry", present["voids"])
        absent = by_pair[("A002", "d2-am")]
        self.assertEqual((absent["present"], absent["voids"]), ("no", ""))
        self.assertIn("Chloé", {r["given_name"] for r in records})

        status, _, semi = self.staff.request("GET", "/api/v1/export?format=csv&sep=semicolon")
        self.assertEqual(status, 200, semi)
        self.assertTrue(semi.startswith("\ufeff"))
        first_line = semi[1:].split("\r\n")[0]
        self.assertEqual(first_line.split(";"), header)
        semi_rows = list(csv.reader(io.StringIO(semi[1:], newline=""), delimiter=";"))
        self.assertEqual(len(semi_rows), len(rows))
        self.assertIn("Müller", [r[1] for r in semi_rows])

        export = self.get("/api/v1/export?format=json", "export")
        self.assertEqual(export["module"]["id"], "ecnr-2026-2-m3")
        people = {a["id"]: a for a in export["attendees"]}
        self.assertEqual(len(people), total)
        mueller = people["A002"]
        self.assertEqual(mueller["family_name"], "Müller")
        self.assertEqual(sorted((c["session_id"], c["voided"]) for c in mueller["checkins"]),
                         [("d1-am", False), ("d1-am", True)])
        [void] = [c for c in mueller["checkins"] if c["voided"]]
        self.assertEqual(void["void_reason"], "wrong person, sorry")
        self.assertEqual(void["staff"], STAFF)
        self.assertEqual(mueller["completion"]["attended_session_ids"], ["d1-am"])
        self.assertEqual(mueller["completion"]["cme_credits"], 3.0)
        self.assertFalse(mueller["completion"]["attendance_complete"])

        self.assert_error(self.staff.request("GET", "/api/v1/export?format=xml"), 400,
                          "malformed_request")

    def test_export_csv_neutralises_formulas(self):
        roster = [{"id": "F900", "family_name": "=HYPERLINK(\"http://x\")", "given_name": "@Eve",
                   "country": "+33"}]
        report = self.assert_json(self.staff.request("POST", "/api/v1/roster", roster), 200,
                                  "roster-import-report")
        self.assertEqual(report["accepted"], 1, report)
        status, _, text = self.staff.request("GET", "/api/v1/export?format=csv")
        self.assertEqual(status, 200, text)
        rows = [r for r in csv.reader(io.StringIO(text[1:], newline="")) if r[0] == "F900"]
        self.assertEqual(len(rows), 3)
        for row in rows:
            for cell in row[1:4]:
                self.assertFalse(cell[:1] in ("=", "+", "-", "@"), row)
            self.assertEqual(row[1], "'=HYPERLINK(\"http://x\")")

    def test_badges(self):
        everyone = {a["id"] for a in self.get("/api/v1/attendees", "attendees")["attendees"]}
        status, headers, html = self.staff.request("GET", "/api/v1/badges")
        self.assertEqual(status, 200, html)
        self.assertTrue(headers.get("content-type", "").startswith("text/html"), headers)
        ids = re.findall(r'data-attendee-id="([^"]*)"', html)
        self.assertEqual(sorted(ids), sorted(everyone))
        self.assertEqual(html.count("<svg"), len(ids))

        status, _, one = self.staff.request("GET", "/api/v1/badges?ids=A001")
        self.assertEqual(status, 200, one)
        self.assertEqual(re.findall(r'data-attendee-id="([^"]*)"', one), ["A001"])
        self.assertIn("Kowalska", one)
        self.assertNotIn("Dubois", one)
        status, _, two = self.staff.request("GET", "/api/v1/badges?ids=A003,A002")
        self.assertEqual(status, 200, two)
        self.assertEqual(re.findall(r'data-attendee-id="([^"]*)"', two), ["A003", "A002"])
        self.assert_error(self.staff.request("GET", "/api/v1/badges?ids=A001,NOPE-9"), 404,
                          "not_found")

        with tempfile.TemporaryDirectory(prefix="ck-badges-") as tmp:
            out = os.path.join(tmp, "badges.html")
            proc = run("badges", "--data", self.data.data, "--out", out)
            self.assertIn(str(len(everyone)), proc.stdout)
            with open(out, encoding="utf-8") as f:
                sheet = f.read()
        self.assertTrue(sheet.startswith("<!DOCTYPE html>"), sheet[:40])
        self.assertEqual(sorted(re.findall(r'data-attendee-id="([^"]*)"', sheet)),
                         sorted(everyone))
        self.assertEqual(sheet.count("<svg"), len(everyone))


BIG_ROSTER = [(f"M{i:04d}", f"Family{i}", f"Given{i}", "FR" if i % 2 else "DE")
              for i in range(600)]
SESSIONS = [("2026-11-23", "d1-am", "Monday morning"), ("2026-11-23", "d1-pm", "Monday afternoon"),
            ("2026-11-24", "d2-am", "Tuesday morning")]


def raw_get(server, path, cookie, headers=None):
    """GET with the session cookie, unparsed: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, **(headers or {})})
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


class BigRosterTest(StaffServerTest):
    """Issue 14, item 14: the attendee list in pages; the exports and the badge sheet
    streamed (chunked) with their whole content, over 603 attendees."""

    @classmethod
    def prepare(cls):
        proc = cls.data.import_roster(ROSTER + BIG_ROSTER)
        assert proc.returncode == 0, proc.stderr

    def everyone(self):
        return sorted([r[0] for r in ROSTER] + [r[0] for r in BIG_ROSTER])

    def pages(self, query, limit):
        ids, cursor, pages = [], None, []
        while True:
            path = f"/api/v1/attendees?{query}&limit={limit}"
            if cursor is not None:
                path += "&cursor=" + quote(cursor)
            page = self.get(path, "attendees")
            pages.append(page)
            self.assertLessEqual(len(page["attendees"]), limit)
            ids += [a["id"] for a in page["attendees"]]
            if page["next"] is None:
                return ids, pages
            self.assertEqual(page["next"], ids[-1])
            cursor = page["next"]
            self.assertLess(len(pages), 50)

    def test_attendee_list_in_pages(self):
        first = self.get("/api/v1/attendees", "attendees")
        self.assertEqual(len(first["attendees"]), 200)  # the default limit
        self.assertEqual((first["total"], first["matched"], first["limit"]), (603, 603, 200))
        self.assertEqual(first["next"], first["attendees"][-1]["id"])
        for limit, count in ((250, 3), (603, 1), (602, 2), (1000, 1)):
            with self.subTest(limit=limit):
                ids, pages = self.pages("q=", limit)
                self.assertEqual(ids, self.everyone())
                self.assertEqual(len(pages), count)
                self.assertIsNone(pages[-1]["next"])
        # The search, in pages: Family1, Family10-19, Family100-199 (111 of them).
        ids, pages = self.pages("q=family1", 40)
        self.assertEqual(len(ids), 111)
        self.assertEqual({p["matched"] for p in pages}, {111})
        self.assertEqual(len(pages), 3)
        # Who is here and who is missing in d1-am.
        for attendee in ("M0001", "M0003", "A002"):
            self.manual_checkin(attendee, {"session_id": "d1-am"})
        here, _ = self.pages("session=d1-am&present=true", 2)
        self.assertEqual(here, ["A002", "M0001", "M0003"])
        missing, pages = self.pages("session=d1-am&present=false", 300)
        self.assertEqual(len(missing), 600)
        self.assertNotIn("M0001", missing)
        self.assertEqual(pages[0]["matched"], 600)
        # An ETag per page: a poll of an unchanged page costs a 304.
        status, headers, _ = self.staff.request("GET", "/api/v1/attendees?limit=10&cursor=M0100")
        self.assertEqual(status, 200)
        status, _, body = self.staff.request("GET", "/api/v1/attendees?limit=10&cursor=M0100",
                                             headers={"If-None-Match": headers["etag"]})
        self.assertEqual(status, 304, body)
        for bad in ("limit=0", "limit=1001", "limit=ten", "limit=-1", "limit=",
                    "present=yes&session=d1-am", "present=true", "session=d9&present=true"):
            with self.subTest(bad=bad):
                self.assert_error(self.staff.request("GET", "/api/v1/attendees?" + bad), 400,
                                  "malformed_request")

    def expected_csv(self, checkins, sep=","):
        """The export as it must read, from the roster and the check-ins made here."""
        people = {r[0]: r for r in ROSTER + BIG_ROSTER}

        def field(text):
            if any(c in text for c in (sep, '"', "\n", "\r")):
                return '"' + text.replace('"', '""') + '"'
            return text

        lines = [sep.join(["attendee_id", "family_name", "given_name", "country", "email", "day",
                           "session_id", "session_label", "present", "checkin_time", "source",
                           "late", "staff", "voids", "not_in_roster"])]
        for attendee_id in sorted(people):
            _, family, given, country = people[attendee_id]
            for day, session_id, label in SESSIONS:
                c = checkins.get((attendee_id, session_id))
                lines.append(sep.join(field(x) for x in [
                    attendee_id, family, given, country, "", day, session_id, label,
                    "yes" if c else "no", c["at"] if c else "", c["source"] if c else "",
                    "yes" if c and c["late"] else "no", c["staff"] if c else "", "", "no"]))
        return "\ufeff" + "".join(line + "\r\n" for line in lines)

    def test_exports_streamed(self):
        mine = {}
        for attendee in ("M0005", "M0599", "A001"):
            answer = self.manual_checkin(attendee, {"session_id": "d1-am"})
            mine[(attendee, "d1-am")] = answer["checkin"]
        # Every valid check-in, the other tests' too, from the list.
        checkins = {}
        for page in self.pages("q=", 1000)[1]:
            for a in page["attendees"]:
                for session_id, c in a["checkins"].items():
                    checkins[(a["id"], session_id)] = c
        for key, c in mine.items():
            self.assertEqual(checkins[key]["id"], c["id"])
        for path, sep in (("/api/v1/export?format=csv", ","),
                          ("/api/v1/export?format=csv&sep=semicolon", ";")):
            with self.subTest(path=path):
                status, headers, body = raw_get(self.server, path, self.staff.cookie)
                self.assertEqual(status, 200, body[:200])
                self.assertEqual(headers.get("transfer-encoding"), "chunked", headers)
                self.assertNotIn("content-length", headers)
                self.assertTrue(headers.get("content-type", "").startswith("text/csv"))
                self.assertIn("attachment", headers.get("content-disposition", ""))
                self.assertEqual(headers.get("cache-control"), "no-store")
                self.assertEqual(body.decode("utf-8"), self.expected_csv(checkins, sep))

        status, headers, body = raw_get(self.server, "/api/v1/export?format=json",
                                        self.staff.cookie)
        self.assertEqual(status, 200, body[:200])
        self.assertEqual(headers.get("transfer-encoding"), "chunked", headers)
        export = json.loads(body)
        validate(export, "export")
        self.assertEqual([a["id"] for a in export["attendees"]], self.everyone())
        self.assertEqual(export["module"]["id"], "ecnr-2026-2-m3")
        for a in export["attendees"]:
            c = checkins.get((a["id"], "d1-am"))
            self.assertEqual([x["id"] for x in a["checkins"]], [c["id"]] if c else [], a["id"])
            self.assertEqual(a["completion"]["attended_session_ids"], ["d1-am"] if c else [])
            self.assertFalse(a["not_in_roster"])
        m0599 = export["attendees"][-1]
        self.assertEqual((m0599["id"], m0599["family_name"], m0599["country"]),
                         ("M0599", "Family599", "FR"))
        # The same bytes from the command line's export.
        cli = subprocess.run([BIN, "export", "--data", self.data.data, "--format", "csv"],
                             capture_output=True, check=True, timeout=60).stdout
        self.assertEqual(cli.decode("utf-8"), self.expected_csv(checkins))

    def test_badge_sheet_streamed(self):
        status, headers, body = raw_get(self.server, "/api/v1/badges", self.staff.cookie)
        self.assertEqual(status, 200, body[:200])
        self.assertEqual(headers.get("transfer-encoding"), "chunked", headers)
        self.assertNotIn("content-length", headers)
        self.assertTrue(headers.get("content-type", "").startswith("text/html"))
        self.assertIn("default-src 'none'", headers.get("content-security-policy", ""))
        html = body.decode("utf-8")
        self.assertTrue(html.startswith("<!DOCTYPE html>"), html[:40])
        self.assertTrue(html.endswith("</div>\n</body></html>\n"), html[-60:])
        ids = re.findall(r'data-attendee-id="([^"]*)"', html)
        self.assertEqual(ids, self.everyone())
        self.assertEqual(html.count("<svg"), 603)
        self.assertEqual(html.count('<div class="page">'), 76)  # 8 a page
        # Each badge's QR code is its own: the sheet of one equals its badge in the whole.
        _, _, one = raw_get(self.server, "/api/v1/badges?ids=M0300", self.staff.cookie)
        badge = re.search(r'<div class="badge" data-attendee-id="M0300">.*?\n', one.decode()).group(0)
        self.assertIn(badge, html)
        self.assertIn("Family300", badge)
        self.assert_error(self.staff.request("GET", "/api/v1/badges?ids=M0300,NOPE"), 404,
                          "not_found")

    def test_browsers_get_gzip_never_brotli(self):
        # httplib's brotli (quality 11) is slow and holds tens of MB per answer.
        for path in ("/api/v1/badges", "/api/v1/export?format=csv", "/staff"):
            with self.subTest(path=path):
                status, headers, body = raw_get(self.server, path, self.staff.cookie,
                                                {"Accept-Encoding": "gzip, deflate, br"})
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("content-encoding"), "gzip", headers)
                self.assertGreater(len(gzip.decompress(body)), len(body))


class RosterLimitTest(StaffServerTest):
    def test_roster_upload_has_its_own_body_limit(self):
        # Far above limits.max_body_bytes (16 KiB): a roster upload may be up to 4 MiB.
        text = "id,family_name,given_name\n" + "".join(
            f"L{i:04d},Family-name-{i:04d},Given-name-{i:04d}\n" for i in range(1000))
        self.assertGreater(len(text), 32 * 1024)
        report = self.assert_json(self.staff.request(
            "POST", "/api/v1/roster", raw=text.encode(), headers={"Content-Type": "text/csv"}),
            200, "roster-import-report")
        self.assertEqual((report["accepted"], report["created"]), (1000, 1000))
        self.assertEqual(self.get("/api/v1/attendees?q=L0999", "attendees")["total"],
                         len(ROSTER) + 1000)
        huge = b"id,family_name,given_name\n" + b"H1,Huge,Body\n" * (5 << 17)
        self.assertGreater(len(huge), 4 << 20)
        self.assert_error(self.staff.request("POST", "/api/v1/roster", raw=huge,
                                             headers={"Content-Type": "text/csv"}),
                          413, "payload_too_large")


class WalkInTest(StaffServerTest):
    """POST /api/v1/attendees against the real binary: a walk-in is added, refused with a
    code for a taken or missing number and for bad fields, audited, and their badge prints
    and checks in."""

    def add(self, body, status, code=None):
        """The answer's body: validated against walk-in-response, or the error envelope
        with `code`."""
        answer = self.staff.request("POST", "/api/v1/attendees", body)
        if status >= 400:
            return self.assert_error(answer, status, code)
        return self.assert_json(answer, status, "walk-in-response")

    def test_walk_in_added_audited_and_checked_in(self):
        request = {"id": "W-300", "family_name": "Ó Súilleabháin", "given_name": "Aoife",
                   "email": "aoife@example.org", "country": None}
        validate(request, "walk-in-request")
        body = self.add(request, 201)
        self.assertEqual(body["attendee"], {**request, "country": None})
        self.assertEqual(body["badge_url"], "/api/v1/badges?ids=W-300")
        detail = self.get("/api/v1/attendees/W-300", "attendee")
        self.assertEqual(detail["attendee"]["family_name"], "Ó Súilleabháin")
        self.assertEqual(detail["checkins"], [])
        self.assertIn("W-300", {a["id"] for a in
                                self.get("/api/v1/attendees?q=osuilleabhain", "attendees")
                                ["attendees"]})

        status, _, sheet = self.staff.request("GET", body["badge_url"])
        self.assertEqual(status, 200, sheet)
        self.assertEqual(re.findall(r'data-attendee-id="([^"]*)"', sheet), ["W-300"])
        self.assertIn("Aoife", sheet)
        checkin = self.badge_checkin("W-300")
        self.assertEqual(checkin["status"], "checked_in")
        self.assertFalse(checkin["checkin"].get("not_in_roster", False))

        [entry] = [e for e in audit_entries(self.staff) if e["action"] == "walk_in"]
        self.assertEqual(entry["actor"], STAFF)
        self.assertEqual(entry["details"], {"attendee_id": "W-300",
                                            "family_name": "Ó Súilleabháin",
                                            "given_name": "Aoife"})

    def test_walk_in_refusals(self):
        audited = [e for e in audit_entries(self.staff) if e["action"] == "walk_in"]
        taken = self.add({"id": "a001", "family_name": "X", "given_name": "Y"}, 409,
                         "attendee_exists")
        self.assertEqual(taken["error"]["details"], {"existing_id": "A001"})
        cases = [({"family_name": "No", "given_name": "Number"}, "id", "missing_field"),
                 ({"id": "W 1", "family_name": "F", "given_name": "G"}, "id", "invalid_id"),
                 ({"id": "W1", "given_name": "G"}, "family_name", "missing_field"),
                 ({"id": "W1", "family_name": "F", "given_name": 3}, "given_name", "wrong_type"),
                 ({"id": "W1", "family_name": "F", "given_name": "G", "email": "nope"}, "email",
                  "invalid_email")]
        for body, field, problem in cases:
            with self.subTest(body=body):
                with self.assertRaises(Exception):
                    validate(body, "walk-in-request")  # the schema refuses them too
                refused = self.add(body, 422, "invalid_attendee")
                self.assertEqual(refused["error"]["details"], {"field": field, "problem": problem})
        self.add([], 400, "malformed_request")
        self.add({"id": "W2", "family_name": "F" * 5000, "given_name": "G"}, 413,
                 "payload_too_large")
        for attendee_id in ("W1", "W2", "a001"):
            self.assert_error(self.staff.request("GET", f"/api/v1/attendees/{attendee_id}"),
                              404, "not_found")
        self.assertEqual([e for e in audit_entries(self.staff) if e["action"] == "walk_in"],
                         audited)


class NoOpenSessionTest(StaffServerTest):
    FAKE_TIME = BETWEEN  # 12:45: d1-am closed at 12:30, d1-pm opens at 13:00

    def test_manual_checkin_between_sessions(self):
        body = self.assert_error(self.staff.request("POST", "/api/v1/attendees/A001/checkins",
                                                    {}), 409, "no_open_session")
        self.assertIn("message", body["error"])
        self.assert_error(self.staff.request("POST", "/api/v1/attendees/A001/checkins"),
                          409, "no_open_session")
        # d1-pm has not started; d1-am is over: it takes a reason, which is audited, and the
        # check-in is never late.
        self.assert_error(self.staff.request("POST", "/api/v1/attendees/A001/checkins",
                                             {"session_id": "d1-pm"}), 409, "session_not_started")
        for body in ({"session_id": "d1-am"}, {"session_id": "d1-am", "reason": "  "}):
            with self.subTest(body=body):
                self.assert_error(self.staff.request("POST", "/api/v1/attendees/A001/checkins",
                                                     body), 422, "reason_required")
        answer = self.manual_checkin("A001", {"session_id": "d1-am",
                                              "reason": "attended, badge left at the hotel"})
        self.assertEqual(answer["checkin"]["session_id"], "d1-am")
        self.assertFalse(answer["checkin"]["late"])
        audit = self.get("/api/v1/audit", "audit")["entries"]
        [entry] = [e for e in audit if e["action"] == "manual_checkin"]
        self.assertEqual(entry["details"]["reason"], "attended, badge left at the hotel")


class VoidTest(StaffServerTest):
    FAKE_TIME = LATE_MORNING  # 10:00: d1-am open, check-ins are late

    def test_void_refusals(self):
        target = self.manual_checkin("A003", {"session_id": "d1-am"})["checkin"]["id"]
        path = f"/api/v1/checkins/{target}/void"
        for body in ({}, {"reason": ""}, {"reason": "   \t"}, {"reason": 5},
                     {"reason": None}, {"reason": "x" * 501}, {"why": "no reason key"}):
            with self.subTest(body=str(body)[:40]):
                self.assert_error(self.staff.request("POST", path, body), 400,
                                  "malformed_request")
        self.assert_error(self.staff.request("POST", path), 400, "malformed_request")
        self.assert_error(self.staff.request("POST", path, raw=b"{",
                                             headers={"Content-Type": "application/json"}),
                          400, "malformed_request")
        self.assert_error(self.void(str(uuid.uuid4()), "no such check-in"), 404, "not_found")
        detail = self.get("/api/v1/attendees/A003", "attendee")
        [entry] = [c for c in detail["checkins"] if c["id"] == target]
        self.assertFalse(entry["voided"])

    def test_void_flow_counts_and_audit(self):
        present0, late0 = self.summary_counts()
        badge = self.badge_checkin("A001")["checkin"]
        self.assertTrue(badge["late"])
        self.assertEqual(self.summary_counts(), (present0 + 1, late0 + 1))
        manual = self.manual_checkin("A002")["checkin"]
        self.assertEqual(manual["source"], "manual")
        self.assertTrue(manual["late"])  # in its window and 90 min after the start
        self.assertEqual(self.summary_counts(), (present0 + 2, late0 + 2))

        reason = "Checked in the wrong person"
        status, _, voided = self.void(manual["id"], reason)
        self.assertEqual(status, 200, voided)
        validate(voided, "void-response")
        self.assertEqual(voided["checkin"]["id"], manual["id"])
        self.assertTrue(voided["checkin"]["voided"])
        self.assertEqual(voided["checkin"]["void_reason"], reason)
        self.assertEqual(self.summary_counts(), (present0 + 1, late0 + 1))
        self.assert_error(self.void(manual["id"], "again"), 409, "already_voided")
        self.assertEqual(self.summary_counts(), (present0 + 1, late0 + 1))
        listing = self.get("/api/v1/attendees?q=A002", "attendees")
        self.assertEqual(listing["attendees"][0]["checkins"], {})

        badge_reason = "badge lent to a colleague"
        status, _, body = self.void(badge["id"], badge_reason)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.summary_counts(), (present0, late0))
        # After a void the attendee can check in again.
        again = self.badge_checkin("A001", status=201)
        self.assertEqual(again["status"], "checked_in")
        self.assertNotEqual(again["checkin"]["id"], badge["id"])
        self.assertEqual(self.summary_counts(), (present0 + 1, late0 + 1))
        history = self.get("/api/v1/attendees/A001", "attendee")["checkins"]
        self.assertEqual({(c["id"], c["voided"], c["void_reason"]) for c in history},
                         {(badge["id"], True, badge_reason), (again["checkin"]["id"], False, "")})

        entries = audit_entries(self.staff)
        seqs = [e["seq"] for e in entries]
        self.assertEqual(seqs, sorted(seqs, reverse=True))
        self.assertEqual(len(set(seqs)), len(seqs))

        def index(action, **details):
            for i, e in enumerate(entries):
                if e["action"] == action and all(e["details"].get(k) == v
                                                 for k, v in details.items()):
                    return i
            self.fail(f"no {action} {details} in the audit: {entries}")

        login = index("login")
        checkin = index("manual_checkin", checkin_id=manual["id"], attendee_id="A002")
        void_manual = index("void", checkin_id=manual["id"], reason=reason)
        void_badge = index("void", checkin_id=badge["id"], reason=badge_reason)
        self.assertLess(void_badge, void_manual)
        self.assertLess(void_manual, checkin)
        self.assertLess(checkin, login)
        for i in (login, checkin, void_manual, void_badge):
            self.assertEqual(entries[i]["actor"], STAFF, entries[i])
        self.assertEqual(entries[-1]["action"], "staff_add")

        # Paging: ?limit=N gives the newest N, ?before=SEQ the ones older than SEQ.
        status, _, page = self.staff.request("GET", "/api/v1/audit?limit=2")
        self.assertEqual(status, 200, page)
        validate(page, "audit")
        self.assertEqual(page["entries"], entries[:2])
        status, _, older = self.staff.request("GET", f"/api/v1/audit?before={entries[1]['seq']}")
        self.assertEqual(status, 200, older)
        validate(older, "audit")
        self.assertEqual(older["entries"], entries[2:])
        self.assert_error(self.staff.request("GET", "/api/v1/audit?limit=many"), 400,
                          "malformed_request")


class CloseModuleTest(StaffServerTest):
    @classmethod
    def prepare(cls):
        # A device with the same key and a later roster: B777's badge verifies here but B777
        # is not in this roster.
        cls.late = DataDir(key_from=cls.data)
        cls.late.import_roster([("B777", "Late", "Registrant", "IT")])

    @classmethod
    def cleanup_extra(cls):
        if getattr(cls, "late", None):
            cls.late.cleanup()

    def test_completions_and_close(self):
        self.badge_checkin("A001")  # d1-am, 3.5 h: 3.0 credits (half-day cap)
        stranger = self.server.checkin(self.late.credential("B777"))
        self.assertEqual(stranger[0], 201, stranger)
        self.assertTrue(stranger[2]["checkin"]["not_in_roster"])

        detail = self.get("/api/v1/attendees/B777", "attendee")
        self.assertEqual(detail["attendee"], {"id": "B777", "not_in_roster": True})
        self.assertEqual(detail["completion"]["cme_credits"], 3.0)

        preview = self.get("/api/v1/completions", "completions")
        self.assertFalse(preview["closed"])
        self.assertIsNone(preview["closed_at"])
        records = {r["attendee_id"]: r for r in preview["records"]}
        self.assertEqual(len(records), len(preview["records"]))
        self.assertEqual(set(records), {"A001", "A002", "A003", "B777"})
        self.assertEqual(records["A001"]["cme_credits"], 3.0)
        self.assertEqual(records["A001"]["attended_session_ids"], ["d1-am"])
        self.assertEqual(records["A002"]["cme_credits"], 0)
        self.assertTrue(records["B777"]["not_in_roster"])
        self.assertFalse(records["A001"]["not_in_roster"])

        closed = self.assert_json(self.staff.request("POST", "/api/v1/module/close"), 200,
                                  "module-close-response")
        self.assertTrue(closed["closed"])
        self.assertEqual(closed["records_written"], len(ROSTER) + 1)
        self.assert_error(self.staff.request("POST", "/api/v1/module/close"), 409,
                          "module_closed")

        final = self.get("/api/v1/completions", "completions")
        self.assertTrue(final["closed"])
        self.assertTrue(final["closed_at"].startswith("2026-11-23T08:4"), final["closed_at"])
        records = {r["attendee_id"]: r for r in final["records"]}
        self.assertEqual(set(records), {"A001", "A002", "A003", "B777"})
        self.assertEqual(records["A001"]["cme_credits"], 3.0)
        self.assertFalse(records["A001"]["attendance_complete"])
        self.assertEqual(records["A003"]["cme_credits"], 0)
        for r in records.values():
            self.assertEqual(r["closed_at"], final["closed_at"])
            self.assertEqual(r["module_id"], "ecnr-2026-2-m3")
        self.assertTrue(self.get("/api/v1/summary", "summary")["module_closed"])
        [entry] = [e for e in audit_entries(self.staff) if e["action"] == "close_module"]
        self.assertEqual(entry["actor"], STAFF)
        self.assertEqual(entry["details"].get("completion_records"), len(ROSTER) + 1)


class ClockTest(StaffServerTest):
    TRUSTED = None  # the device decides (NTP), no test hook

    def test_set_clock(self):
        for body in ({"time": "1999-12-31T23:59:59Z"}, {"time": "2100-01-01T00:00:00Z"},
                     {"time": "yesterday"}, {"time": 1764000000}, {}):
            with self.subTest(body=body):
                self.assert_error(self.staff.request("PUT", "/api/v1/clock", body), 400,
                                  "malformed_request")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        request = {"time": now.astimezone().isoformat()}
        validate(request, "clock-request")
        answer = self.assert_json(self.staff.request("PUT", "/api/v1/clock", request), 200,
                                  "clock-response")
        self.assertTrue(answer["trusted"])
        self.assertEqual(answer["source"], "staff")
        device_time = datetime.datetime.fromisoformat(answer["time"])
        self.assertLess(abs((device_time - now).total_seconds()), 60, answer)
        # The offset is from the (fake) system clock, which started at IN_MORNING.
        fake_start = datetime.datetime.fromisoformat(IN_MORNING)
        self.assertLess(abs(answer["offset_s"] - (now - fake_start).total_seconds()), 120, answer)
        self.assertEqual((answer["held"], answer["held_filed"]), (0, 0))

        status, _, health = self.server.request("GET", "/healthz")
        self.assertEqual(status, 200, health)
        validate(health, "healthz")
        self.assertTrue(health["clock_trusted"])
        health_time = datetime.datetime.fromisoformat(health["time"].replace("Z", "+00:00"))
        self.assertLess(abs((health_time - now).total_seconds()), 60, health)
        summary = self.get("/api/v1/summary", "summary")
        self.assertEqual(summary["clock"]["source"], "staff")
        self.assertTrue(summary["clock"]["trusted"])

        changes = [e for e in audit_entries(self.staff) if e["action"] == "set_clock"]
        self.assertEqual(len(changes), 1, changes)  # the refused requests left no entry
        self.assertEqual(changes[0]["actor"], STAFF)
        self.assertTrue(changes[0]["details"]["from"].startswith("2026-11-23T08:4"), changes)
        to = datetime.datetime.fromisoformat(changes[0]["details"]["to"])
        self.assertEqual(to, now)


class SyncTest(StaffServerTest):
    def test_sync_status_and_metrics(self):
        self.badge_checkin("A001")
        manual = self.manual_checkin("A002")["checkin"]
        status, _, body = self.void(manual["id"], "duplicate")
        self.assertEqual(status, 200, body)
        events = 2 + 1  # two check-ins and a void

        sync = self.get("/api/v1/sync", "sync-status")
        self.assertFalse(sync["configured"])
        self.assertEqual(sync["pending"], events)
        self.assertEqual(sync["last_seq"], events)
        self.assertEqual(sync["acked_through"], 0)
        self.assertTrue(sync["oldest_pending_at"].startswith("2026-11-23T08:4"), sync)
        self.assertEqual(self.get("/api/v1/summary", "summary")["sync"]["pending"], events)
        self.assert_error(self.staff.request("POST", "/api/v1/sync"), 409,
                          "sync_not_configured")

        status, headers, text = self.staff.request("GET", "/metrics")
        self.assertEqual(status, 200, text)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)
        self.assertIn("version=0.0.4", headers.get("content-type", ""))
        lines = text.splitlines()
        self.assertIn("# TYPE course_kiosk_checkins_total counter", lines)
        self.assertIn("course_kiosk_checkins_total 2", lines)  # voided ones included
        self.assertIn(f"course_kiosk_sync_pending_events {events}", lines)
        self.assertIn('course_kiosk_session_present{session="d1-am"} 1', lines)
        # The HTTP workers: this request is served by one of them.
        value = {line.split(" ")[0]: float(line.split(" ")[1]) for line in lines
                 if line and not line.startswith("#")}
        self.assertGreaterEqual(value["course_kiosk_http_busy_threads"], 1)
        self.assertGreaterEqual(value["course_kiosk_http_threads"],
                                value["course_kiosk_http_busy_threads"])
        self.assertGreaterEqual(value["course_kiosk_http_peak_threads"],
                                value["course_kiosk_http_threads"])
        self.assertEqual(value["course_kiosk_http_queued_connections"], 0)
        self.assertEqual(value["course_kiosk_http_worker_refusals_total"], 0)
        self.assertEqual(value["course_kiosk_http_busy_refusals_total"], 0)
        self.assertEqual(value["course_kiosk_http_ready_connections"], 0)
        self.assertGreaterEqual(value["course_kiosk_http_waiting_connections"], 0)
        # The process figures, as every Prometheus client exports them; no -1 anywhere.
        self.assertGreater(value["process_resident_memory_bytes"], 1 << 20)
        self.assertGreater(value["process_open_fds"], 3)
        self.assertLess(abs(value["process_start_time_seconds"] - time.time()), 3600)
        self.assertNotIn("course_kiosk_sync_last_success_age_seconds", value)  # never synced
        self.assertTrue(all(v >= 0 for v in value.values()), value)
        for line in lines:
            if line and not line.startswith("#"):
                self.assertRegex(line, r'^[a-z_]+(\{[a-z_]+="[^"]*"\})? -?[0-9.e+]+$')


def promtool():
    """Prometheus' own checker (scripts/dev puts it on the PATH from Debian's package)."""
    return os.environ.get("PROMTOOL") or shutil.which("promtool")


class ScrapeTest(StaffAssertions, unittest.TestCase):
    """A Prometheus server scrapes /metrics with the bearer token of metrics.token_file."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ck-scrape-")
        self.token = secrets.token_hex(24)
        token_file = os.path.join(self.tmp, "metrics.token")
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.token + "\n")
        self.data = DataDir(extra_config={"metrics": {"token_file": token_file}})
        self.data.import_roster(ROSTER)
        self.server = Server(self.data)

    def tearDown(self):
        self.server.stop()
        self.data.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def scrape(self, authorization=None):
        headers = {"Authorization": authorization} if authorization is not None else {}
        return self.server.request("GET", "/metrics", headers=headers)

    def test_the_token_opens_metrics_and_nothing_else(self):
        status, _, text = self.scrape(f"Bearer {self.token}")
        self.assertEqual(status, 200, text)
        self.assertIn("# TYPE course_kiosk_checkins_total counter", text)
        self.assertIn("# TYPE process_resident_memory_bytes gauge", text)
        for wrong in (None, "", "Bearer", f"Bearer {self.token[:-1]}", f"Bearer {self.token}x",
                      f"bearer {self.token}", f"Basic {self.token}", self.token):
            with self.subTest(authorization=wrong):
                self.assert_error(self.scrape(wrong), 401, "unauthenticated", api=False)
        # The token is for /metrics only: no other staff route takes it.
        for path in ("/api/v1/summary", "/api/v1/attendees", "/api/v1/export?format=json"):
            with self.subTest(path=path):
                self.assert_error(self.server.request(
                    "GET", path, headers={"Authorization": f"Bearer {self.token}"}), 401,
                    "unauthenticated")

    def test_promtool_accepts_the_exposition(self):
        tool = promtool()
        if tool is None:
            if os.environ.get("CI"):
                self.fail("promtool is missing: run bash scripts/dev test")
            self.skipTest("promtool is not installed (bash scripts/dev test installs it)")
        self.server.checkin(self.data.credential("A001"))
        status, _, text = self.scrape(f"Bearer {self.token}")
        self.assertEqual(status, 200, text)
        checked = subprocess.run([tool, "check", "metrics"], input=text, text=True,
                                 capture_output=True, timeout=60)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)


if __name__ == "__main__":
    unittest.main()
