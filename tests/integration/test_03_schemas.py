"""schemas/ is the source of truth: every schema is valid 2020-12, the examples validate,
and the binary agrees with the config schema on the examples."""
import glob
import json
import os
import shutil
import tempfile
import unittest

import jsonschema

from kiosk import SCHEMA_DIR, SOURCE_DIR, run, validate

EXAMPLES = os.path.join(SOURCE_DIR, "tests", "data", "schema-examples")


class SchemaTest(unittest.TestCase):
    def test_every_schema_is_valid(self):
        files = sorted(glob.glob(os.path.join(SCHEMA_DIR, "*.schema.json")))
        self.assertGreaterEqual(len(files), 8)
        for path in files:
            with self.subTest(os.path.basename(path)):
                with open(path, encoding="utf-8") as f:
                    schema = json.load(f)
                self.assertEqual(schema["$schema"],
                                 "https://json-schema.org/draft/2020-12/schema")
                jsonschema.Draft202012Validator.check_schema(schema)

    def test_examples_validate(self):
        for path in sorted(glob.glob(os.path.join(EXAMPLES, "*.valid.json"))):
            name = os.path.basename(path)[:-len(".valid.json")]
            with self.subTest(name):
                with open(path, encoding="utf-8") as f:
                    validate(json.load(f), name)
        with open(os.path.join(EXAMPLES, "config.invalid.json"), encoding="utf-8") as f:
            invalid = json.load(f)
        with self.assertRaises(jsonschema.ValidationError):
            validate(invalid, "config")

    def test_binary_agrees_with_the_config_schema(self):
        tmp = tempfile.mkdtemp(prefix="ck-schema-")
        try:
            for example, expected in (("config.valid.json", 0), ("config.invalid.json", 1),
                                      ("../../../docs/example-config.json", 0)):
                with self.subTest(example):
                    proc = run("init", "--data", os.path.join(tmp, example.replace("/", "_")),
                               "--config", os.path.join(EXAMPLES, example), check=False)
                    self.assertEqual(proc.returncode, expected, proc.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
