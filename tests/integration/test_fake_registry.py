"""Self-test of the fake registry (fake_registry.py): the sync protocol as docs/sync.md
describes it, every injected fault, TLS verification, and the standalone process with
its control endpoints. Plain http.client/urllib on the client side; no course-kiosk
binary needed. Quick: a few seconds.

The protocol tests any registry must pass are in EventsProtocol, a mixin that
test_13_registry_protocol.py runs against course-registry too. The registry object they
use (self.reg) offers: url, port, token_for(device_id), events(device_id) (the stored
event objects in seq order), acked_through(device_id) and seed_events(device_id, events).
Everything else here (faults, rosters, received_batches, set_token, TLS, the standalone
process) is the fake's own."""
import gzip
import http.client
import json
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import uuid
from email.utils import parsedate_to_datetime

from fake_registry import FakeRegistry, ed25519_key_entry, generate_ed25519_key
from kiosk import validate

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "s3cret-token"
DEVICE = "lille-hall-a"
MODULE_ID = "ecnr-2026-2-m3"
_NS = uuid.UUID("6f1c1b8e-3c1e-4a55-9a0e-0b6c7d2e8f10")


def event_id(seq, device=DEVICE, variant=""):
    return str(uuid.uuid5(_NS, f"{device}/{seq}{variant}"))


def checkin(seq, device=DEVICE, variant="", **extra):
    e = {"seq": seq, "id": event_id(seq, device, variant), "type": "checkin",
         "at": "2026-11-23T08:41:07+01:00", "module_id": MODULE_ID,
         "attendee_id": f"A{seq:03d}", "session_id": "d1-am", "source": "badge",
         "late": False, "not_in_roster": False, "clock_untrusted": False}
    e.update(extra)
    return e


def batch(first, last, device=DEVICE, **extra):
    return {"device_id": device, "first_seq": first,
            "events": [checkin(s, device, **extra) for s in range(first, last + 1)]}


# "No token argument": the helpers then send reg.token_for(device). token=None sends none.
_REG_TOKEN = object()


def request(reg, method, path, body=None, token=_REG_TOKEN, headers=None, gzip_body=False,
            raw=None, context=None, timeout=5, url=None, device=DEVICE):
    """One request on a fresh connection: (status, lower-case headers, parsed body). The
    token is reg.token_for(device) unless one is given (None: no Authorization)."""
    if token is _REG_TOKEN:
        token = reg.token_for(device)
    base = urllib.parse.urlsplit(url or reg.url)
    if base.scheme == "https":
        conn = http.client.HTTPSConnection(base.hostname, base.port, timeout=timeout,
                                           context=context)
    else:
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=timeout)
    hdrs = {}
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    payload = raw
    if body is not None:
        payload = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
        if gzip_body:
            payload = gzip.compress(payload)
            hdrs["Content-Encoding"] = "gzip"
    hdrs.update(headers or {})
    try:
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    headers_out = {k.lower(): v for k, v in resp.getheaders()}
    if headers_out.get("content-encoding") == "gzip":
        data = gzip.decompress(data)
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = data
    return resp.status, headers_out, parsed


def post_events(reg, body=None, device=DEVICE, **kw):
    return request(reg, "POST", f"/api/v1/devices/{device}/events", body, device=device, **kw)


def get_roster(reg, module_id=MODULE_ID, **kw):
    return request(reg, "GET", f"/api/v1/modules/{module_id}/roster", **kw)


class Fake(FakeRegistry):
    """The fake with the registry interface EventsProtocol needs: its one token serves
    every device (set_token(..., devices=...) narrows that, see EventsTest)."""

    def token_for(self, device_id):
        return self.token


class RegistryCase(unittest.TestCase):
    """A fresh registry per test; checks that the fake itself raised nothing."""
    registry_args = {}

    def setUp(self):
        self.reg = Fake(token=TOKEN, **self.registry_args).start()

    def tearDown(self):
        errors = self.reg.server_errors
        self.reg.stop()
        self.assertEqual(errors, [], "exceptions inside the fake registry")
        self.assertEqual([t.name for t in threading.enumerate()
                          if t.name.startswith("fake-registry")], [],
                         "threads left running after stop()")

    def assertErrorEnvelope(self, body, code):
        validate(body, "error")
        self.assertEqual(body["error"]["code"], code)


