"""Hostile HTTP (issue 7, item 5): bad requests over raw sockets to the real server.

`CASES` is one table: oversize and endless heads, bad Content-Length and chunk sizes, bodies
sent where no route takes them, multipart, hostile JSON, path traversal on the static files,
abusive Range headers, bad methods and protocols, header injection. Each case goes on a
connection of its own and must be answered within ANSWER_S seconds (socket timeouts, no
sleeps): with the status the table names and, for 4xx/5xx, the error envelope; or, where
the table allows it, with the connection dropped. The server must be alive after each, and
no case may raise its peak memory by more than PEAK_GROWTH_KIB.

`SlowClientTest` then holds slow clients open (800 slowloris connections sending their heads
a byte at a time, a body sent a byte at a time, a chunked body past the limit sent slowly,
a client that never reads its answers) while real check-ins must still succeed, and checks
that every slowloris connection is cut at the server's head deadline (issue 14, item 11).

`AccountAttackTest` covers the staff accounts (issue 14, items 10, 12 and 13): wrong
passwords from rotating addresses never lock the owner out, unknown and known names are
answered alike, a password reset ends the account's sessions, and session reads racing
logouts never fail.

SECURITY.md, "HTTP parsing: cpp-httplib 0.11.4", says which case shows which weakness of the
HTTP library and what the server does about it. Cases commented "crashed" below killed the
server (SIGSEGV) before the guards in firmware/net/guarded_server.cpp and server.cpp."""
import collections
import http.client
import json
import select
import socket
import threading
import time
import unittest

from kiosk import ROSTER, STAFF_COOKIE, DataDir, Server, add_staff, run, staff_login, validate

ANSWER_S = 5  # every case is answered (or dropped) within this
HEAD_DEADLINE_S = 10  # HeadLimits::head_deadline: a request's head must arrive within this
# Slow connections held open at once: more than the server's 256 worker threads and its
# queue of 512 could hold (each held a thread before the event loop read the heads).
SLOWLORIS = 800
TICK_S = 0.25  # how often the slow clients send their next bytes
PEAK_GROWTH_KIB = 64 << 10  # no single case may raise the server's peak memory more than this

STAFF, PASSWORD = "maria", "correct horse battery"
ATTENDEES = ROSTER + [(f"H{i:03d}", f"Hostile-{i:03d}", "Test", "FR") for i in range(1, 21)]
LIMITS = {"limits": {"checkin_burst_per_client": 100000, "checkins_per_client_per_s": 100000}}


# --- Building raw requests ---------------------------------------------------------------

def head(request_line, *headers):
    lines = [request_line, b"Host: 127.0.0.1", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def get(path, *headers):
    return head(b"GET " + path + b" HTTP/1.1", *headers)


def post(path, body, *headers, method=b"POST", content_type=b"application/json"):
    return head(method + b" " + path + b" HTTP/1.1", b"Content-Type: " + content_type,
                b"Content-Length: %d" % len(body), *headers) + body


def with_length(length_text, body=b'{"credential": "AAAA"}', path=b"/api/v1/checkins", *extra):
    """A POST whose Content-Length header says `length_text`, whatever the body is."""
    return head(b"POST " + path + b" HTTP/1.1", b"Content-Type: application/json",
                b"Content-Length: " + length_text, *extra) + body


def chunked(path, raw_chunks, *headers, method=b"POST"):
    """`raw_chunks` is the body exactly as sent: chunk-size lines, data and the end."""
    return head(method + b" " + path + b" HTTP/1.1", b"Content-Type: application/json",
                b"Transfer-Encoding: chunked", *headers) + raw_chunks


def chunks_of(body, size):
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                   for i in range(0, len(body), size))
    return out + b"0\r\n\r\n"


def ranges(*specs):
    return b"Range: bytes=" + b",".join(specs)


def multipart(name_length):
    part = (b"--xyz\r\nContent-Disposition: form-data; name=\"" + b"a" * name_length +
            b"\"\r\n\r\nhello\r\n--xyz--\r\n")
    return post(b"/api/v1/checkins", part, content_type=b"multipart/form-data; boundary=xyz")


def staff_json(method, path, body, content_type=b"application/json"):
    """A staff request (session cookie and CSRF token of the test's login)."""
    return lambda t: post(path, body, *t.staff_headers(), method=method,
                          content_type=content_type)


# --- Reading one answer ------------------------------------------------------------------

