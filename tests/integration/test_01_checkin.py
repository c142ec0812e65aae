"""POST /api/v1/checkins against the real server: every outcome of SPEC section 5."""
import concurrent.futures
import json
import socket
import unittest

from kiosk import (BETWEEN, IN_MORNING, LATE_MORNING, MODULE, ROSTER, DataDir, Server,
                   validate)

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
GENEROUS_LIMITS = {"limits": {"checkin_burst_per_client": 100000,
                              "checkins_per_client_per_s": 100000}}


class CheckinTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = DataDir(extra_config=GENEROUS_LIMITS)
        cls.data.import_roster(ROSTER)
        cls.server = Server(cls.data, fake_time=IN_MORNING)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.data.cleanup()

    def assert_error(self, answer, http_status, code):
        status, headers, body = answer
        self.assertEqual(status, http_status, body)
        validate(body, "error")
        self.assertEqual(body["error"]["code"], code)
        self.assertTrue(body["error"]["message"])
        self.assertIn("no-store", headers.get("cache-control", ""))
        return body

    def test_healthz_and_module(self):
        status, _, body = self.server.request("GET", "/healthz")
        self.assertEqual(status, 200)
        validate(body, "healthz")
        self.assertEqual(body["module_id"], "ecnr-2026-2-m3")
        self.assertTrue(body["clock_trusted"])
        self.assertTrue(body["time"].startswith("2026-11-23T08:4"), body["time"])
        status, _, module = self.server.request("GET", "/api/v1/module")
        self.assertEqual(status, 200)
        validate(module, "module")
        self.assertEqual(module["title"], "Vascular Diseases")
        self.assertEqual(module["open_session"]["id"], "d1-am")
        self.assertEqual(module["next_session"]["id"], "d1-pm")

    def test_checkin_then_already_checked_in(self):
        credential = self.data.credential("A001")
        status, _, first = self.server.checkin(credential)
        self.assertEqual(status, 201, first)
        validate(first, "checkin-response")
        self.assertEqual(first["status"], "checked_in")
        self.assertEqual(first["attendee"]["display_name"], "Anna K.")
        self.assertEqual(first["session"]["id"], "d1-am")
        self.assertEqual(first["checkin"]["source"], "badge")
        self.assertFalse(first["checkin"]["late"])
        self.assertFalse(first["checkin"]["not_in_roster"])
        status, _, again = self.server.checkin(credential)
        self.assertEqual(status, 200, again)
        validate(again, "checkin-response")
        self.assertEqual(again["status"], "already_checked_in")
        self.assertEqual(again["checkin"]["id"], first["checkin"]["id"])
        self.assertEqual(again["checkin"]["at"], first["checkin"]["at"])

    def test_scanner_whitespace_is_not_an_error(self):
        credential = self.data.credential("A002")
        status, _, body = self.server.checkin("  " + credential + "\r\n")
        self.assertIn(status, (200, 201), body)
        self.assertEqual(body["checkin"]["attendee_id"], "A002")

    def test_lower_case_is_the_same_badge(self):
        # A scanner set to lower case, or Caps Lock on the kiosk: base32 has one alphabet
        # whatever the case, and the signature decides.
        credential = self.data.credential("A003")
        status, _, first = self.server.checkin(credential.lower() + "\r\n")
        self.assertIn(status, (200, 201), first)
        validate(first, "checkin-response")
        self.assertEqual(first["checkin"]["attendee_id"], "A003")
        mixed = "".join(c.lower() if i % 2 else c for i, c in enumerate(credential))
        status, _, again = self.server.checkin(mixed)
        self.assertEqual(status, 200, again)
        self.assertEqual(again["status"], "already_checked_in")
        self.assertEqual(again["checkin"]["id"], first["checkin"]["id"])
        tampered = credential.lower()
        i = len(tampered) // 2
        tampered = tampered[:i] + ("b" if tampered[i] == "a" else "a") + tampered[i + 1:]
        self.assert_error(self.server.checkin(tampered), 422, "invalid_credential")

    def test_every_tampered_position_is_refused(self):
        credential = self.data.credential("A003")
        for i, ch in enumerate(credential):
            other = BASE32[(BASE32.index(ch) + 1) % 32]
            tampered = credential[:i] + other + credential[i + 1:]
            with self.subTest(position=i):
                self.assert_error(self.server.checkin(tampered), 422, "invalid_credential")
        for garbage in ["HELLO", "x" * 1024, credential.lower() + "a", credential + "A",
                        credential[:-1], "é" * 10]:
            with self.subTest(garbage=garbage[:20]):
                self.assert_error(self.server.checkin(garbage), 422, "invalid_credential")

    def test_malformed_bodies(self):
        cases = [
            b"{", b"not json", b"[]", b"null", b'"text"', b'{"credential": 5}',
            b'{"credential": null}', b'{"credential": ["A"]}', b'{"credential": ""}',
            b'{}', b'{"credential": "AAAA", "extra": 1}', b"\xff\xfe",
            json.dumps({"credential": "A" * 1025}).encode(),
        ]
        for raw in cases:
            with self.subTest(body=raw[:30]):
                self.assert_error(
                    self.server.request("POST", "/api/v1/checkins", raw=raw,
                                        headers={"Content-Type": "application/json"}),
                    400, "malformed_request")

    def test_oversize_body_with_content_length(self):
        raw = json.dumps({"credential": "A" * 40000}).encode()
        self.assert_error(self.server.request("POST", "/api/v1/checkins", raw=raw,
                                              headers={"Content-Type": "application/json"}),
                          413, "payload_too_large")

    def chunked_post(self, body, chunk_size):
        """Sends `body` with Transfer-Encoding: chunked; returns (status, parsed JSON)."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            head = ("POST /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            sock.sendall(head.encode())
            try:
                for i in range(0, len(body), chunk_size):
                    chunk = body[i:i + chunk_size]
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before the whole body is sent
            response = b""
            while True:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                response += data
                if b"\r\n\r\n" in response:
                    header, _, rest = response.partition(b"\r\n\r\n")
                    length = [int(line.split(b":")[1]) for line in header.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")]
                    if length and len(rest) >= length[0]:
                        break
        header, _, rest = response.partition(b"\r\n\r\n")
        status = int(header.split(b" ")[1])
        length = [int(line.split(b":")[1]) for line in header.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")][0]
        return status, json.loads(rest[:length])

    def test_oversize_chunked_body(self):
        body = json.dumps({"credential": "A" * 200000}).encode()
        status, answer = self.chunked_post(body, 4096)
        self.assertEqual(status, 413, answer)
        validate(answer, "error")
        self.assertEqual(answer["error"]["code"], "payload_too_large")
        # The server is still serving.
        self.assertEqual(self.server.request("GET", "/healthz")[0], 200)

    def test_endless_chunked_body_is_cut_off(self):
        # Far past the limit the server stops reading; the client still gets its 413 first.
        body = json.dumps({"credential": "A" * (3 << 20)}).encode()
        status, answer = self.chunked_post(body, 65536)
        self.assertEqual(status, 413, answer)
        self.assertEqual(answer["error"]["code"], "payload_too_large")
        self.assertEqual(self.server.request("GET", "/healthz")[0], 200)

    def test_small_chunked_body_is_accepted(self):
        credential = self.data.credential("A001")
        status, answer = self.chunked_post(json.dumps({"credential": credential}).encode(), 7)
        self.assertIn(status, (200, 201), answer)
        self.assertEqual(answer["checkin"]["attendee_id"], "A001")

    def test_unknown_path_has_the_envelope(self):
        self.assert_error(self.server.request("GET", "/api/v1/nothing-here"), 404, "not_found")


class OutcomeTest(unittest.TestCase):
    """Outcomes that need their own device, clock or second key holder."""

    def setUp(self):
        self.data = DataDir(extra_config=GENEROUS_LIMITS)
        self.data.import_roster(ROSTER)
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.data.cleanup()

    def serve(self, data=None, **kwargs):
        server = Server(data or self.data, **kwargs)
        self.servers.append(server)
        return server

    def test_late_checkin_is_flagged(self):
        server = self.serve(fake_time=LATE_MORNING)
        status, _, body = server.checkin(self.data.credential("A001"))
        self.assertEqual(status, 201, body)
        self.assertTrue(body["checkin"]["late"])
        self.assertEqual(body["checkin"]["local_time"], "10:00")

    def test_no_open_session_says_when_the_next_opens(self):
        server = self.serve(fake_time=BETWEEN)
        status, _, body = server.checkin(self.data.credential("A001"))
        self.assertEqual(status, 409, body)
        validate(body, "error")
        self.assertEqual(body["error"]["code"], "no_open_session")
        self.assertIn("13:00", body["error"]["message"])
        self.assertIn("Monday afternoon", body["error"]["message"])

    def test_untrusted_clock_holds_or_refuses(self):
        # Held (202, durable, no session yet): test_07_clock files it once the clock is trusted.
        server = self.serve(trusted=False)
        status, _, body = server.checkin(self.data.credential("A001"))
        self.assertEqual(status, 202, body)
        validate(body, "checkin-response")
        self.assertEqual(body["status"], "held")
        self.assertNotIn("checkin", body)
        strict = DataDir(extra_config={"clock": {"refuse_checkins_when_untrusted": True}})
        try:
            strict.import_roster(ROSTER)
            server = self.serve(strict, trusted=False)
            status, _, body = server.checkin(strict.credential("A001"))
            self.assertEqual(status, 503, body)
            validate(body, "error")
            self.assertEqual(body["error"]["code"], "clock_not_trusted")
        finally:
            strict.cleanup()

    def test_wrong_module_and_not_in_roster(self):
        # Another device holding the same key: one serving module 4, one with a later roster.
        other_module = dict(MODULE, number=4)
        other = DataDir(module=other_module, key_from=self.data)
        late_roster = DataDir(key_from=self.data)
        try:
            other.import_roster(ROSTER)
            late_roster.import_roster([("B777", "Late", "Registrant", "IT")])
            server = self.serve()
            status, _, body = server.checkin(other.credential("A001"))
            self.assertEqual(status, 422, body)
            self.assertEqual(body["error"]["code"], "wrong_module")
            status, _, body = server.checkin(late_roster.credential("B777"))
            self.assertEqual(status, 201, body)
            validate(body, "checkin-response")
            self.assertTrue(body["checkin"]["not_in_roster"])
            self.assertNotIn("Late", body["attendee"]["display_name"])
        finally:
            other.cleanup()
            late_roster.cleanup()

    def test_reissued_badge_revokes_the_old_one(self):
        old = self.data.credential("A002")
        out = self.data.credential("A002")  # same issue: same text
        self.assertEqual(old, out)
        server = self.serve()
        from kiosk import run
        new = run("credential", "--data", self.data.data, "--reissue", "A002").stdout
        new = new.strip().split("\t")[1]
        self.assertNotEqual(new, old)
        status, _, body = server.checkin(old)
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["code"], "revoked")
        status, _, body = server.checkin(new)
        self.assertEqual(status, 201, body)

    def test_rate_limited(self):
        limited = DataDir(extra_config={"limits": {"checkin_burst_per_client": 3,
                                                   "checkins_per_client_per_s": 0.1}})
        try:
            server = self.serve(limited)
            answers = [server.checkin("GARBAGE")[0] for _ in range(3)]
            self.assertEqual(answers[0], 422)
            status, headers, body = server.checkin("GARBAGE")
            self.assertEqual(status, 429, body)
            validate(body, "error")
            self.assertEqual(body["error"]["code"], "rate_limited")
            self.assertIn("retry-after", headers)
        finally:
            limited.cleanup()

    def test_restart_after_kill_keeps_every_checkin(self):
        server = self.serve()
        first = {}
        for attendee_id, *_ in ROSTER:
            status, _, body = server.checkin(self.data.credential(attendee_id))
            self.assertEqual(status, 201, body)
            first[attendee_id] = body["checkin"]["id"]
        server.kill()
        server = self.serve()
        for attendee_id, *_ in ROSTER:
            status, _, body = server.checkin(self.data.credential(attendee_id))
            self.assertEqual(status, 200, body)
            self.assertEqual(body["status"], "already_checked_in")
            self.assertEqual(body["checkin"]["id"], first[attendee_id])

    def test_eight_concurrent_checkins_record_exactly_one(self):
        server = self.serve()
        credential = self.data.credential("A003")
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: server.checkin(credential), range(8)))
        statuses = sorted(a[0] for a in answers)
        self.assertEqual(statuses, [200] * 7 + [201], answers)
        ids = {a[2]["checkin"]["id"] for a in answers}
        self.assertEqual(len(ids), 1)
        server.kill()
        server = self.serve()
        status, _, body = server.checkin(credential)
        self.assertEqual((status, body["checkin"]["id"]), (200, ids.pop()))


if __name__ == "__main__":
    unittest.main()