class EventsProtocol:
    """POST /api/v1/devices/{id}/events (docs/sync.md sections 2-3) as every registry
    answers it. A mixin, not a TestCase, so that importing it elsewhere does not run it
    twice: the TestCase using it provides self.reg (the interface in the module
    docstring, with a token for DEVICE, "other", "other-device" and "another-device")
    and assertErrorEnvelope(body, code)."""

    def test_identity_and_gzip_batches_are_stored_in_order(self):
        status, headers, body = post_events(self.reg, batch(1, 3))
        self.assertEqual((status, body), (200, {"acked_through": 3}))
        validate(body, "sync-events-response")
        status, _, body = post_events(self.reg, batch(4, 6), gzip_body=True)
        self.assertEqual((status, body), (200, {"acked_through": 6}))
        self.assertEqual([e["seq"] for e in self.reg.events(DEVICE)], [1, 2, 3, 4, 5, 6])
        self.assertEqual(self.reg.events(DEVICE)[3], checkin(4))
        self.assertEqual(self.reg.acked_through(DEVICE), 6)
        self.assertEqual(self.reg.acked_through("other-device"), 0)

    def test_the_request_example_is_accepted(self):
        with open(os.path.join(HERE, "..", "data", "schema-examples",
                               "sync-events-request.valid.json"), encoding="utf-8") as f:
            example = json.load(f)
        # The example starts at seq 41: the registry must hold 1..40 first.
        self.reg.seed_events(example["device_id"],
                             [checkin(s, example["device_id"]) for s in range(1, 41)])
        status, _, body = post_events(self.reg, example, device=example["device_id"])
        self.assertEqual((status, body), (200, {"acked_through": example["events"][-1]["seq"]}))
        self.assertEqual(example["events"][-1]["seq"], 45)  # the check-out (presence mode)

    def test_every_answer_carries_a_date_header(self):
        answers = [post_events(self.reg, batch(1, 1)),          # 200
                   post_events(self.reg, batch(5, 5)),          # 409
                   post_events(self.reg, batch(2, 2), token="x"),  # 401
                   get_roster(self.reg),                        # 404 on the fake
                   request(self.reg, "GET", "/nowhere")]        # 404
        for status, headers, _ in answers:
            with self.subTest(status):
                when = parsedate_to_datetime(headers["date"])
                self.assertLess(abs(when.timestamp() - time.time()), 5)

    def test_resend_is_acknowledged_not_stored_twice(self):
        self.assertEqual(post_events(self.reg, batch(1, 3))[2], {"acked_through": 3})
        status, _, body = post_events(self.reg, batch(1, 3))
        self.assertEqual((status, body), (200, {"acked_through": 3}))
        status, _, body = post_events(self.reg, batch(2, 2))
        self.assertEqual((status, body), (200, {"acked_through": 3}))
        self.assertEqual(len(self.reg.events(DEVICE)), 3)

    def test_overlap_stores_only_the_new_events(self):
        post_events(self.reg, batch(1, 3))
        status, _, body = post_events(self.reg, batch(2, 5))
        self.assertEqual((status, body), (200, {"acked_through": 5}))
        self.assertEqual([e["seq"] for e in self.reg.events(DEVICE)], [1, 2, 3, 4, 5])

    def test_gap_answers_409_with_acked_through_and_stores_nothing(self):
        post_events(self.reg, batch(1, 2))
        status, _, body = post_events(self.reg, batch(4, 6))
        self.assertEqual(status, 409)
        validate(body, "sync-events-response")
        self.assertEqual(body["acked_through"], 2)
        self.assertEqual(body["error"]["code"], "gap")
        self.assertEqual(body["error"]["details"]["expected_seq"], 3)
        self.assertEqual(self.reg.acked_through(DEVICE), 2)
        # The device resends from acked_through + 1.
        self.assertEqual(post_events(self.reg, batch(3, 6))[2], {"acked_through": 6})
        # A new device's first batch must start at 1.
        status, _, body = post_events(self.reg, batch(2, 2, device="other"), device="other")
        self.assertEqual((status, body["acked_through"]), (409, 0))

    def test_a_different_event_under_a_stored_seq_is_a_conflict(self):
        post_events(self.reg, batch(1, 3))
        status, _, body = post_events(self.reg, batch(3, 4, variant="-clone"))
        self.assertEqual(status, 409)
        validate(body, "sync-events-response")
        self.assertEqual((body["acked_through"], body["error"]["code"]), (3, "seq_conflict"))
        self.assertEqual(body["error"]["details"]["seq"], 3)
        self.assertEqual(self.reg.acked_through(DEVICE), 3)  # all or nothing: 4 not stored
        self.assertEqual(self.reg.events(DEVICE)[2]["id"], event_id(3))

    def test_an_event_id_under_another_seq_or_device_is_a_conflict(self):
        post_events(self.reg, batch(1, 2))
        moved = batch(3, 3)
        moved["events"][0]["id"] = event_id(1)
        status, _, body = post_events(self.reg, moved)
        self.assertEqual((status, body["error"]["code"]), (409, "event_id_conflict"))
        other = {"device_id": "other", "first_seq": 1, "events": [checkin(1)]}
        status, _, body = post_events(self.reg, other, device="other")
        self.assertEqual((status, body["error"]["code"], body["acked_through"]),
                         (409, "event_id_conflict", 0))
        self.assertEqual(body["error"]["details"]["held_device_id"], DEVICE)

    def test_unknown_fields_are_accepted_and_kept(self):
        body = batch(1, 1, future_field={"x": 1})
        body["batch_note"] = "from a newer device"
        self.assertEqual(post_events(self.reg, body)[0], 200)
        self.assertEqual(self.reg.events(DEVICE)[0]["future_field"], {"x": 1})

    def test_every_event_type_is_accepted(self):
        events = [checkin(1),
                  checkin(2, source="manual", staff="Marie Laurent"),
                  {"seq": 3, "id": event_id(3), "type": "void", "at": "2026-11-23T09:00:00Z",
                   "module_id": MODULE_ID, "attendee_id": "A002", "session_id": "d1-am",
                   "checkin_id": event_id(2), "reason": "mistake", "staff": "Marie Laurent"},
                  {"seq": 4, "id": event_id(4), "type": "completion",
                   "at": "2026-11-27T18:00:00+01:00", "module_id": MODULE_ID,
                   "attendee_id": "A001", "sessions_attended": 1,
                   "attended_session_ids": ["d1-am"], "attendance_complete": False,
                   "cme_credits": 3.5, "not_in_roster": False}]
        body = {"device_id": DEVICE, "first_seq": 1, "events": events}
        validate(body, "sync-events-request")
        self.assertEqual(post_events(self.reg, body)[:3:2], (200, {"acked_through": 4}))
        self.assertEqual([e["type"] for e in self.reg.events(DEVICE)],
                         ["checkin", "checkin", "void", "completion"])

    def test_an_empty_batch_is_a_probe(self):
        post_events(self.reg, batch(1, 2))
        status, _, body = post_events(self.reg, {"device_id": DEVICE, "first_seq": 3,
                                                 "events": []})
        self.assertEqual((status, body), (200, {"acked_through": 2}))

    def test_a_missing_or_unknown_token_is_401(self):
        status, headers, body = post_events(self.reg, batch(1, 1), token=None)
        self.assertEqual(status, 401)
        self.assertErrorEnvelope(body, "unauthenticated")
        self.assertIn("Bearer", headers["www-authenticate"])
        status, headers, body = post_events(self.reg, batch(1, 1), token="wrong")
        self.assertEqual(status, 401)
        self.assertIn("invalid_token", headers["www-authenticate"])
        self.assertEqual(self.reg.acked_through(DEVICE), 0)

    def test_malformed_batches_answer_400_and_store_nothing(self):
        missing_source = batch(1, 1)
        del missing_source["events"][0]["source"]
        manual_without_staff = batch(1, 1, source="manual")
        bad_uuid = batch(1, 1, id="not-a-uuid")
        not_contiguous = batch(1, 3)
        del not_contiguous["events"][1]
        wrong_first = batch(1, 2)
        wrong_first["first_seq"] = 2
        duplicate_ids = batch(1, 2)
        duplicate_ids["events"][1]["id"] = duplicate_ids["events"][0]["id"]
        unknown_type = batch(1, 1, type="teleport")
        cases = {
            "not JSON": dict(raw=b"{nope", headers={"Content-Type": "application/json"}),
            "NaN": dict(raw=b'{"device_id": NaN}',
                        headers={"Content-Type": "application/json"}),
            "missing source": dict(body=missing_source),
            "manual check-in without staff": dict(body=manual_without_staff),
            "bad uuid": dict(body=bad_uuid),
            "not contiguous": dict(body=not_contiguous),
            "first_seq is not events[0].seq": dict(body=wrong_first),
            "duplicate ids": dict(body=duplicate_ids),
            "unknown type": dict(body=unknown_type),
            "device_id differs from the path": dict(body=batch(1, 1, device="other")),
            "bad gzip": dict(raw=b"\x1f\x8bnot really gzip",
                             headers={"Content-Type": "application/json",
                                      "Content-Encoding": "gzip"}),
            "truncated gzip": dict(raw=gzip.compress(json.dumps(batch(1, 1)).encode())[:-12],
                                   headers={"Content-Type": "application/json",
                                            "Content-Encoding": "gzip"}),
        }
        for name, kw in cases.items():
            with self.subTest(name):
                status, _, body = post_events(self.reg, **kw)
                self.assertEqual(status, 400, body)
                self.assertErrorEnvelope(body, "malformed_request")
        status, _, body = request(self.reg, "POST", "/api/v1/devices/Bad_Id/events",
                                  batch(1, 1))
        self.assertEqual(status, 400)
        status, _, body = post_events(self.reg, raw=json.dumps(batch(1, 1)).encode(),
                                      headers={"Content-Type": "application/json",
                                               "Content-Encoding": "br"})
        self.assertEqual(status, 415)
        self.assertErrorEnvelope(body, "unsupported_encoding")
        status, _, body = post_events(self.reg, raw=json.dumps(batch(1, 1)).encode(),
                                      headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 415)
        self.assertErrorEnvelope(body, "unsupported_media_type")
        status, _, body = request(self.reg, "GET", f"/api/v1/devices/{DEVICE}/events")
        self.assertEqual(status, 405)
        self.assertEqual(self.reg.acked_through(DEVICE), 0)
        # Authentication comes before the body: a bad body with a bad token is a 401.
        self.assertEqual(post_events(self.reg, raw=b"{nope", token="wrong",
                                     headers={"Content-Type": "application/json"})[0], 401)

    def test_chunked_and_keep_alive_requests(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.reg.port, timeout=5)
        try:
            for first in (1, 3):
                payload = json.dumps(batch(first, first + 1)).encode()
                conn.request("POST", f"/api/v1/devices/{DEVICE}/events",
                             body=iter([payload[:10], payload[10:]]), encode_chunked=True,
                             headers={"Authorization": "Bearer " + self.reg.token_for(DEVICE),
                                      "Content-Type": "application/json"})
                resp = conn.getresponse()
                self.assertEqual(json.loads(resp.read()), {"acked_through": first + 1})
        finally:
            conn.close()
        self.assertEqual(self.reg.acked_through(DEVICE), 4)