class Answer:
    """One HTTP answer from raw bytes; `status` is None when the connection was dropped."""

    def __init__(self, raw, seconds):
        self.raw, self.seconds = raw, seconds
        while raw.startswith(b"HTTP/1.1 1") and b"\r\n\r\n" in raw:  # 100 Continue
            raw = raw.partition(b"\r\n\r\n")[2]
        self.status, self.headers, self.body = None, [], b""
        if b"\r\n\r\n" in raw:
            top, _, self.body = raw.partition(b"\r\n\r\n")
            lines = top.split(b"\r\n")
            self.status = int(lines[0].split(b" ")[1])
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                self.headers.append((name.strip().lower().decode("latin-1"),
                                     value.strip().decode("latin-1")))
            length = self.header("content-length")
            if length is not None:
                self.body = self.body[:int(length)]

    def header(self, name):
        return next((v for n, v in self.headers if n == name), None)

    def __repr__(self):
        return f"<{self.status} after {self.seconds:.2f}s: {self.raw[:300]!r}>"


def answer_complete(raw):
    while raw.startswith(b"HTTP/1.1 1") and raw.count(b"\r\n\r\n") >= 2:
        raw = raw.partition(b"\r\n\r\n")[2]
    top, sep, body = raw.partition(b"\r\n\r\n")
    if not sep or top.startswith(b"HTTP/1.1 1"):
        return False
    for line in top.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False  # no length: read until the server closes


def exchange(port, data, half_close=False, timeout=ANSWER_S):
    """Sends `data` on a new connection and reads one answer, all within `timeout`."""
    start = time.monotonic()
    deadline = start + timeout
    raw = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered or dropped before taking it all: read what came back
        except TimeoutError:
            raise AssertionError(f"the server took no more of the request for {timeout} s")
        while not answer_complete(raw):
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data_in = sock.recv(65536)
            except ConnectionResetError:
                break
            except TimeoutError:
                raise AssertionError(f"no answer within {timeout} s; got {raw[:200]!r}")
            if not data_in:
                break
            raw += data_in
    return Answer(raw, time.monotonic() - start)


# --- Extra checks on an answer -----------------------------------------------------------

def same_as_plain(path):
    """The Range header was ignored: 200, no Content-Range, the whole body as without it."""
    def check(test, answer):
        test.assertIsNone(answer.header("content-range"))
        test.assertEqual(answer.body, test.plain[path])
    return check


def whole_json(test, answer):
    """An API answer that was not cut by a Range: it parses, with no Content-Range."""
    test.assertIsNone(answer.header("content-range"))
    test.assertIsInstance(json.loads(answer.body), dict)


def nothing_injected(test, answer):
    for name, value in answer.headers:
        test.assertNotIn("evil", name + value, answer)
    test.assertNotIn("set-cookie", [n for n, _ in answer.headers])


def no_file_content(test, answer):
    test.assertNotIn(b"root:", answer.body)


def closes(test, answer):
    test.assertEqual(answer.header("connection"), "close")


# --- The table ---------------------------------------------------------------------------

Case = collections.namedtuple("Case", "name request status code drop_ok half_close check",
                              defaults=(None, False, False, None))

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = b"\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64"
TLS_HELLO = bytes.fromhex("160301020001000200fc0303") + bytes(range(256)) * 2
CHECKIN = b"/api/v1/checkins"
BIG_JSON = json.dumps({"credential": "A" * 200000}).encode()

# The code each of these statuses must carry when a case names none.
CODE_OF_STATUS = {408: "request_timeout", 413: "payload_too_large", 414: "uri_too_long",
                  415: "unsupported_media_type", 431: "headers_too_large"}

