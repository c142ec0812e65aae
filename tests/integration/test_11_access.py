"""Who may do what (issue 7, access): expired staff sessions, password guessing slowed and
then locked, per-client limits on the public routes, what public answers reveal, and the
security headers of every answer. (test_04_staff walks every staff route without a
cookie, with a garbage or logged-out one, and with wrong CSRF tokens.)"""
import datetime
import http.client
import json
import re
import time
import unittest

from kiosk import (IN_MORNING, ROSTER, STAFF_COOKIE, DataDir, Server, add_staff, routes,
                   staff_login)

STAFF, PASSWORD = "desk", "correct horse battery"


def shifted(rfc3339, **delta):
    t = datetime.datetime.fromisoformat(rfc3339) + datetime.timedelta(**delta)
    return t.isoformat()


def concrete(pattern):
    """A path matching a route pattern (its one capture filled in)."""
    path = re.sub(r"\(\[0-9a-f-\]\{36\}\)", "0190d5a0-0000-7000-8000-000000000000", pattern)
    return re.sub(r"\([^)]*\)", "A001", path)


def request_from(address, port, method, path, body=None, headers=None):
    """One request from a given loopback address (each phone has its own)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                      source_address=(address, 0))
    try:
        hdrs = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=hdrs)
        res = conn.getresponse()
        data = res.read()
        parsed = json.loads(data) if "json" in res.getheader("Content-Type", "") else data
        return res.status, {k.lower(): v for k, v in res.getheaders()}, parsed
    finally:
        conn.close()


class AccessTest(unittest.TestCase):
    def setUp(self):
        self.data = DataDir(extra_config={"limits": {"checkin_burst_per_client": 3,
                                                     "checkins_per_client_per_s": 0.1}})
        self.addCleanup(self.data.cleanup)
        self.data.import_roster(ROSTER)
        add_staff(self.data, STAFF, PASSWORD)
        self.server = None

    def serve(self, fake_time=IN_MORNING):
        if self.server:
            self.server.stop()
        self.server = Server(self.data, fake_time=fake_time)
        self.addCleanup(self.server.stop)
        return self.server

    def login(self, password):
        return self.server.request("POST", "/api/v1/session",
                                   {"username": STAFF, "password": password})

    def test_an_expired_session_opens_no_staff_route(self):
        self.serve()
        staff = staff_login(self.server, STAFF, PASSWORD)
        self.assertEqual(staff.request("GET", "/api/v1/summary")[0], 200)
        # Twelve hours and a minute later (the session's life), same cookie and token.
        self.serve(shifted(IN_MORNING, hours=12, minutes=1))
        headers = {"Cookie": staff.cookie, "X-CSRF-Token": staff.csrf_token}
        staff_routes = [r for r in routes() if r["access"] == "staff"]
        self.assertGreaterEqual(len(staff_routes), 15)
        for r in staff_routes:
            path = concrete(r["pattern"])
            with self.subTest(method=r["method"], path=path):
                body = None if r["method"] == "GET" else {}
                status, _, answer = self.server.request(r["method"], path, body, headers=headers)
                self.assertEqual(status, 401, answer)
                if path.startswith("/api/"):
                    self.assertEqual(answer["error"]["code"], "unauthenticated")
        # A new login works, so it was the age of the session that refused it.
        self.assertEqual(staff_login(self.server, STAFF, PASSWORD).request(
            "GET", "/api/v1/summary")[0], 200)

    def test_public_routes_are_limited_per_client(self):
        self.serve()
        port = self.server.port

        def badge(address):
            return request_from(address, port, "POST", "/api/v1/checkins",
                                {"credential": "NOT-A-BADGE"})[0]

        # One client (127.0.0.2) exhausts its burst of 3 and is limited...
        statuses = [badge("127.0.0.2") for _ in range(5)]
        self.assertEqual(statuses[0], 422, statuses)
        self.assertEqual(statuses[-1], 429, statuses)
        # ...while another client is not, and checks in.
        status, _, body = request_from("127.0.0.3", port, "POST", "/api/v1/checkins",
                                       {"credential": self.data.credential("A001")})
        self.assertEqual(status, 201, body)

        # Phone identification: 5 tries per client, then limited; others unaffected.
        _, _, display = self.server.request("GET", "/api/v1/display")
        token = re.search(r"[?&]t=([^&]+)", display["token_url"]).group(1)

        def identify(address, attendee_id, family):
            return request_from(address, port, "POST", "/api/v1/phone/identify",
                                {"token": token, "attendee_id": attendee_id,
                                 "family_name": family})

        statuses = [identify("127.0.0.4", "Z999", "Nobody")[0] for _ in range(7)]
        self.assertEqual(statuses[0], 422, statuses)
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertEqual(identify("127.0.0.4", "A002", "Müller")[0], 429)
        status, _, body = identify("127.0.0.5", "A002", "Müller")
        self.assertEqual(status, 201, body)

    def test_public_answers_name_no_more_than_first_name_and_initial(self):
        self.serve()
        answers = [self.server.checkin(self.data.credential("A001")),
                   self.server.checkin(self.data.credential("A001"))]
        _, _, display = self.server.request("GET", "/api/v1/display")
        token = re.search(r"[?&]t=([^&]+)", display["token_url"]).group(1)
        answers.append(self.server.request("POST", "/api/v1/phone/identify",
                                           {"token": token, "credential":
                                            self.data.credential("A003")}))
        answers.append(self.server.request("GET", "/api/v1/display"))
        answers.append(self.server.request("GET", "/api/v1/module"))
        answers.append(self.server.request("GET", "/healthz"))
        shown = {"A001": "Anna K.", "A003": "Chloé D."}
        for status, _, body in answers:
            with self.subTest(body=body):
                self.assertLess(status, 300, body)
                text = json.dumps(body, ensure_ascii=False)
                for attendee_id, family, given, country in ROSTER:
                    self.assertNotIn(family, text)
                if isinstance(body, dict) and "attendee" in body:
                    self.assertIn(body["attendee"]["display_name"], shown.values())
                    self.assertEqual(set(body["attendee"]), {"display_name"})

    def test_security_headers_on_every_answer(self):
        self.serve()
        pages = ["/", "/staff", "/display", "/p", "/common.css", "/common.js", "/kiosk.js", "/phone.js",
                 "/staff.js", "/display.js", "/no-such-page"]
        for path in pages:
            with self.subTest(path=path):
                status, headers, _ = self.server.request("GET", path)
                self.assertEqual(headers.get("x-content-type-options"), "nosniff")
                self.assertEqual(headers.get("referrer-policy"), "no-referrer")
                if path == "/no-such-page":
                    self.assertEqual(status, 404)
                    continue
                self.assertEqual(status, 200, path)
                csp = headers.get("content-security-policy", "")
                self.assertIn("default-src 'self'", csp)
                self.assertIn("frame-ancestors 'none'", csp)
                self.assertNotIn("unsafe-inline", csp)
                self.assertEqual(headers.get("x-frame-options"), "DENY")
        staff = staff_login(self.server, STAFF, PASSWORD)
        for r in routes():
            path = concrete(r["pattern"])
            if not (path.startswith("/api/") or path in ("/healthz", "/metrics")):
                continue
            with self.subTest(method=r["method"], path=path):
                body = None if r["method"] == "GET" else {}
                if r["access"] == "staff":
                    status, headers, _ = staff.request(r["method"], path, body)
                else:
                    status, headers, _ = self.server.request(r["method"], path, body)
                self.assertIn("no-store", headers.get("cache-control", ""), (status, path))
                self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        # The staff cookie itself: HttpOnly, SameSite=Strict, never readable by scripts.
        cookie = staff.login_headers.get("set-cookie", "")
        self.assertTrue(cookie.startswith(STAFF_COOKIE + "="), cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)


if __name__ == "__main__":
    unittest.main()