class EventsTest(EventsProtocol, RegistryCase):
    """EventsProtocol against the fake, and the fake's own side of the events endpoint."""

    def test_received_batches_record_encoding_and_sizes(self):
        post_events(self.reg, batch(1, 3))
        post_events(self.reg, batch(4, 6), gzip_body=True)
        plain, zipped = self.reg.received_batches
        self.assertEqual((plain["first_seq"], plain["count"], plain["gzip"]), (1, 3, False))
        self.assertEqual((zipped["first_seq"], zipped["count"], zipped["gzip"]), (4, 3, True))
        self.assertEqual(plain["wire_bytes"], plain["body_bytes"])
        self.assertEqual(zipped["wire_bytes"],
                         len(gzip.compress(json.dumps(batch(4, 6)).encode())))
        self.assertLess(zipped["wire_bytes"], zipped["body_bytes"])
        self.assertEqual(zipped["headers"]["content-encoding"], "gzip")

    def test_date_offset_shifts_the_date_header(self):
        self.reg.date_offset_s = -3 * 3600
        _, headers, _ = post_events(self.reg, batch(1, 1))
        offset = parsedate_to_datetime(headers["date"]).timestamp() - time.time()
        self.assertAlmostEqual(offset, -3 * 3600, delta=5)

    def test_authentication_and_device_scope(self):
        # The fake's single token, rotated and narrowed to some devices. (A registry with
        # a token per device: test_13_registry_protocol.)
        self.reg.set_token("new-token", devices=["another-device"])
        self.assertEqual(post_events(self.reg, batch(1, 1), token=TOKEN)[0], 401)  # the old one
        status, _, body = post_events(self.reg, batch(1, 1), token="new-token")
        self.assertEqual(status, 403)
        self.assertErrorEnvelope(body, "device_not_allowed")
        self.reg.set_token("new-token", devices=None)
        self.assertEqual(post_events(self.reg, batch(1, 1), token="new-token")[0], 200)
        self.assertEqual(self.reg.acked_through(DEVICE), 1)

    def test_seed_events_and_wait_for_acked(self):
        self.reg.seed_events(DEVICE, [checkin(s) for s in (1, 2)])
        with self.assertRaises(ValueError):
            self.reg.seed_events(DEVICE, [checkin(5)])  # a gap
        timer = threading.Timer(0.2, post_events, (self.reg, batch(3, 4)))
        timer.start()
        try:
            self.assertTrue(self.reg.wait_for_acked(DEVICE, 4, timeout=5))
        finally:
            timer.join(5)
        self.assertFalse(self.reg.wait_for_acked(DEVICE, 9, timeout=0.1))
        self.reg.reset()
        self.assertEqual((self.reg.acked_through(DEVICE), self.reg.received_batches), (0, []))