CASES = [
    # Heads: sizes and counts (HeadLimits in firmware/net/guarded_server.hpp).
    Case("header_value_20_KiB", get(b"/healthz", b"X-Big: " + b"a" * 20000), 431),
    Case("header_line_1_MiB_without_end", b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20),
         431, drop_ok=True),
    Case("20000_headers", get(b"/healthz", *[b"X-H%d: v" % i for i in range(20000)]), 431,
         drop_ok=True),
    Case("101_headers", get(b"/healthz", *[b"X-H%d: v" % i for i in range(100)]), 431),
    Case("100_headers_are_served", get(b"/healthz", *[b"X-H%d: v" % i for i in range(99)]), 200),
    Case("head_over_32_KiB_in_8_KB_lines",
         get(b"/healthz", *[b"X-H%d: " % i + b"v" * 8000 for i in range(5)]), 431),
    Case("cookie_of_4_KB_is_served", get(b"/healthz", b"Cookie: a=" + b"v" * 4000), 200),
    # Request lines and paths (route patterns are regexes that recurse per character).
    Case("request_line_100_KiB", get(b"/" + b"a" * 100000), 414),
    Case("request_line_10_MiB_without_end", b"GET /" + b"a" * (10 << 20), 414, drop_ok=True),
    Case("path_of_1000_chars", get(b"/" + b"a" * 1000), 414),  # crashed
    Case("asset_path_of_8000_chars", get(b"/" + b"a" * 8000 + b".css"), 414),  # crashed
    Case("attendee_path_of_300_chars", get(b"/api/v1/attendees/" + b"A" * 300), 414),
    Case("percent_encoded_path_of_1000_chars", get(b"/" + b"%61" * 1000), 414),  # crashed
    Case("query_of_5000_chars_is_served", get(b"/healthz?q=" + b"a" * 5000), 200),
    # Content-Length.
    Case("content_length_negative", with_length(b"-1"), 400, "malformed_request"),
    Case("content_length_huge", with_length(b"99999999999999999999999"), 413,
         "payload_too_large"),
    Case("content_length_2_pow_64", with_length(b"18446744073709551616"), 413),
    Case("content_length_2_pow_63", with_length(b"9223372036854775808"), 413),
    Case("content_length_garbage", with_length(b"abc"), 400, "malformed_request"),
    Case("content_length_hex", with_length(b"0x16"), 400),
    Case("content_length_with_plus", with_length(b"+22"), 400),
    Case("content_length_twice_equal", with_length(b"22", b'{"credential": "AAAA"}', CHECKIN,
                                                   b"Content-Length: 22"), 400),
    Case("content_length_twice_different", with_length(b"22", b'{"credential": "AAAA"}',
                                                       CHECKIN, b"Content-Length: 5"), 400),
    Case("content_length_and_chunked", with_length(b"22", b"0\r\n\r\n", CHECKIN,
                                                   b"Transfer-Encoding: chunked"), 400),
    Case("content_length_over_limit_body_never_sent", with_length(b"20000", b""), 413),
    Case("content_length_4_GiB_tiny_body", with_length(b"4294967296"), 413),
    Case("expect_100_continue_4_GiB", with_length(b"4294967296", b"", CHECKIN,
                                                  b"Expect: 100-continue"), 413),
    Case("content_length_longer_than_body", with_length(b"100"), 400, half_close=True),
    # Chunked bodies and chunk sizes (httplib parses sizes with strtoul).
    Case("chunked_past_the_body_limit", chunked(CHECKIN, chunks_of(BIG_JSON, 4096)), 413,
         "payload_too_large"),
    Case("chunked_to_a_path_without_route",
         chunked(b"/nothing", chunks_of(b"x" * (256 << 10), 8192)), 404, "not_found"),
    Case("chunk_size_minus_one", chunked(CHECKIN, b"-1\r\nabc\r\n0\r\n\r\n"), 400,
         half_close=True),
    Case("chunk_size_minus_two", chunked(CHECKIN, b"-2\r\nabc\r\n0\r\n\r\n"), 400,
         half_close=True),
    Case("chunk_size_overflows", chunked(CHECKIN, b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
         400, half_close=True),
    Case("chunk_size_2_pow_63_then_40_KiB",
         chunked(CHECKIN, b"8000000000000000\r\n" + b"A" * 40960), 413, half_close=True),
    Case("chunk_size_garbage", chunked(CHECKIN, b"zz\r\nabc\r\n0\r\n\r\n"), 400, half_close=True),
    Case("chunk_size_line_of_4_MiB", chunked(CHECKIN, b"0" * (4 << 20)), 400, drop_ok=True),
    Case("chunk_without_its_crlf", chunked(CHECKIN, b"5\r\nhelloXX0\r\n\r\n"), 400,
         half_close=True),
    Case("transfer_encoding_gzip", head(b"POST /api/v1/checkins HTTP/1.1",
                                        b"Transfer-Encoding: gzip") + b"abc", 400),
    Case("transfer_encoding_chunked_gzip", head(b"POST /api/v1/checkins HTTP/1.1",
                                                b"Transfer-Encoding: chunked, gzip") + b"0\r\n\r\n",
         400),
    Case("transfer_encoding_twice", chunked(CHECKIN, b"0\r\n\r\n", b"Transfer-Encoding: chunked"),
         400),
    # Multipart: httplib parses it with a regex per part header, whatever the handler.
    Case("multipart_form_data", multipart(10), 415, "unsupported_media_type"),  # was a 500
    Case("multipart_part_header_of_3000_chars", multipart(3000), 415),  # crashed
    # Bodies where no route takes one (httplib read them into memory without limit).
    Case("patch_with_a_body_until_close", head(b"PATCH /api/v1/checkins HTTP/1.1") +
         b"x" * (256 << 10), 404, "not_found", check=closes),
    Case("put_to_a_get_route", post(b"/healthz", b"{}", method=b"PUT"), 404),
    Case("delete_without_a_route", post(b"/api/v1/checkins", b"{}", method=b"DELETE"), 404),
    Case("post_to_a_page", post(b"/staff", b"x" * 1000), 404),
    Case("pri_method_over_http_1_1", head(b"PRI / HTTP/1.1") + b"x" * 1000, 404),
    Case("get_with_a_body_closes", get(b"/healthz", b"Content-Length: 18") + b"GET /x HTTP/1.1\r\n",
         200, check=closes),
    # JSON bodies.
    Case("json_invalid_utf8", post(CHECKIN, b'{"credential": "\xff\xfe"}'), 400,
         "malformed_request"),
    Case("json_lone_surrogate", post(CHECKIN, b'{"credential": "\\ud800"}'), 400),
    Case("json_nul_in_string", post(CHECKIN, b'{"credential": "A\\u0000B"}'), (400, 422)),
    Case("json_100000_nested_arrays", post(CHECKIN, b"[" * 100000), 413, "payload_too_large"),
    Case("json_16000_nested_arrays", post(CHECKIN, b"[" * 16000), 400),
    Case("json_nested_under_the_key",
         post(CHECKIN, b'{"credential": ' + b"[" * 8000 + b"]" * 8000 + b"}"), 400),
    Case("json_duplicate_keys", post(CHECKIN, b'{"credential": "A", "credential": "B"}'),
         (400, 422)),
    Case("json_1e999", post(CHECKIN, b'{"credential": 1e999}'), 400),
    Case("json_negative_number", post(CHECKIN, b'{"credential": -1}'), 400),
    Case("json_2_pow_64", post(CHECKIN, b'{"credential": 18446744073709551616}'), 400),
    Case("json_float", post(CHECKIN, b'{"credential": 1.5}'), 400),
    Case("json_wrong_types", post(CHECKIN, b'{"credential": {"a": [true, null]}}'), 400),
    Case("json_number_of_10000_digits", post(CHECKIN, b"1" * 10000), 400),
    Case("json_trailing_garbage", post(CHECKIN, b'{"credential": "A"} xyz'), 400),
    Case("login_with_wrong_types",
         post(b"/api/v1/session", b'{"username": 1e999, "password": [1]}'), 400),
    Case("phone_identify_nested_token",
         post(b"/api/v1/phone/identify", b'{"token": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
         (400, 403)),
    Case("staff_clock_set_to_1e999", staff_json(b"PUT", b"/api/v1/clock", b'{"time": 1e999}'),
         400),
    Case("staff_manual_checkin_session_2_pow_64",
         staff_json(b"POST", b"/api/v1/attendees/A001/checkins",
                    b'{"session_id": 18446744073709551616}'), 400),
    Case("staff_void_with_negative_reason",
         staff_json(b"POST", b"/api/v1/checkins/00000000-0000-4000-8000-000000000000/void",
                    b'{"reason": -1}'), 400),
    Case("staff_roster_of_200000_nested_arrays",
         staff_json(b"POST", b"/api/v1/roster", b"[" * 200000), 400),
    Case("staff_roster_of_4_MiB_nested_arrays",  # took 6 s and 330 MB of memory
         staff_json(b"POST", b"/api/v1/roster", b"[" * ((4 << 20) - 64)), 400,
         "malformed_request"),
    Case("staff_roster_csv_with_brackets_is_served",
         staff_json(b"POST", b"/api/v1/roster",
                    b"id,family_name,given_name\nB001,[[[" + b"[" * 100 + b",Bracket\n",
                    content_type=b"text/csv"), 200),
    # Path traversal on the static files.
    Case("dot_dot_etc_passwd", get(b"/../etc/passwd"), 404, "not_found", check=no_file_content),
    Case("encoded_dot_dot", get(b"/%2e%2e/%2e%2e/etc/passwd"), 404, check=no_file_content),
    Case("dot_dot_encoded_slash", get(b"/..%2f..%2fetc%2fpasswd"), 404, check=no_file_content),
    Case("asset_then_dot_dot", get(b"/common.css/../../etc/passwd"), 404),
    Case("encoded_nul_after_asset", get(b"/common.css%00.html"), 404),
    Case("encoded_nul_alone", get(b"/%00"), 404),
    Case("backslashes", get(b"/..\\..\\etc\\passwd"), 404),
    Case("encoded_backslashes", get(b"/%5c..%5c..%5cetc%5cpasswd"), 404),
    Case("hidden_file", get(b"/.common.css"), 404),
    Case("double_slash", get(b"//etc/passwd"), 404),
    Case("invalid_utf8_path_encoded", get(b"/%ff%fe.css"), 404),
    Case("invalid_utf8_path_raw", get(b"/\xff\xfe\xfd"), 404),
    Case("overlong_utf8_slashes", get(b"/%c0%af..%c0%afetc%c0%afpasswd"), 404),
    Case("absolute_uri_with_dot_dot", head(b"GET http://127.0.0.1/../../etc/passwd HTTP/1.1"),
         404, check=no_file_content),
    # Range: ignored everywhere (httplib's Range regex crashed on long values, and it
    # sliced or multiplied every answer, errors included).
    Case("range_1500_overlapping_on_an_asset", get(b"/common.css", ranges(*[b"0-"] * 1500)), 200,
         check=same_as_plain("/common.css")),  # crashed
    Case("range_250_overlapping_on_a_page", get(b"/staff", ranges(*[b"0-"] * 250)), 200,
         check=same_as_plain("/staff")),  # was a 3.7 MB answer to an 800-byte request
    Case("range_value_of_8000_digits", get(b"/healthz", b"Range: bytes=0-" + b"0" * 8000), 200,
         check=whole_json),  # crashed
    Case("range_on_the_api", get(b"/healthz", ranges(b"0-5")), 200, check=whole_json),
    Case("range_on_an_error_answer", get(b"/nothing", ranges(b"0-3")), 404, "not_found"),
    Case("range_on_a_post", post(CHECKIN, b'{"credential": "AAAA"}', ranges(b"0-1")), 422,
         "invalid_credential"),
    Case("range_negative", get(b"/staff", ranges(b"-5")), 200, check=same_as_plain("/staff")),
    Case("range_huge", get(b"/common.css", ranges(b"99999999999999999999-")), 200,
         check=same_as_plain("/common.css")),
    Case("range_inverted", get(b"/common.css", ranges(b"5-1")), 200,
         check=same_as_plain("/common.css")),
    Case("range_not_bytes", get(b"/common.css", b"Range: pages=1-2"), 200,
         check=same_as_plain("/common.css")),
    Case("range_twice_in_odd_case", get(b"/common.css", b"range: bytes=0-1", b"RANGE: bytes=2-3"),
         200, check=same_as_plain("/common.css")),
    # Methods and protocols.
    Case("unknown_method", head(b"FOO / HTTP/1.1"), 400, "malformed_request"),
    Case("lowercase_method", head(b"get / HTTP/1.1"), 400),
    Case("http_0_9", b"GET /\r\n\r\n", 400, drop_ok=True),
    Case("http_2_preface", H2_PREFACE, 400, drop_ok=True),
    Case("http_2_preface_and_settings", H2_PREFACE + H2_SETTINGS, 400, drop_ok=True),
    Case("http_version_9_9", head(b"GET / HTTP/9.9"), 400),
    Case("trace", head(b"TRACE / HTTP/1.1"), 400),
    Case("connect", head(b"CONNECT 127.0.0.1:443 HTTP/1.1"), 400),
    Case("tls_client_hello", TLS_HELLO, 400, drop_ok=True, half_close=True),
    Case("nul_bytes", b"\x00" * 100 + b"\r\n\r\n", 400, drop_ok=True),
    # Header injection: nothing a request carries becomes a header of the answer.
    Case("bare_cr_in_a_header_value", get(b"/healthz", b"X-A: a\rSet-Cookie: evil=1"),
         (200, 400), check=nothing_injected),
    Case("bare_lf_in_a_header_value", b"GET /healthz HTTP/1.1\r\nX-A: a\nSet-Cookie: evil=1\r\n\r\n",
         (200, 400), check=nothing_injected),
    Case("encoded_crlf_in_the_path", get(b"/nothing%0d%0aSet-Cookie:%20evil=1"), 404,
         check=nothing_injected),
    Case("encoded_crlf_in_a_header_value", get(b"/healthz", b"X-A: a%0d%0aSet-Cookie:%20evil=1"),
         200, check=nothing_injected),
    Case("encoded_crlf_in_the_query", get(b"/api/v1/export?format=csv%0d%0aSet-Cookie:%20evil=1"),
         401, "unauthenticated", check=nothing_injected),
    Case("encoded_crlf_in_a_cookie", get(b"/api/v1/session", b"Cookie: ck_staff=x%0d%0aX-Evil: 1"),
         401, check=nothing_injected),
    Case("folded_header_line", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n Set-Cookie: evil=1\r\n\r\n",
         400, "malformed_request", check=nothing_injected),
    Case("folded_header_line_with_a_tab", get(b"/healthz", b"X-A: a", b"\tb"), 400, "malformed_request"),
    # RFC 9112: whitespace before the colon, no Host or two of them in HTTP/1.1.
    Case("space_before_the_colon", get(b"/healthz", b"X-A : a"), 400, "malformed_request"),
    Case("space_before_the_host_colon", b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400,
         "malformed_request"),
    Case("no_host", b"GET /healthz HTTP/1.1\r\nX-A: a\r\n\r\n", 400, "malformed_request"),
    Case("two_hosts", get(b"/healthz", b"Host: 127.0.0.2"), 400, "malformed_request"),
    Case("no_host_in_http_1_0", b"GET /healthz HTTP/1.0\r\n\r\n", 200),
    Case("nul_in_a_header_value", get(b"/healthz", b"X-A: a\x00b"), (200, 400)),
    Case("header_without_colon", get(b"/healthz", b"NoColonHere"), 400, "malformed_request"),
    # Issue 14, item 9: staff routes are authorised from the head, before the body is read
    # (an upload announced and never sent is still answered at once).
    Case("roster_upload_4_MiB_without_session_body_never_sent",
         head(b"POST /api/v1/roster HTTP/1.1", b"Content-Type: text/csv",
              b"Content-Length: 4194304"), 401, "unauthenticated"),
    Case("roster_upload_with_forged_cookie_body_never_sent",
         head(b"POST /api/v1/roster HTTP/1.1", b"Content-Type: text/csv",
              b"Content-Length: 4194304", b"Cookie: ck_session=forged"), 401, "unauthenticated"),
    Case("roster_upload_chunked_without_session",
         chunked(b"/api/v1/roster", b"1000\r\n" + b"x" * 4096), 401, "unauthenticated",
         half_close=True),
]


class HostileTest(unittest.TestCase):
    """A server over a data directory with a roster, a staff account and credentials."""

    @classmethod
    def setUpClass(cls):
        cls.data = DataDir(extra_config=LIMITS)
        cls.data.import_roster(ATTENDEES)
        add_staff(cls.data, STAFF, PASSWORD)
        out = run("credential", "--data", cls.data.data).stdout
        cls.credentials = dict(line.split("\t") for line in out.strip().split("\n"))
        cls.server = Server(cls.data)
        cls.staff = staff_login(cls.server, STAFF, PASSWORD)
        cls.plain = {}
        for path in ("/common.css", "/staff"):
            answer = exchange(cls.server.port, get(path.encode()))
            assert answer.status == 200, answer
            cls.plain[path] = answer.body

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.data.cleanup()

    def staff_headers(self):
        return [b"Cookie: " + self.staff.cookie.encode(),
                b"X-CSRF-Token: " + self.staff.csrf_token.encode()]

    def peak_memory_kib(self):
        """The server's peak resident memory (VmHWM), or None where /proc does not say."""
        try:
            with open(f"/proc/{self.server.proc.pid}/status", encoding="ascii") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        except (OSError, StopIteration, ValueError):
            return None

    def assert_alive(self):
        self.assertIsNone(self.server.proc.poll(), "the server died")
        self.assertEqual(exchange(self.server.port, get(b"/healthz")).status, 200)

    def checkin(self, attendee_id):
        """A normal badge check-in on a fresh connection; must be recorded (201)."""
        answer = exchange(self.server.port,
                          post(CHECKIN, json.dumps({"credential":
                                                    self.credentials[attendee_id]}).encode()))
        self.assertEqual(answer.status, 201, answer)
        validate(json.loads(answer.body), "checkin-response")


class BadRequestTableTest(HostileTest):
    def test_every_case_is_answered_quickly_and_the_server_lives(self):
        self.assertGreaterEqual(len(CASES), 50)
        self.assertEqual(len({c.name for c in CASES}), len(CASES), "case names are unique")
        for case in CASES:
            with self.subTest(case.name):
                request = case.request(self) if callable(case.request) else case.request
                peak_before = self.peak_memory_kib()
                answer = exchange(self.server.port, request, half_close=case.half_close)
                self.assert_answer(case, answer)
                self.assert_alive()
                peak_after = self.peak_memory_kib()
                if peak_before and peak_after:
                    self.assertLess(peak_after - peak_before, PEAK_GROWTH_KIB,
                                    f"the server's peak memory grew to {peak_after} KiB")
        self.checkin("H001")

    def assert_answer(self, case, answer):
        if answer.status is None:
            self.assertTrue(case.drop_ok, f"dropped without an answer: {answer}")
            return
        wanted = case.status if isinstance(case.status, tuple) else (case.status,)
        self.assertIn(answer.status, wanted, answer)
        # Never exception text in a header (cpp-httplib 0.11.4's default "EXCEPTION_WHAT").
        self.assertNotIn("exception_what", [n for n, _ in answer.headers])
        if answer.status >= 400:
            self.assertTrue((answer.header("content-type") or "").startswith("application/json"),
                            answer)
            body = json.loads(answer.body)
            validate(body, "error")
            code = case.code or CODE_OF_STATUS.get(answer.status)
            if code:
                self.assertEqual(body["error"]["code"], code, body)
        if case.check:
            case.check(self, answer)


class SlowConnection:
    """A client that sends `rest` a few bytes per tick and records the server's answer."""

    def __init__(self, port, first, rest, per_tick, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(ANSWER_S)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(first)
        self.sock.setblocking(False)
        self.opened = time.monotonic()
        self.rest, self.per_tick = rest, per_tick
        self.raw, self.ended = b"", None  # `ended`: when the server answered or closed

    def send_some(self):
        if self.ended is None and self.rest:
            try:
                sent = self.sock.send(self.rest[:self.per_tick])
                self.rest = self.rest[sent:]
            except BlockingIOError:
                pass
            except OSError:
                self.ended = time.monotonic()

    def receive(self):
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self.raw += data
        if not data or answer_complete(self.raw):
            self.ended = time.monotonic()

    def answer(self):
        return Answer(self.raw, (self.ended or time.monotonic()) - self.opened)


class SlowClientTest(HostileTest):
    def test_checkins_succeed_while_slow_clients_hold_connections(self):
        port = self.server.port
        slowloris = [
            SlowConnection(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                           b"".join(b"X-Slow-%d: %d\r\n" % (j, i) for j in range(50)) + b"\r\n", 1)
            for i in range(SLOWLORIS)]
        # A body within the limit, a byte per tick: holds one thread (read timeout per byte).
        slow_body = SlowConnection(port, head(b"POST /api/v1/checkins HTTP/1.1",
                                              b"Content-Type: application/json",
                                              b"Content-Length: 16000"), b"x" * 16000, 1)
        # A chunked body far past the limit, 32 KiB per tick: cut off while in flight.
        big_body = SlowConnection(port, head(b"POST /api/v1/checkins HTTP/1.1",
                                             b"Content-Type: application/json",
                                             b"Transfer-Encoding: chunked"),
                                  chunks_of(b"A" * (3 << 20), 32768), 32768 + 10)
        # Never reads: 300 pipelined page requests into a 4 KiB receive buffer.
        never_reads = SlowConnection(port, get(b"/staff") * 300, b"", 0, rcvbuf=4096)
        watched = slowloris + [big_body]
        everyone = watched + [slow_body, never_reads]
        halfway = threading.Event()
        failure = []

        def attack():
            start = time.monotonic()
            try:
                tick = start
                while any(c.ended is None for c in watched):
                    if time.monotonic() - start > HEAD_DEADLINE_S + 4:
                        return
                    if time.monotonic() - start > HEAD_DEADLINE_S / 2:
                        halfway.set()
                    tick += TICK_S
                    waiting = {c.sock.fileno(): c for c in watched if c.ended is None}
                    poller = select.poll()  # select() stops at descriptor 1024
                    for fd in waiting:
                        poller.register(fd, select.POLLIN)
                    for fd, _ in poller.poll(max(0, tick - time.monotonic()) * 1000):
                        waiting[fd].receive()
                    for c in everyone:
                        c.send_some()
            except Exception as e:  # reported by the test thread
                failure.append(e)
            finally:
                halfway.set()

        attacker = threading.Thread(target=attack)
        attacker.start()
        try:
            with self.subTest("checkins_while_the_heads_trickle_in"):
                for attendee_id in ("H002", "H003", "H004"):
                    self.checkin(attendee_id)
            halfway.wait(timeout=HEAD_DEADLINE_S + 5)
            with self.subTest("checkins_halfway_through"):
                self.assertTrue(any(c.ended is None for c in slowloris), "the attack is over")
                for attendee_id in ("H005", "H006"):
                    self.checkin(attendee_id)
        finally:
            attacker.join(timeout=HEAD_DEADLINE_S + 10)
            for c in everyone:
                c.sock.close()
        self.assertFalse(attacker.is_alive())
        self.assertEqual(failure, [])
        with self.subTest("slowloris_connections_are_cut_at_the_head_deadline"):
            for i, c in enumerate(slowloris):
                answer = c.answer()
                self.assertIsNotNone(c.ended, f"slowloris {i} still open after {answer.seconds:.1f}s")
                self.assertLess(answer.seconds, HEAD_DEADLINE_S + 3, answer)
                if answer.status is not None:
                    self.assertEqual(answer.status, 408, answer)
                    body = json.loads(answer.body)
                    validate(body, "error")
                    self.assertEqual(body["error"]["code"], "request_timeout", body)
        with self.subTest("big_chunked_body_is_cut_off_in_flight"):
            answer = big_body.answer()
            self.assertEqual(answer.status, 413, answer)
            self.assertEqual(json.loads(answer.body)["error"]["code"], "payload_too_large")
        self.assert_alive()
        self.checkin("H007")


def request_from(port, address, method, path, body=None, headers=None):
    """One request from `address` (another 127.x client): (status, JSON, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_S * 4,
                                      source_address=(address, 0))
    try:
        conn.request(method, path, None if body is None else json.dumps(body),
                     {"Content-Type": "application/json", **(headers or {})})
        res = conn.getresponse()
        return res.status, json.loads(res.read()), dict(res.getheaders())
    finally:
        conn.close()


def login_from(port, address, username, password):
    return request_from(port, address, "POST", "/api/v1/session",
                        {"username": username, "password": password})


class AccountAttackTest(HostileTest):
    def test_rotating_addresses_never_lock_the_owner_out(self):
        # Item 10: twelve wrong passwords, each from an address of its own: each is only
        # told it is wrong; the account is not locked.
        for i in range(12):
            status, body, _ = login_from(self.server.port, f"127.0.9.{i + 1}", STAFF, "guess")
            self.assertEqual(status, 401, body)
            validate(body, "error")
        # An address that has failed on the account tries again: slowed down (Retry-After).
        status, body, headers = login_from(self.server.port, "127.0.9.1", STAFF, "guess")
        self.assertEqual(status, 429, body)
        self.assertEqual(body["error"]["code"], "rate_limited")
        self.assertGreater(int(headers["Retry-After"]), 0)
        # The owner, from a client that has not been failing, gets in.
        status, body, _ = login_from(self.server.port, "127.0.9.200", STAFF, PASSWORD)
        self.assertEqual(status, 200, body)
        # Unknown and known names get the same answer for a wrong password.
        known = login_from(self.server.port, "127.0.10.1", STAFF, "wrong")
        unknown = login_from(self.server.port, "127.0.10.2", "nobody-here", "wrong")
        self.assertEqual((known[0], known[1]), (unknown[0], unknown[1]))
        self.assertEqual(known[1]["error"]["code"], "bad_credentials")
        # Each failure is in the audit log.
        _, _, audit = self.staff.request("GET", "/api/v1/audit")
        failed = [e for e in audit["entries"] if e["action"] == "login_failed"]
        self.assertGreaterEqual(len(failed), 12, audit)

    def test_a_password_reset_ends_the_accounts_sessions(self):
        # Item 12: the old cookie stops working the moment the password is reset.
        add_staff(self.data, "jonas", "old password here")
        old = staff_login(self.server, "jonas", "old password here")
        self.assertEqual(old.request("GET", "/api/v1/summary")[0], 200)
        add_staff(self.data, "jonas", "new password here")
        status, _, body = old.request("GET", "/api/v1/summary")
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"]["code"], "unauthenticated")
        new = staff_login(self.server, "jonas", "new password here")
        self.assertEqual(new.request("GET", "/api/v1/summary")[0], 200)

    def test_session_reads_racing_logouts_never_fail(self):
        # Item 13: GET /api/v1/session while the same session logs out: 200 or 401, never 500.
        add_staff(self.data, "racer", "racing password")
        seen = collections.Counter()
        failures = []
        port = self.server.port
        for i in range(20):
            address = f"127.0.11.{i + 1}"  # logins are limited per address
            status, body, headers = login_from(port, address, "racer", "racing password")
            self.assertEqual(status, 200, body)
            token = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
            cookie = {"Cookie": STAFF_COOKIE + "=" + token}
            start = threading.Barrier(5)

            def read():
                start.wait()
                for _ in range(5):
                    status, body, _ = request_from(port, address, "GET", "/api/v1/session",
                                                   headers=cookie)
                    seen[status] += 1
                    if status not in (200, 401):
                        failures.append((status, body))

            readers = [threading.Thread(target=read) for _ in range(4)]
            for r in readers:
                r.start()
            start.wait()
            status, body, _ = request_from(port, address, "DELETE", "/api/v1/session",
                                           headers={**cookie, "X-CSRF-Token": body["csrf_token"]})
            self.assertEqual(status, 200, body)
            for r in readers:
                r.join(timeout=30)
        self.assertEqual(failures, [])
        self.assertGreater(seen[401], 0, seen)
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
