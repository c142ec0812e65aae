"""course-registry (SPEC section 9) against its own PostgreSQL cluster: the schema's
migrations, module editions, and the dedup constraints of docs/sync.md section 3 held by
the database itself."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from kiosk import MODULE, MODULE_ID
from pg_cluster import PgTestCase

REGISTRY_BIN = os.environ.get("COURSE_REGISTRY_BIN", "course-registry")


def registry(*args, env=None, check=True):
    proc = subprocess.run([REGISTRY_BIN, *args], capture_output=True, text=True, timeout=60,
                          env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"course-registry {' '.join(args)} exited {proc.returncode}: "
                             f"{proc.stderr}")
    return proc


class RegistryDatabaseTest(PgTestCase):
    def setUp(self):
        self.new_database("reg")
        self.db = self.pg.conninfo(self.dbname)
        self.tmp = tempfile.mkdtemp(prefix="ck-registry-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def test_version_and_usage(self):
        self.assertRegex(registry("version").stdout, r"^course-registry \d+\.\d+\.\d+\n$")
        self.assertEqual(registry("no-such-command", check=False).returncode, 2)
        self.assertEqual(registry(check=False).returncode, 2)
        self.assertEqual(registry("module", "add", "--db", self.db, check=False).returncode, 2)

    def test_migrate_creates_the_schema_once_and_refuses_a_newer_one(self):
        proc = registry("migrate", "--db", self.db)
        self.assertIn("from version 0 to 4", proc.stdout)
        tables = self.pg.sql(self.dbname, "SELECT string_agg(tablename, ',' ORDER BY "
                                          "tablename) FROM pg_tables WHERE schemaname = "
                                          "'public'")
        self.assertEqual(tables.split(","), ["attendee_progress", "attendees", "badge_issues",
                                             "devices", "edition_progress", "events",
                                             "module_editions", "revocations", "roster_entries",
                                             "schema_migrations", "signing_keys", "staff",
                                             "staff_sessions", "stale_attendees"])
        self.assertIn("current (version 4)", registry("migrate", "--db", self.db).stdout)
        self.assertEqual(self.pg.sql(self.dbname, "SELECT count(*) FROM schema_migrations"), "4")
        # A schema from a newer registry is refused, and left as it is.
        self.pg.sql(self.dbname, "INSERT INTO schema_migrations (version, name) "
                                 "VALUES (99, 'from the future')")
        proc = registry("migrate", "--db", self.db, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("version 99, newer than this course-registry knows", proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1)
        self.assertEqual(self.pg.sql(self.dbname, "SELECT max(version) FROM schema_migrations"),
                         "99")
        path = self.write("module.json", MODULE)
        proc = registry("module", "add", "--db", self.db, path, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("newer course-registry", proc.stderr)

    def test_doctor(self):
        proc = registry("doctor", "--db", f"host={self.tmp} dbname=none", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stdout, r"(?m)^FAIL  database +cannot connect")
        proc = registry("doctor", "--db", self.db, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stdout, r"(?m)^ok    database .*PostgreSQL 15")
        self.assertRegex(proc.stdout, r"(?m)^FAIL  schema +version 0, .*run course-registry migrate")
        registry("migrate", "--db", self.db)
        proc = registry("doctor", "--db", self.db, check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertRegex(proc.stdout, r"(?m)^ok    schema +version \d+, current$")
        self.assertRegex(proc.stdout, r"(?m)^warn  records +0 module edition\(s\), 0 device\(s\), "
                                      r"0 staff account\(s\) \(none can log in")
        self.assertRegex(proc.stdout, r"(?m)^(ok|warn) +db clock +PostgreSQL's clock is -?\d+\.\d s")
        self.assertRegex(proc.stdout, r"(?m)^(ok|warn) +clock ")
        self.assertTrue(proc.stdout.endswith("Ready.\n"), proc.stdout)

    def test_two_registries_migrating_at_once_apply_each_migration_once(self):
        procs = [subprocess.Popen([REGISTRY_BIN, "migrate", "--db", self.db],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
        outs = [p.communicate(timeout=60) for p in procs]
        self.assertEqual([p.returncode for p in procs], [0, 0, 0, 0], outs)
        self.assertEqual(sum("from version 0 to 4" in out for out, _ in outs), 1)
        self.assertEqual(self.pg.sql(self.dbname, "SELECT count(*) FROM schema_migrations"), "4")

    def test_unreachable_database_and_unmigrated_database(self):
        proc = registry("migrate", "--db", f"host={self.tmp} dbname=none", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cannot connect to PostgreSQL", proc.stderr)
        path = self.write("module.json", MODULE)
        proc = registry("module", "add", "--db", self.db, path, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Run course-registry migrate", proc.stderr)
        # COURSE_REGISTRY_DB stands in for --db.
        env = dict(os.environ, COURSE_REGISTRY_DB=self.db)
        self.assertIn("from version 0 to 4", registry("migrate", env=env).stdout)

    def test_module_add_validates_with_the_device_rules_and_updates(self):
        registry("migrate", "--db", self.db)
        path = self.write("module.json", MODULE)
        self.assertEqual(registry("module", "add", "--db", self.db, path).stdout,
                         f"Added module edition {MODULE_ID}\n")
        row = self.pg.sql(self.dbname, "SELECT cycle || '|' || number || '|' || venue || '|' "
                                       "|| jsonb_array_length(config->'days') "
                                       "FROM module_editions")
        self.assertEqual(row, "2026-2|3|Lille|2")
        moved = dict(MODULE, venue="Lyon")
        path = self.write("moved.json", moved)
        self.assertEqual(registry("module", "add", "--db", self.db, path).stdout,
                         f"Updated module edition {MODULE_ID}\n")
        self.assertEqual(self.pg.sql(self.dbname, "SELECT venue FROM module_editions"), "Lyon")
        bad = {"not json": "{nope",
               "bad time zone": json.dumps(dict(MODULE, timezone="Mars/Olympus")),
               "module 5": json.dumps(dict(MODULE, number=5))}
        for name, text in bad.items():
            with self.subTest(name):
                proc = registry("module", "add", "--db", self.db, self.write("bad.json", text),
                                check=False)
                self.assertEqual(proc.returncode, 1)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("module.timezone", registry("module", "add", "--db", self.db,
                                                  self.write("tz.json", bad["bad time zone"]),
                                                  check=False).stderr)
        self.assertEqual(self.pg.sql(self.dbname, "SELECT count(*) FROM module_editions"), "1")

    def test_roster_import_shares_attendees_across_editions(self):
        registry("migrate", "--db", self.db)
        registry("module", "add", "--db", self.db, self.write("m3.json", MODULE))
        registry("module", "add", "--db", self.db,
                 self.write("m4.json", dict(MODULE, number=4)))
        csv = self.write("m3.csv", "\ufeffid;family_name;given_name;email;country\r\n"
                                   "A-001;Müller;Anna;anna@example.de;DE\r\n"
                                   "A-002;Ñúñez;José;;ES\r\n"
                                   "A-003;Dubois;Chloé;;FR\r\n")
        proc = registry("roster", "import", "--db", self.db, MODULE_ID, csv)
        rows = 3
        self.assertEqual(self.pg.sql(self.dbname, "SELECT count(*) FROM attendees"), "3")
        self.assertIn(f"Imported {rows} of {rows} rows into {MODULE_ID} (0 rejected)",
                      proc.stdout)
        self.assertEqual(self.pg.sql(self.dbname, "SELECT given_name || ' ' || family_name || "
                                                  "'|' || coalesce(email, 'NULL') FROM "
                                                  "attendees WHERE id = 'A-002'"),
                         "José Ñúñez|NULL")
        # The same person in module 4, renamed, with one bad row beside.
        path = self.write("m4.json.csv", "id,family_name,given_name\nA-002,Nunez,Jose\n"
                                          "bad id!,X,Y\n")
        proc = registry("roster", "import", "--db", self.db, "ecnr-2026-2-m4", path,
                        check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Imported 1 of 2 rows", proc.stdout)
        self.assertRegex(proc.stderr, r":3: rejected .*\[invalid_id\]")
        self.assertEqual(self.pg.sql(self.dbname, "SELECT count(*) FROM attendees"), str(rows))
        self.assertEqual(self.pg.sql(self.dbname, "SELECT string_agg(module_id, ',' ORDER BY "
                                                  "module_id) FROM roster_entries WHERE "
                                                  "attendee_id = 'A-002'"),
                         f"{MODULE_ID},ecnr-2026-2-m4")
        self.assertEqual(self.pg.sql(self.dbname, "SELECT family_name FROM attendees "
                                                  "WHERE id = 'A-002'"), "Nunez")
        proc = registry("roster", "import", "--db", self.db, "ecnr-2030-1-m1", csv,
                        check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no module edition ecnr-2030-1-m1", proc.stderr)
        proc = registry("roster", "import", "--db", self.db, MODULE_ID,
                        self.write("empty.csv", ""), check=False)
        self.assertEqual(proc.returncode, 1)

    def test_device_tokens_are_shown_once_and_stored_hashed(self):
        registry("migrate", "--db", self.db)
        registry("module", "add", "--db", self.db, self.write("m.json", MODULE))
        token = registry("device", "add", "--db", self.db, "lille-hall-a", "--module",
                         MODULE_ID).stdout
        self.assertRegex(token, r"^[0-9a-f]{64}\n$")
        token = token.strip()
        stored = self.pg.sql(self.dbname, "SELECT encode(token_hash, 'hex') || '|' || module_id "
                                          "|| '|' || (revoked_at IS NULL) FROM devices")
        self.assertEqual(stored, hashlib.sha256(token.encode()).hexdigest() + f"|{MODULE_ID}|true")
        self.assertNotIn(token, self.pg.sql(self.dbname, "SELECT row_to_json(d)::text "
                                                         "FROM devices d"))
        # Adding it again replaces the token: the old one stops at once.
        again = registry("device", "add", "--db", self.db, "lille-hall-a", "--module",
                         MODULE_ID).stdout.strip()
        self.assertNotEqual(again, token)
        self.assertEqual(self.pg.sql(self.dbname, "SELECT count(*) FROM devices"), "1")
        self.assertIn("Revoked", registry("device", "revoke", "--db", self.db,
                                          "lille-hall-a").stdout)
        self.assertEqual(self.pg.sql(self.dbname, "SELECT revoked_at IS NOT NULL FROM devices"),
                         "t")
        for args, message in {("add", "Bad_Id", "--module", MODULE_ID): "is not valid",
                              ("add", "hall-b", "--module", "ecnr-2030-1-m1"):
                                  "no module edition",
                              ("revoke", "nobody"): "no device nobody"}.items():
            with self.subTest(args):
                proc = registry("device", args[0], "--db", self.db, *args[1:], check=False)
                self.assertEqual((proc.returncode, proc.stdout), (1, ""))
                self.assertIn(message, proc.stderr)

    def test_the_event_log_holds_each_event_once_by_seq_and_by_id(self):
        """docs/sync.md section 3's dedup rules are the database's constraints, so that two
        registry processes on one database cannot store an event twice."""
        registry("migrate", "--db", self.db)
        registry("module", "add", "--db", self.db, self.write("m.json", MODULE))
        self.pg.sql(self.dbname, f"INSERT INTO devices (id, module_id, token_hash) VALUES "
                                 f"('hall-a', '{MODULE_ID}', '\\x01'), "
                                 f"('hall-b', '{MODULE_ID}', '\\x02')")

        def insert(device, seq, uuid):
            return ("INSERT INTO events (device_id, seq, id, type, at, module_id, attendee_id, "
                    f"body) VALUES ('{device}', {seq}, '{uuid}', 'checkin', now(), "
                    f"'{MODULE_ID}', 'A001', '{{}}')")

        u1 = "0ce10fda-9311-4e3c-9c42-be06d233f263"
        u2 = "f6de591c-94ac-4ff4-a046-4ebbf259e5c5"
        self.pg.sql(self.dbname, insert("hall-a", 1, u1))
        for name, statement in {"same seq": insert("hall-a", 1, u2),
                                "same id, other seq": insert("hall-a", 2, u1),
                                "same id, other device": insert("hall-b", 1, u1),
                                "seq 0": insert("hall-b", 0, u2)}.items():
            with self.subTest(name):
                with self.assertRaises(subprocess.CalledProcessError):
                    self.pg.sql(self.dbname, statement)
        self.pg.sql(self.dbname, insert("hall-b", 1, u2))
        self.assertEqual(self.pg.sql(self.dbname, "SELECT count(*) FROM events"), "2")


if __name__ == "__main__":
    unittest.main()