class RosterTest(RegistryCase):
    def roster(self, **extra):
        r = {"attendees": [{"id": "A001", "family_name": "Kowalska", "given_name": "Anna",
                            "country": "PL"},
                           {"id": "A002", "family_name": "Müller", "given_name": "Lukas",
                            "email": "lukas@example.org"}],
             "revoked": [{"attendee_id": "A002", "issue": 1}],
             "keys": [{"key_id": "2a385f98",
                       "public_key": "VyEtnjH2uEI3wy1nBTH1J7AoY9b//H5EvtDXVbRUNzY="}]}
        r.update(extra)
        return r

    def test_unknown_module_is_404(self):
        status, _, body = get_roster(self.reg)
        self.assertEqual(status, 404)
        self.assertErrorEnvelope(body, "unknown_module")

    def test_etag_and_304(self):
        etag = self.reg.set_roster(MODULE_ID, self.roster())
        status, headers, body = get_roster(self.reg)
        self.assertEqual(status, 200)
        validate(body, "registry-roster")
        self.assertEqual(body["module_id"], MODULE_ID)
        self.assertEqual(headers["etag"], etag)
        self.assertRegex(etag, r'^"[0-9a-f]+"$')
        for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
            with self.subTest(inm):
                status, headers, body = get_roster(self.reg, headers={"If-None-Match": inm})
                self.assertEqual((status, body, headers["etag"]), (304, None, etag))
                self.assertIn("date", headers)
        self.assertEqual(get_roster(self.reg, headers={"If-None-Match": '"old"'})[0], 200)
        # Same content, same ETag; changed content, new ETag.
        self.assertEqual(self.reg.set_roster(MODULE_ID, self.roster()), etag)
        new = self.reg.set_roster(MODULE_ID, self.roster(revoked=[]))
        self.assertNotEqual(new, etag)
        status, headers, body = get_roster(self.reg, headers={"If-None-Match": etag})
        self.assertEqual((status, headers["etag"], body["revoked"]), (200, new, []))
        self.assertEqual(self.reg.roster_request_count(MODULE_ID), 7)
        self.assertEqual(self.reg.roster_request_count(MODULE_ID, status=304), 4)
        self.assertEqual(self.reg.roster_requests()[1]["if_none_match"], etag)

    def test_token_and_gzip(self):
        self.reg.set_roster(MODULE_ID, self.roster())
        status, _, body = get_roster(self.reg, token=None)
        self.assertEqual(status, 401)
        self.assertErrorEnvelope(body, "unauthenticated")
        status, headers, body = get_roster(self.reg, headers={"Accept-Encoding": "gzip"})
        self.assertEqual((status, headers["content-encoding"]), (200, "gzip"))
        self.assertEqual(body["attendees"][1]["family_name"], "Müller")
        self.assertNotIn("content-encoding",
                         get_roster(self.reg, headers={"Accept-Encoding": "gzip;q=0"})[1])

    def test_set_roster_checks_the_schema(self):
        with self.assertRaises(ValueError):
            self.reg.set_roster(MODULE_ID, {"keys": [{"key_id": "XYZ", "public_key": "abc"}]})
        with self.assertRaises(ValueError):
            self.reg.set_roster(MODULE_ID, {"module_id": "ecnr-2026-2-m1"})
        self.reg.set_roster(MODULE_ID, {})  # all lists default to []
        self.assertEqual(get_roster(self.reg)[2],
                         {"module_id": MODULE_ID, "attendees": [], "revoked": [], "keys": []})

    def test_key_entry_from_a_generated_key(self):
        tmp = tempfile.mkdtemp(prefix="fake-registry-test-")
        try:
            pem = generate_ed25519_key(os.path.join(tmp, "signing-key.pem"))
            entry = ed25519_key_entry(pem)
            self.assertRegex(entry["key_id"], r"^[0-9a-f]{8}$")
            self.reg.set_roster(MODULE_ID, {"keys": [entry]})
            self.assertEqual(get_roster(self.reg)[2]["keys"], [entry])
            self.assertEqual(ed25519_key_entry(pem, key_id="00000001")["public_key"],
                             entry["public_key"])
        finally:
            shutil.rmtree(tmp)

    def test_the_roster_example_is_accepted(self):
        with open(os.path.join(HERE, "..", "data", "schema-examples",
                               "registry-roster.valid.json"), encoding="utf-8") as f:
            example = json.load(f)
        self.reg.set_roster(example["module_id"], example)
        self.assertEqual(get_roster(self.reg, example["module_id"])[2], example)


