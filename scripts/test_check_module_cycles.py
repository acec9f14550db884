#!/usr/bin/env python3
"""Tests of scripts/check_module_cycles.py on small synthetic crates in temp folders,
then a run on the real backend/src (which must at least parse and print valid chains).

Run:  python3 -m unittest scripts/test_check_module_cycles.py   (from the repo root)
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_module_cycles as cmc  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CrateTest(unittest.TestCase):
    def crate(self, files: dict[str, str]) -> str:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        for rel, text in files.items():
            path = os.path.join(tmp.name, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return tmp.name

    def run_checker(self, src: str, *extra: str) -> tuple[int, str]:
        out = io.StringIO()
        with redirect_stdout(out):
            code = cmc.main(["--src", src, *extra])
        return code, out.getvalue()

    def edges(self, src: str) -> dict:
        """{("a", "b"): [line, …]} of the counted edges."""
        _, edges = cmc.collect(src)
        return {(cmc.name(a), cmc.name(b)): [line for _, line in locs]
                for (a, b), locs in edges.items()}

    def test_sibling_cycle_is_found_with_file_and_line(self):
        src = self.crate({
            "lib.rs": "pub mod archive;\n",
            "archive/mod.rs": "pub mod delete;\npub mod run;\npub use run::Report;\n",
            "archive/run.rs": "use std::fmt;\n\nuse super::delete::delete_parts;\npub struct Report;\n",
            "archive/delete.rs": "use super::run::Report;\npub fn delete_parts() {}\n",
            "bin/tool.rs": "use cspm::archive::run::Report;\n",
        })
        code, out = self.run_checker(src)
        self.assertEqual(code, 1)
        self.assertIn("cycle among 2 modules: archive::delete, archive::run", out)
        self.assertRegex(out, r"archive::delete -> archive::run \(\S*archive/delete\.rs:1\)"
                              r" -> archive::delete \(\S*archive/run\.rs:3\)")

    def test_child_using_its_parent_is_not_a_cycle(self):
        src = self.crate({
            "lib.rs": "pub mod store;\n",
            "store/mod.rs": "mod sqlite;\npub use sqlite::SqliteStore;\npub trait Store {}\n"
                            "pub struct StoreError;\n",
            "store/sqlite/mod.rs": "mod write;\nuse super::{Store, StoreError};\npub struct SqliteStore;\n"
                                   "impl Store for SqliteStore {}\n",
            "store/sqlite/write.rs": "use super::SqliteStore;\nfn f() -> super::super::StoreError {"
                                     " crate::store::StoreError }\n",
        })
        code, out = self.run_checker(src)
        self.assertEqual(code, 0, out)
        self.assertIn("no import cycles", out)
        self.assertEqual(self.edges(src), {("store", "store::sqlite"): [2]})

    def test_grouped_and_multi_line_use_is_parsed(self):
        src = self.crate({
            "lib.rs": "pub mod a;\npub mod b;\npub mod c;\npub mod d;\npub mod e;\n",
            "a.rs": "pub use crate::{\n    b::{B1,\n        B2 as Two},\n    c::C,\n};\n"
                    "use crate::d::{self, D};\nuse crate::e as ee;\n"
                    "fn f() { ee::g(); }\npub struct A;\n",
            "b.rs": "pub struct B1;\npub struct B2;\n",
            "c.rs": "pub struct C;\n",
            "d.rs": "pub struct D;\n",
            "e.rs": "pub fn g() {}\n",
        })
        self.assertEqual(self.edges(src), {
            ("a", "b"): [2, 3], ("a", "c"): [4], ("a", "d"): [6, 6], ("a", "e"): [7, 8]})

    def test_fully_qualified_call_counts_and_comments_strings_do_not(self):
        src = self.crate({
            "lib.rs": "pub mod a;\npub mod b;\n",
            "a.rs": "// crate::b::c::g() in a comment\n/* crate::b::c::g() */\n"
                    "const S: &str = \"crate::b::c::g()\";\nconst R: &str = r#\"crate::b\"#;\n"
                    "fn lifetimes<'x>(s: &'x str) -> char { '\"' }\n"
                    "pub fn f() {\n    let _ = crate::b::c::g();\n}\n",
            "b/mod.rs": "pub mod c;\n",
            "b/c.rs": "pub fn g() {}\n#[cfg(test)]\nmod tests {\n    fn t() { super::super::super::a::f(); }\n}\n",
        })
        self.assertEqual(self.edges(src), {("a", "b::c"): [7], ("b::c", "a"): [4]})
        code, out = self.run_checker(src)
        self.assertEqual(code, 1)
        self.assertIn("a -> b::c", out)

    def test_real_tree_runs_and_every_chain_is_made_of_edges(self):
        src = os.path.join(REPO, "backend", "src")
        modules, edges = cmc.collect(src)
        self.assertIn(("store",), modules)
        self.assertNotIn(("bin", "cspm"), modules)
        code, out = self.run_checker(src)
        chains = [line for line in out.splitlines() if line.startswith("  ")]
        self.assertEqual(code, 1 if chains else 0, out)
        for line in chains:
            hops = [h.split(" (")[0].strip() for h in line.split(" -> ")]
            self.assertEqual(hops[0], hops[-1], line)
            for a, b in zip(hops, hops[1:]):
                self.assertTrue((tuple(a.split("::")), tuple(b.split("::"))) in edges, line)


if __name__ == "__main__":
    unittest.main()
