"""Tests of scripts/dashboard_inputs.py: the fingerprint that decides whether the stored
dashboard build may be served must change with every input and with nothing else.
Run: python3 -m unittest scripts/test_dashboard_inputs.py
"""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_inputs  # noqa: E402

LOCK = """
version = 4

[[package]]
name = "frontend"
version = "0.1.0"
dependencies = [
 "leptos",
 "shared-types",
]

[[package]]
name = "shared-types"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "cspm-bindgen"
version = "0.1.0"
dependencies = ["syn 2.0.1"]

[[package]]
name = "leptos"
version = "0.8.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "aa"
dependencies = ["syn 3.0.0 (registry+https://github.com/rust-lang/crates.io-index)"]

[[package]]
name = "serde"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "bb"

[[package]]
name = "syn"
version = "2.0.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "cc"

[[package]]
name = "syn"
version = "3.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "dd"

[[package]]
name = "backend"
version = "0.1.0"
dependencies = ["rusqlite"]

[[package]]
name = "rusqlite"
version = "0.37.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ee"
"""

FILES = {
    "Cargo.toml": "[workspace]\n",
    "Cargo.lock": LOCK,
    "scripts/build_dashboard.sh": "#!/bin/sh\n",
    "scripts/tools.sh": "f() { :; }\n",
    "frontend/Cargo.toml": "[package]\n",
    "frontend/src/lib.rs": "fn main() {}\n",
    "frontend/style.css": "body {}\n",
    "frontend/dist/index.html": "built\n",
    "frontend/prebuilt/INPUTS": "x\n",
    "shared-types/src/lib.rs": "pub struct A;\n",
    "tools/bindgen/src/main.rs": "fn main() {}\n",
    "backend/src/lib.rs": "pub fn f() {}\n",
}


class FingerprintTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        for rel, text in FILES.items():
            self.write(rel, text)
        self.base = dashboard_inputs.fingerprint(self.root)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def assertChanges(self, rel, text):
        """`text` in `rel` changes the fingerprint; `rel` is put back afterwards."""
        self.write(rel, text)
        self.assertNotEqual(dashboard_inputs.fingerprint(self.root), self.base, rel)
        self.write(rel, FILES[rel])

    def assertKeeps(self, rel, text):
        self.write(rel, text)
        self.assertEqual(dashboard_inputs.fingerprint(self.root), self.base, rel)

    def test_stable(self):
        self.assertEqual(dashboard_inputs.fingerprint(self.root), self.base)

    def test_every_source_changes_it(self):
        for rel in ["frontend/src/lib.rs", "frontend/style.css", "shared-types/src/lib.rs",
                    "tools/bindgen/src/main.rs", "Cargo.toml", "scripts/build_dashboard.sh",
                    "scripts/tools.sh"]:
            with self.subTest(rel=rel):
                self.assertChanges(rel, "changed\n")

    def test_a_new_file_changes_it(self):
        self.write("frontend/src/new.rs", "")
        self.assertNotEqual(dashboard_inputs.fingerprint(self.root), self.base)

    def test_build_outputs_and_the_backend_do_not(self):
        self.assertKeeps("frontend/dist/index.html", "rebuilt\n")
        self.assertKeeps("frontend/prebuilt/INPUTS", "y\n")
        self.assertKeeps("backend/src/lib.rs", "pub fn g() {}\n")

    def test_a_crate_the_dashboard_reaches_changes_it(self):
        # serde through shared-types; syn 3 named with its source; syn 2 through the tool.
        for old, new in [('checksum = "bb"', 'checksum = "b2"'),
                         ('checksum = "dd"', 'checksum = "d2"'),
                         ('checksum = "cc"', 'checksum = "c2"')]:
            with self.subTest(crate=old):
                self.assertChanges("Cargo.lock", LOCK.replace(old, new))

    def test_a_backend_only_crate_does_not(self):
        self.assertKeeps("Cargo.lock", LOCK.replace('checksum = "ee"', 'checksum = "e2"'))

    def test_an_unresolvable_lock_entry_stops_it(self):
        self.write("Cargo.lock", LOCK.replace(' "shared-types",\n', ' "gone",\n'))
        with self.assertRaises(SystemExit):
            dashboard_inputs.fingerprint(self.root)

    def test_a_workspace_crate_outside_the_hashed_folders_stops_it(self):
        self.write("Cargo.lock", LOCK.replace('dependencies = ["serde"]',
                                              'dependencies = ["serde", "backend"]'))
        with self.assertRaises(SystemExit):
            dashboard_inputs.fingerprint(self.root)

    def test_a_git_dependency_commit_changes_it(self):
        git = 'source = "git+https://example.com/leptos#1111"'
        self.write("Cargo.lock", LOCK.replace(
            'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "aa"', git))
        before = dashboard_inputs.fingerprint(self.root)
        self.write("Cargo.lock", LOCK.replace(
            'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "aa"',
            git.replace("1111", "2222")))
        self.assertNotEqual(dashboard_inputs.fingerprint(self.root), before)


if __name__ == "__main__":
    unittest.main()
