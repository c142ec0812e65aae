"""A private PostgreSQL 15 cluster for tests: initdb in a temporary directory, Unix socket
only (no TCP port, no system service), run as the `postgres` user when the tests run as
root (PostgreSQL refuses to run as root). Starts in about half a second.

    with PgCluster() as pg:
        pg.create_database("reg")
        pg.conninfo("reg")        # host=DIR dbname=reg user=postgres
        pg.sql("reg", "SELECT 1")  # psql -At, the output as text

PgTestCase: a test class with one cluster for all its tests and a fresh database each.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

PG_BIN = "/usr/lib/postgresql/15/bin"


class PgCluster:
    def __init__(self):
        self.dir = None

    def _as_owner(self, argv):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="ck-pg-")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = os.path.join(self.dir, "db")
        subprocess.run(self._as_owner([f"{PG_BIN}/initdb", "-D", data, "-A", "trust",
                                       "-U", "postgres", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, timeout=120)
        self.start_server()
        return self

    def start_server(self):
        """Starts PostgreSQL on the cluster (again, after stop_server)."""
        subprocess.run(self._as_owner([f"{PG_BIN}/pg_ctl", "-D", os.path.join(self.dir, "db"),
                                       "-l", os.path.join(self.dir, "log"), "-o",
                                       f"-k {self.dir} -c listen_addresses=''", "-w",
                                       "start"]),
                       check=True, capture_output=True, timeout=120)

    def stop_server(self):
        """Stops PostgreSQL (fast: open connections are cut), keeping the cluster."""
        subprocess.run(self._as_owner([f"{PG_BIN}/pg_ctl", "-D", os.path.join(self.dir, "db"),
                                       "-m", "fast", "-w", "stop"]),
                       check=True, capture_output=True, timeout=120)

    def stop(self):
        if self.dir is None:
            return
        subprocess.run(self._as_owner([f"{PG_BIN}/pg_ctl", "-D",
                                       os.path.join(self.dir, "db"), "-m", "fast", "-w",
                                       "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def conninfo(self, database):
        return f"host={self.dir} dbname={database} user=postgres"

    def create_database(self, name):
        self.sql("postgres", f'CREATE DATABASE "{name}"')

    def sql(self, database, statement):
        out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d",
                              self.conninfo(database), "-c", statement],
                             check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()


class PgTestCase(unittest.TestCase):
    """One PostgreSQL cluster per test class (self.pg); new_database() gives each test its
    own database, named PREFIX and a serial number (self.dbname)."""

    @classmethod
    def setUpClass(cls):
        cls.pg = PgCluster().start()
        cls.serial = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def new_database(self, prefix):
        type(self).serial += 1
        self.dbname = f"{prefix}{self.serial}"
        self.pg.create_database(self.dbname)
        return self.dbname
