"""course-registry serve speaking the sync protocol (docs/sync.md sections 2-3): the
protocol tests the fake registry passes (test_fake_registry.EventsProtocol), against the
real registry on its own PostgreSQL cluster, plus what only the real one has: a token
per device, and the events table."""
import unittest

from course_registry import CourseRegistry
from kiosk import MODULE_ID, validate
from pg_cluster import PgCluster
from test_fake_registry import DEVICE, EventsProtocol, batch, event_id, post_events


class CourseRegistryEventsTest(EventsProtocol, unittest.TestCase):
    """A PostgreSQL cluster per class; a fresh database and registry per test."""

    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().start()
        cls.serial = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def setUp(self):
        type(self).serial += 1
        self.dbname = f"events{self.serial}"
        self.pg.create_database(self.dbname)
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


if __name__ == "__main__":
    unittest.main()
