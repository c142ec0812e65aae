"""course-registry serve speaking the sync protocol (docs/sync.md sections 2-3): the
protocol tests the fake registry passes (test_fake_registry.EventsProtocol), against the
real registry on its own PostgreSQL cluster, plus what only the real one has: a token
per device, and the events table."""
import gzip
import json
import os
import tempfile
import threading
import unittest

from course_registry import CourseRegistry, run
from kiosk import MODULE_ID, validate
from pg_cluster import PgTestCase
from test_fake_registry import (DEVICE, EventsProtocol, batch, checkin, event_id, get_roster,
                                post_events, request)


class RegistryCase(PgTestCase):
    """A PostgreSQL cluster per class; a fresh database and registry per test."""

    def setUp(self):
        self.new_database("events")
        self.reg = CourseRegistry(self.pg, self.dbname).start()

    def tearDown(self):
        self.reg.stop()
        self.assertFalse(self.reg.killed, "course-registry serve outlived SIGTERM: "
                                          + self.reg.stderr_text)
        self.assertEqual(self.reg.returncode, 0,
                         "course-registry serve after SIGTERM: " + self.reg.stderr_text)

    def assertErrorEnvelope(self, body, code):
        validate(body, "error")
        self.assertEqual(body["error"]["code"], code)


class CourseRegistryEventsTest(EventsProtocol, RegistryCase):
    def test_a_token_acts_for_its_own_device_only(self):
        other_token = self.reg.token_for("another-device")
        status, _, body = post_events(self.reg, batch(1, 1), token=other_token)
        self.assertEqual(status, 403)
        self.assertErrorEnvelope(body, "device_not_allowed")
        status, _, body = post_events(self.reg, batch(1, 1, device="other"), device="other",
                                      token=self.reg.token_for(DEVICE))
        self.assertEqual(status, 403)
        self.assertErrorEnvelope(body, "device_not_allowed")
        # The token comes before the body: a bad body with another device's token is a 403.
        self.assertEqual(post_events(self.reg, raw=b"{nope", token=other_token,
                                     headers={"Content-Type": "application/json"})[0], 403)
        self.assertEqual((self.reg.acked_through(DEVICE), self.reg.acked_through("other")),
                         (0, 0))
        # Each token does work for its own device.
        status, _, body = post_events(self.reg, batch(1, 1, device="another-device"),
                                      device="another-device")
        self.assertEqual((status, body), (200, {"acked_through": 1}))

    def test_each_event_is_a_row_with_its_members_in_columns(self):
        self.assertEqual(post_events(self.reg, batch(1, 2, future_field=[1]))[0], 200)
        rows = self.pg.sql(self.dbname,
                           "SELECT seq || '|' || id || '|' || type || '|' || "
                           "(at = '2026-11-23T07:41:07Z') || '|' || module_id || '|' || "
                           "attendee_id || '|' || (received_at IS NOT NULL) || '|' || "
                           "(body->'future_field')::text FROM events "
                           f"WHERE device_id = '{DEVICE}' ORDER BY seq")
        self.assertEqual(rows.splitlines(),
                         [f"{s}|{event_id(s)}|checkin|true|{MODULE_ID}|A{s:03d}|true|[1]"
                          for s in (1, 2)])


    def test_events_of_another_module_edition_are_refused(self):
        status, _, body = post_events(self.reg, batch(1, 2, module_id="ecnr-2026-2-m1"))
        self.assertEqual(status, 403)
        self.assertErrorEnvelope(body, "module_not_allowed")
        self.assertEqual(self.reg.acked_through(DEVICE), 0)

    def test_a_revoked_or_replaced_token_is_401(self):
        old = self.reg.token_for(DEVICE)
        self.assertEqual(post_events(self.reg, batch(1, 1))[0], 200)
        run("device", "revoke", "--db", self.reg.db, DEVICE)
        status, headers, body = post_events(self.reg, batch(2, 2), token=old)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])
        new = run("device", "add", "--db", self.reg.db, DEVICE, "--module",
                  MODULE_ID).stdout.strip()
        self.assertEqual(post_events(self.reg, batch(2, 2), token=old)[0], 401)
        self.assertEqual(post_events(self.reg, batch(2, 2), token=new)[2], {"acked_through": 2})

    def test_hostile_batches_answer_400_and_the_server_stays_up(self):
        long_id = batch(1, 1, session_id="d" * 100000)
        nul = batch(1, 1, reason_note="a\u0000b")
        impossible_day = batch(1, 1, at="2026-02-31T08:00:00+01:00")
        fractional_seq = batch(1, 1)
        fractional_seq["events"][0]["seq"] = 1.5
        huge_seq = batch(1, 1)
        huge_seq["first_seq"] = huge_seq["events"][0]["seq"] = 2 ** 70
        deep = {"device_id": DEVICE, "first_seq": 1, "events": [], "x": []}
        for _ in range(40):
            deep["x"] = [deep["x"]]
        too_many = batch(1, 1001)
        for name, body in {"a 100 kB session id": long_id, "U+0000": nul,
                           "31 February": impossible_day, "seq 1.5": fractional_seq,
                           "seq 2^70": huge_seq, "40 levels deep": deep,
                           "1001 events": too_many}.items():
            with self.subTest(name):
                status, _, answer = post_events(self.reg, body)
                self.assertEqual(status, 400, answer)
                self.assertErrorEnvelope(answer, "malformed_request")
        self.assertEqual(self.reg.acked_through(DEVICE), 0)
        self.assertEqual(post_events(self.reg, batch(1, 1000))[2], {"acked_through": 1000})

    def test_body_limits_as_sent_and_after_gzip(self):
        # 8 MiB as sent: refused from its Content-Length, before the body is read.
        status, _, body = post_events(self.reg, raw=b" " * (8 * 2 ** 20 + 1),
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(status, 413)
        self.assertErrorEnvelope(body, "payload_too_large")
        # A small gzip body that inflates past 32 MiB.
        bomb = gzip.compress(b'{"device_id": "' + b" " * (33 * 2 ** 20) + b'"}')
        self.assertLess(len(bomb), 2 ** 20)
        status, _, body = post_events(self.reg, raw=bomb,
                                      headers={"Content-Type": "application/json",
                                               "Content-Encoding": "gzip"})
        self.assertEqual(status, 413)
        self.assertErrorEnvelope(body, "payload_too_large")
        self.assertEqual(post_events(self.reg, batch(1, 1), gzip_body=True)[2],
                         {"acked_through": 1})


class CourseRegistryRosterTest(RegistryCase):
    def import_roster(self, rows):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(rows, f)
        try:
            run("roster", "import", "--db", self.reg.db, MODULE_ID, f.name)
        finally:
            os.unlink(f.name)

    def test_roster_snapshot_etag_and_304(self):
        self.import_roster([{"id": "A001", "family_name": "Kowalska", "given_name": "Anna",
                             "country": "PL"},
                            {"id": "A002", "family_name": "Müller", "given_name": "Lukas",
                             "email": "lukas@example.org"}])
        status, headers, body = get_roster(self.reg)
        self.assertEqual(status, 200)
        validate(body, "registry-roster")
        self.assertEqual([(a["id"], a["family_name"]) for a in body["attendees"]],
                         [("A001", "Kowalska"), ("A002", "Müller")])
        self.assertEqual((body["attendees"][0]["email"], body["attendees"][1]["email"]),
                         (None, "lukas@example.org"))
        etag = headers["etag"]
        self.assertRegex(etag, r'^"[0-9a-f]{20}"$')
        for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
            with self.subTest(inm):
                status, headers, body = get_roster(self.reg, headers={"If-None-Match": inm})
                self.assertEqual((status, body, headers["etag"]), (304, None, etag))
                self.assertIn("date", headers)
        self.assertEqual(get_roster(self.reg)[1]["etag"], etag)  # the same content
        self.import_roster([{"id": "A003", "family_name": "Dubois", "given_name": "Chloé"}])
        status, headers, body = get_roster(self.reg, headers={"If-None-Match": etag})
        self.assertEqual(status, 200)
        self.assertNotEqual(headers["etag"], etag)
        self.assertEqual(len(body["attendees"]), 3)
        status, headers, body = get_roster(self.reg, headers={"Accept-Encoding": "gzip"})
        self.assertEqual((status, headers["content-encoding"]), (200, "gzip"))

    def test_roster_access(self):
        status, headers, body = get_roster(self.reg, token=None)
        self.assertEqual(status, 401)
        self.assertErrorEnvelope(body, "unauthenticated")
        self.assertIn("Bearer", headers["www-authenticate"])
        status, _, body = get_roster(self.reg, module_id="ecnr-2030-1-m1")
        self.assertEqual(status, 404)
        self.assertErrorEnvelope(body, "unknown_module")
        module = dict(json.loads(self.pg.sql(self.dbname,
                                             "SELECT config::text FROM module_editions")))
        module["cycle"], module["number"] = "2026-2", 1
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(module, f)
        try:
            run("module", "add", "--db", self.reg.db, f.name)
        finally:
            os.unlink(f.name)
        status, _, body = get_roster(self.reg, module_id="ecnr-2026-2-m1")
        self.assertEqual(status, 403)
        self.assertErrorEnvelope(body, "module_not_allowed")


class CourseRegistryStoreTest(RegistryCase):
    def test_postgresql_restart_answers_503_then_recovers(self):
        self.assertEqual(post_events(self.reg, batch(1, 2))[0], 200)
        self.pg.stop_server()
        try:
            status, headers, body = post_events(self.reg, batch(3, 4))
            self.assertEqual(status, 503)
            self.assertErrorEnvelope(body, "storage_unavailable")
            self.assertIn("date", headers)
            self.assertEqual(request(self.reg, "GET", "/healthz", token=None)[0], 503)
        finally:
            self.pg.start_server()
        self.assertEqual(request(self.reg, "GET", "/healthz", token=None)[0], 200)
        self.assertEqual(post_events(self.reg, batch(3, 4))[2], {"acked_through": 4})
        self.assertEqual([e["seq"] for e in self.reg.events(DEVICE)], [1, 2, 3, 4])

    def test_two_processes_on_one_database_store_each_event_once(self):
        second = self.reg.another_process()
        try:
            # Every batch goes to both processes at once, as a device retrying through a
            # load balancer might; and two devices interleave.
            results = []

            def send(reg, body, device):
                results.append(post_events(reg, body, device=device)[0])

            for first in range(1, 200, 20):
                threads = [threading.Thread(target=send, args=(reg, batch(first, first + 19,
                                                                          device=d), d))
                           for reg in (self.reg, second) for d in (DEVICE, "other")]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(30)
            self.assertEqual(set(results), {200})
            for device in (DEVICE, "other"):
                self.assertEqual([e["seq"] for e in self.reg.events(device)],
                                 list(range(1, 201)))
            self.assertEqual(self.pg.sql(self.dbname,
                                         "SELECT count(*), count(DISTINCT id) FROM events"),
                             "400|400")
            # The same event id sent by two devices through two processes: one wins.
            shared = checkin(201, variant="-shared")
            a = {"device_id": DEVICE, "first_seq": 201, "events": [shared]}
            b = {"device_id": "other", "first_seq": 201, "events": [dict(shared)]}
            answers = []
            ta = threading.Thread(target=lambda: answers.append(post_events(self.reg, a)[0]))
            tb = threading.Thread(target=lambda: answers.append(
                post_events(second, b, device="other")[0]))
            ta.start(), tb.start(), ta.join(30), tb.join(30)
            self.assertEqual(sorted(answers), [200, 409])
        finally:
            second.stop()
        self.assertEqual(second.returncode, 0)

    def test_kill_9_loses_nothing_acknowledged(self):
        self.assertEqual(post_events(self.reg, batch(1, 50))[2], {"acked_through": 50})
        self.reg.kill()
        self.reg = self.reg.another_process()
        self.assertEqual(post_events(self.reg, {"device_id": DEVICE, "first_seq": 51,
                                                "events": []})[2], {"acked_through": 50})
        self.assertEqual(post_events(self.reg, batch(40, 60))[2], {"acked_through": 60})
        self.assertEqual(len(self.reg.events(DEVICE)), 60)


if __name__ == "__main__":
    unittest.main()