class FaultTest(RegistryCase):
    registry_args = {"slow_delay_s": 0.6}

    def test_http500_once_twice_and_until_cleared(self):
        self.reg.inject("http500")
        status, _, body = post_events(self.reg, batch(1, 1))
        self.assertEqual(status, 500)
        self.assertErrorEnvelope(body, "internal_error")
        self.assertEqual(post_events(self.reg, batch(1, 1))[0], 200)
        self.reg.inject("http500", times=2)
        self.assertEqual([post_events(self.reg, batch(2, 2))[0] for _ in range(3)],
                         [500, 500, 200])
        self.reg.inject("http500", times=None)
        self.assertEqual([post_events(self.reg, batch(3, 3))[0] for _ in range(4)], [500] * 4)
        self.reg.clear("http500")
        self.assertEqual(post_events(self.reg, batch(3, 3))[0], 200)
        self.assertEqual(self.reg.acked_through(DEVICE), 3)
        self.assertEqual([b["status"] for b in self.reg.received_batches],
                         [500, 200, 500, 500, 200, 500, 500, 500, 500, 200])

    def test_faults_queue_up_in_order(self):
        self.reg.inject("http500")
        self.reg.inject("http401")
        self.assertEqual([post_events(self.reg, batch(1, 1))[0] for _ in range(3)],
                         [500, 401, 200])
        self.assertEqual(self.reg.faults(), [])

    def test_http401(self):
        self.reg.inject("http401")
        status, headers, body = post_events(self.reg, batch(1, 1))
        self.assertEqual(status, 401)
        self.assertErrorEnvelope(body, "unauthenticated")
        self.assertEqual(self.reg.acked_through(DEVICE), 0)

    def test_gap409_answers_the_true_acked_through_without_storing(self):
        post_events(self.reg, batch(1, 2))
        self.reg.inject("gap409")
        status, _, body = post_events(self.reg, batch(3, 4))
        self.assertEqual((status, body["acked_through"], body["error"]["code"]), (409, 2, "gap"))
        validate(body, "sync-events-response")
        self.assertEqual(self.reg.acked_through(DEVICE), 2)

    def test_garbage_is_a_200_that_is_not_json(self):
        self.reg.inject("garbage")
        status, headers, body = post_events(self.reg, batch(1, 1))
        self.assertEqual((status, headers["content-type"]), (200, "application/json"))
        self.assertIsInstance(body, bytes)
        with self.assertRaises(ValueError):
            json.loads(body)
        self.assertEqual(self.reg.acked_through(DEVICE), 0)

    def test_truncated_answer_after_storing(self):
        self.reg.inject("truncated")
        with self.assertRaises(http.client.IncompleteRead):
            post_events(self.reg, batch(1, 2))
        self.assertEqual(self.reg.acked_through(DEVICE), 2)

    def test_drop_after_store_loses_the_acknowledgement(self):
        self.reg.inject("drop_after_store")
        with self.assertRaises(http.client.RemoteDisconnected):
            post_events(self.reg, batch(1, 2))
        self.assertEqual(self.reg.acked_through(DEVICE), 2)
        self.assertIsNone(self.reg.received_batches[0]["status"])
        # The device resends: acknowledged again, stored once.
        self.assertEqual(post_events(self.reg, batch(1, 2))[2], {"acked_through": 2})
        self.assertEqual(len(self.reg.events(DEVICE)), 2)

    def test_drop_stores_nothing(self):
        self.reg.inject("drop")
        with self.assertRaises(http.client.RemoteDisconnected):
            post_events(self.reg, batch(1, 2))
        self.assertEqual(self.reg.acked_through(DEVICE), 0)

    def test_slow_outlasts_the_client_timeout_then_answers(self):
        self.reg.inject("slow")
        started = time.monotonic()
        with self.assertRaises(socket.timeout):
            post_events(self.reg, batch(1, 1), timeout=0.2)
        self.assertLess(time.monotonic() - started, 0.5)
        # The registry goes on and stores the batch once its delay is over.
        self.assertTrue(self.reg.wait_for_acked(DEVICE, 1, timeout=5))

    def test_slow_sleep_is_interrupted_by_stop(self):
        reg = Fake(token=TOKEN, slow_delay_s=60).start()
        try:
            reg.inject("slow")
            outcome = []

            def client_thread():
                try:
                    outcome.append(post_events(reg, batch(1, 1), timeout=30))
                except (OSError, http.client.HTTPException) as e:
                    outcome.append(e)
            client = threading.Thread(target=client_thread)
            client.start()
            self.assertTrue(reg.wait_for(lambda r: r.received_batches or r.faults() == [], 5))
            time.sleep(0.1)
        finally:
            started = time.monotonic()
            reg.stop()
        self.assertLess(time.monotonic() - started, 2)
        client.join(5)
        self.assertFalse(client.is_alive())
        self.assertIsInstance(outcome[0], http.client.RemoteDisconnected)  # no answer
        self.assertEqual(reg.acked_through(DEVICE), 0)

    def test_roster_faults_leave_events_alone(self):
        self.reg.set_roster(MODULE_ID, {})
        self.reg.inject("http500", endpoint="roster")
        self.assertEqual(post_events(self.reg, batch(1, 1))[0], 200)
        self.assertEqual(get_roster(self.reg)[0], 500)
        self.assertEqual(get_roster(self.reg)[0], 200)
        self.reg.inject("garbage", times=2, endpoint="both")
        self.assertEqual(get_roster(self.reg)[0], 200)
        self.assertEqual(post_events(self.reg, batch(2, 2))[0], 200)
        self.assertEqual(self.reg.acked_through(DEVICE), 1)  # the garbage answer stored nothing
        self.reg.inject("truncated", endpoint="roster")
        with self.assertRaises(http.client.IncompleteRead):
            get_roster(self.reg)
        self.reg.inject("drop", endpoint="roster")
        with self.assertRaises(http.client.RemoteDisconnected):
            get_roster(self.reg)
        self.assertEqual([r["status"] for r in self.reg.roster_requests()],
                         [500, 200, 200, 200, None])

    def test_inject_rejects_what_cannot_work(self):
        for args, kw in ((("nonsense",), {}), (("down",), {}),
                         (("gap409",), {"endpoint": "roster"}),
                         (("drop_after_store",), {"endpoint": "both"}),
                         (("refuse",), {"times": 2}), (("http500",), {"times": 0}),
                         (("http500",), {"seconds": 1}), (("http500",), {"endpoint": "all"})):
            with self.subTest(args=args, kw=kw), self.assertRaises(ValueError):
                self.reg.inject(*args, **kw)

    def assertRefused(self, url=None):
        with self.assertRaises(ConnectionRefusedError):
            post_events(self.reg, batch(1, 1), url=url)

    def test_refuse_until_cleared_on_the_same_port(self):
        port = self.reg.port
        self.reg.inject("refuse")
        self.assertRefused()
        self.assertRefused()
        # The control port stays up and tells what is going on.
        status, _, state = request(self.reg, "GET", "/_control/state", url=self.reg.control_url)
        self.assertEqual((status, state["refusing"]), (200, True))
        self.reg.clear()
        self.assertEqual(self.reg.port, port)
        self.assertEqual(post_events(self.reg, batch(1, 1))[0], 200)

    def test_refuse_for_some_seconds(self):
        self.reg.inject("refuse", seconds=0.3)
        self.assertRefused()
        time.sleep(0.6)
        self.assertEqual(post_events(self.reg, batch(1, 1))[0], 200)

    def test_refuse_closes_idle_keep_alive_connections(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.reg.port, timeout=5)
        try:
            conn.request("GET", "/nowhere")
            conn.getresponse().read()
            self.reg.inject("refuse")
            time.sleep(0.05)
            with self.assertRaises((ConnectionError, http.client.HTTPException)):
                conn.request("GET", "/nowhere")
                conn.getresponse().read()
        finally:
            conn.close()

    def test_down_and_up(self):
        self.reg.down()
        self.assertRefused()
        self.reg.clear("http500")  # clearing a request fault does not bring it up
        self.assertRefused()
        self.reg.up()
        self.assertEqual(post_events(self.reg, batch(1, 1))[0], 200)
        self.reg.down()
        self.reg.clear()  # clear() with no argument does
        self.assertEqual(post_events(self.reg, batch(2, 2))[0], 200)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cert_dir = tempfile.mkdtemp(prefix="fake-registry-pki-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.cert_dir, ignore_errors=True)

    def start(self, **kw):
        reg = Fake(token=TOKEN, tls=True, cert_dir=self.cert_dir, **kw).start()
        self.addCleanup(reg.stop)
        return reg

    def test_verifies_with_the_test_ca(self):
        reg = self.start()
        self.assertTrue(reg.url.startswith("https://127.0.0.1:"))
        ctx = ssl.create_default_context(cafile=reg.ca_file)
        self.assertEqual(post_events(reg, batch(1, 1), context=ctx)[:3:2],
                         (200, {"acked_through": 1}))
        # The certificate names localhost too.
        status, _, _ = post_events(reg, batch(1, 1), context=ctx,
                                   url=f"https://localhost:{reg.port}")
        self.assertEqual(status, 200)
        # And urllib, the other client the tests use.
        reg.set_roster(MODULE_ID, {})
        with urllib.request.urlopen(urllib.request.Request(
                reg.url + f"/api/v1/modules/{MODULE_ID}/roster",
                headers={"Authorization": "Bearer " + TOKEN}), context=ctx, timeout=5) as r:
            self.assertEqual((r.status, json.loads(r.read())["module_id"]), (200, MODULE_ID))

    def test_fails_with_the_wrong_ca_and_the_system_store(self):
        reg = self.start()
        self.assertNotEqual(reg.wrong_ca_file, reg.ca_file)
        for ctx in (ssl.create_default_context(cafile=reg.wrong_ca_file),
                    ssl.create_default_context()):
            with self.subTest(ctx=ctx), self.assertRaises(ssl.SSLCertVerificationError):
                post_events(reg, batch(1, 1), context=ctx)
        self.assertEqual(reg.acked_through(DEVICE), 0)
        self.assertEqual(reg.server_errors, [])

    def test_wrong_host_certificate(self):
        reg = self.start(wrong_host=True)
        ctx = ssl.create_default_context(cafile=reg.ca_file)
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            post_events(reg, batch(1, 1), context=ctx)
        self.assertIn("mismatch", str(caught.exception))
        # The certificate chain itself is fine: only the name is wrong.
        ctx.check_hostname = False
        self.assertEqual(post_events(reg, batch(1, 1), context=ctx)[0], 200)
        # Switching back at run time.
        reg.serve_wrong_host(False)
        ctx = ssl.create_default_context(cafile=reg.ca_file)
        self.assertEqual(post_events(reg, batch(2, 2), context=ctx)[0], 200)

    def test_own_temp_cert_dir_is_removed_on_stop(self):
        reg = Fake(token=TOKEN, tls=True).start()
        try:
            self.assertTrue(os.path.exists(reg.ca_file))
        finally:
            reg.stop()
        self.assertFalse(os.path.exists(reg.cert_dir))


class StandaloneTest(unittest.TestCase):
    """`python3 fake_registry.py ...` driven through /_control/ from this process."""

    def spawn(self, *args):
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_registry.py"),
                                 "--port", "0", "--token", TOKEN, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Read standard output in a thread so that every wait has a timeout.
        out = queue.Queue()
        reader = threading.Thread(target=lambda: [out.put(line) for line in proc.stdout],
                                  daemon=True)
        reader.start()
        self.addCleanup(self.reap, proc, reader)
        lines = {}
        expected = 4 if "--tls" in args else 2
        deadline = time.monotonic() + 20
        while len(lines) < expected and time.monotonic() < deadline:
            try:
                words = out.get(timeout=max(0.0, deadline - time.monotonic())).split()
            except queue.Empty:
                break
            if words[:3] == ["fake-registry", "listening", "on"]:
                lines["url"] = words[3]
            elif words[:3] == ["fake-registry", "control", "on"]:
                lines["control"] = words[3]
            elif words[0] == "fake-registry":
                lines[words[1]] = words[2]  # ca_file, wrong_ca_file
        self.assertEqual(len(lines), expected, f"the fake registry did not start: {lines}")
        return proc, lines

    def reap(self, proc, reader):
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        reader.join(10)  # the pipe is at its end once the process is gone
        proc.stdout.close()
        proc.stderr.close()

    def control(self, lines, method, name, body=None):
        status, _, answer = request(None, method, "/_control/" + name, body, token=None,
                                    url=lines["control"])
        self.assertEqual(status, 200, answer)
        return answer

    def test_driven_over_http(self):
        cert_dir = tempfile.mkdtemp(prefix="fake-registry-pki-test-")
        self.addCleanup(shutil.rmtree, cert_dir, True)
        proc, lines = self.spawn("--tls", cert_dir)
        self.assertTrue(lines["url"].startswith("https://127.0.0.1:"))
        self.assertEqual(lines["ca_file"], os.path.join(cert_dir, "ca.pem"))
        ctx = ssl.create_default_context(cafile=lines["ca_file"])

        def post(first, last):
            return post_events(None, batch(first, last), token=TOKEN, url=lines["url"],
                               context=ctx)

        etag = self.control(lines, "PUT", f"rosters/{MODULE_ID}", {"attendees": []})["etag"]
        status, headers, _ = get_roster(None, token=TOKEN, url=lines["url"], context=ctx)
        self.assertEqual((status, headers["etag"]), (200, etag))
        self.control(lines, "POST", "inject", {"fault": "http500", "times": 1})
        self.assertEqual(post(1, 2)[0], 500)
        self.assertEqual(post(1, 2)[0], 200)
        self.assertEqual(self.control(lines, "GET", f"wait?device_id={DEVICE}&acked_through=2"
                                      "&timeout=2")["acked_through"], 2)
        answer = self.control(lines, "GET", f"events?device_id={DEVICE}")
        self.assertEqual([e["seq"] for e in answer["events"]], [1, 2])
        batches = self.control(lines, "GET", "batches")["batches"]
        self.assertEqual([b["status"] for b in batches], [500, 200])
        # Down: refused on the main port, the control port still answers.
        self.control(lines, "POST", "down")
        with self.assertRaises(ConnectionRefusedError):
            post(3, 3)
        self.assertTrue(self.control(lines, "GET", "state")["down"])
        self.control(lines, "POST", "up")
        self.assertEqual(post(3, 3)[2], {"acked_through": 3})
        self.control(lines, "POST", "config", {"token": "rotated"})
        self.assertEqual(post(4, 4)[0], 401)
        status, _, answer = request(None, "POST", "/_control/inject", {"fault": "bogus"},
                                    token=None, url=lines["control"])
        self.assertEqual(status, 400)
        state = self.control(lines, "GET", "state")
        self.assertEqual((state["devices"], state["server_errors"]),
                         ({DEVICE: {"acked_through": 3}}, 0))
        self.control(lines, "POST", "stop")
        self.assertEqual(proc.wait(10), 0)
        # The CA in CERTDIR is kept (and reused by the next process).
        self.assertTrue(os.path.exists(os.path.join(cert_dir, "ca.pem")))

    def test_sigterm_stops_it_cleanly(self):
        proc, lines = self.spawn()
        self.assertTrue(lines["url"].startswith("http://127.0.0.1:"))
        self.assertEqual(post_events(None, batch(1, 1), token=TOKEN, url=lines["url"])[0], 200)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)
        self.assertEqual(proc.stderr.read(), "")


if __name__ == "__main__":
    unittest.main()
