"""Deterministic regression gate: collect measures and compare them against a baseline.

Called by scripts/ci-gate.sh, which runs the samples under callgrind; see that file for usage.

  ci_gate.py collect DIR --module FILE --hash ALGO --out FILE   summarise a measurement directory
  ci_gate.py compare BASELINE CURRENT                           exit 3 when a measure regressed
  ci_gate.py self-test                                          test this file

Every measure is "smaller is better". A measure regresses when it grows by more than its
tolerance; byte sizes repeat exactly from run to run, instruction counts vary by about 0.2%
(glibc's realloc moves a different number of blocks from run to run), hence the tolerances below.
"""

import argparse
import hashlib
import json
import re
import struct
import sys
import unittest
from pathlib import Path

SCHEMA_VERSION = 1

# Each measure with the growth it tolerates, in percent.
MEASURES = {
    # Bytes of the machine code image (functions and trampolines), from the artifact header.
    "code_image_bytes": 1.0,
    # Bytes of machine code of the module's functions, from the cold sample's record.
    "function_code_bytes": 1.0,
    # Bytes of the cache artifact file.
    "artifact_bytes": 1.0,
    # Instructions (callgrind Ir) of whole `sample` processes, start-up included:
    # no cache (parse, validate, compile, instantiate) ...
    "ir_nocache": 2.0,
    # ... empty cache (the same plus hash, serialize, store) ...
    "ir_cold": 2.0,
    # ... and a cache hit (hash, look up, load, instantiate).
    "ir_cached": 2.0,
}

# The artifact header fields the gate reads (see runtime/cache/src/artifact.rs).
ARTIFACT_MAGIC = b"WPROFART"
ARTIFACT_VERSION = 4
HEADER_LEN = 160

EXIT_REGRESSED = 3


class GateError(Exception):
    """A failure that ends the run with a one-line message and exit code 1."""


def callgrind_ir(text: str) -> int:
    """The total `Ir` of a callgrind output file (its `summary:` or `totals:` line)."""
    for key in ("summary", "totals"):
        match = re.search(rf"^{key}:\s+(\d+)", text, re.MULTILINE)
        if match:
            return int(match.group(1))
    raise GateError("the callgrind output has no summary: or totals: line")


def artifact_fields(data: bytes) -> dict:
    """The code length and engine fingerprint recorded in a cache artifact's header."""
    if len(data) < HEADER_LEN or data[:8] != ARTIFACT_MAGIC:
        raise GateError("the cache artifact does not start with a wasm-prof header")
    (version,) = struct.unpack_from("<I", data, 8)
    if version != ARTIFACT_VERSION:
        raise GateError(
            f"the cache artifact has format version {version}; this script reads "
            f"version {ARTIFACT_VERSION}: update ARTIFACT_VERSION in scripts/ci_gate.py"
        )
    (fingerprint_len,) = struct.unpack_from("<I", data, 72)
    (code_len,) = struct.unpack_from("<Q", data, 104)
    fingerprint = data[HEADER_LEN : HEADER_LEN + fingerprint_len].decode("utf-8")
    return {"code_len": code_len, "fingerprint": fingerprint}


def collect(measure_dir: Path, module: Path, hash_algo: str) -> dict:
    """Summarises what scripts/ci-gate.sh left in `measure_dir` as a gate report."""
    artifacts = sorted((measure_dir / "cache").glob("*.wpa"))
    if len(artifacts) != 1:
        raise GateError(
            f"expected one cache artifact after the cold sample, found {len(artifacts)}"
        )
    artifact = artifacts[0].read_bytes()
    header = artifact_fields(artifact)
    cold = json.loads((measure_dir / "cold.json").read_text())
    measures = {
        "code_image_bytes": header["code_len"],
        "function_code_bytes": sum(f["code_bytes"] for f in cold["functions"]),
        "artifact_bytes": len(artifact),
    }
    for path in ("nocache", "cold", "cached"):
        text = (measure_dir / f"{path}.callgrind").read_text()
        measures[f"ir_{path}"] = callgrind_ir(text)
    return {
        "schema_version": SCHEMA_VERSION,
        "module": module.name,
        "module_sha256": hashlib.sha256(module.read_bytes()).hexdigest(),
        "hash": hash_algo,
        "fingerprint": header["fingerprint"],
        "valgrind": (measure_dir / "valgrind-version").read_text().strip(),
        "measures": measures,
    }


def machine_part(key: str, value):
    """What of a report field decides comparability: for the fingerprint, all but the ids of
    the sources (the metadata schema and the build id change with the very code the gate
    judges)."""
    if key != "fingerprint" or not isinstance(value, str):
        return value
    return re.sub(r"; (metadata schema|build) 0x[0-9a-f]+", "", value)


def compare(baseline: dict, current: dict) -> tuple[list[list[str]], list[str], bool]:
    """Rows of the comparison table, notes, and whether any measure regressed."""
    rows = [["measure", "baseline", "current", "change", "tolerance", "verdict"]]
    notes = []
    regressed = False
    comparable = True
    for key, label in (
        ("module_sha256", "the workload"),
        ("fingerprint", "the engine fingerprint (CPU features as valgrind reports them)"),
        ("valgrind", "the valgrind version"),
    ):
        if machine_part(key, baseline.get(key)) != machine_part(key, current.get(key)):
            comparable = False
            notes.append(
                f"{label} differs from the baseline's, so the numbers are not comparable and "
                "nothing is judged; if the change is intended, run scripts/ci-gate.sh --update"
            )
    for name, tolerance in MEASURES.items():
        old = baseline["measures"].get(name)
        new = current["measures"].get(name)
        if new is None:
            raise GateError(f"the current report lacks the measure {name}")
        if old is None:
            rows.append([name, "-", f"{new:,}", "-", f"{tolerance}%", "new"])
            notes.append(f"{name} is not in the baseline: run scripts/ci-gate.sh --update")
            continue
        change = (new - old) / old * 100 if old else (0.0 if new == old else float("inf"))
        if not comparable:
            verdict = "n/a"
        elif change > tolerance:
            verdict = "REGRESSED"
            regressed = True
        elif change < -tolerance:
            verdict = "improved"
            notes.append(f"{name} improved beyond its tolerance: run scripts/ci-gate.sh --update")
        else:
            verdict = "ok"
        rows.append([name, f"{old:,}", f"{new:,}", f"{change:+.2f}%", f"{tolerance}%", verdict])
    return rows, notes, regressed


def render(rows: list[list[str]]) -> str:
    """A plain text table, numbers right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def load(path: Path) -> dict:
    """Reads a gate report written by `collect`."""
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise GateError(f"{path} does not exist: run scripts/ci-gate.sh --update to create it")
    except json.JSONDecodeError as e:
        raise GateError(f"{path} is not JSON ({e})")
    if report.get("schema_version") != SCHEMA_VERSION:
        raise GateError(
            f"{path} has schema version {report.get('schema_version')}, expected "
            f"{SCHEMA_VERSION}: run scripts/ci-gate.sh --update"
        )
    return report


class GateTests(unittest.TestCase):
    """The comparison and the parsers."""

    def report(self, **changes: int) -> dict:
        measures = {name: 1000 for name in MEASURES}
        measures.update(changes)
        return {
            "schema_version": SCHEMA_VERSION,
            "module_sha256": "ab",
            "fingerprint": "fp",
            "valgrind": "valgrind-3.19.0",
            "measures": measures,
        }

    def test_equality_passes(self):
        _, notes, regressed = compare(self.report(), self.report())
        self.assertFalse(regressed)
        self.assertEqual(notes, [])

    def test_growth_beyond_tolerance_regresses(self):
        rows, _, regressed = compare(self.report(), self.report(ir_cached=1030))
        self.assertTrue(regressed)
        self.assertIn(["ir_cached", "1,000", "1,030", "+3.00%", "2.0%", "REGRESSED"], rows)

    def test_one_byte_over_one_percent_regresses(self):
        _, _, regressed = compare(self.report(), self.report(artifact_bytes=1011))
        self.assertTrue(regressed)

    def test_growth_within_tolerance_passes(self):
        _, _, regressed = compare(self.report(), self.report(ir_nocache=1019, artifact_bytes=1010))
        self.assertFalse(regressed)

    def test_improvement_passes_with_a_note(self):
        _, notes, regressed = compare(self.report(), self.report(code_image_bytes=900))
        self.assertFalse(regressed)
        self.assertTrue(any("code_image_bytes improved" in n for n in notes))

    def test_missing_current_measure_is_an_error(self):
        current = self.report()
        del current["measures"]["ir_cold"]
        with self.assertRaises(GateError):
            compare(self.report(), current)

    def test_fingerprint_change_is_noted_and_not_judged(self):
        current = self.report()
        current["fingerprint"] = "other"
        current["measures"]["ir_cold"] *= 2
        _, notes, regressed = compare(self.report(), current)
        self.assertFalse(regressed, "numbers from another CPU are not comparable")
        self.assertTrue(any("fingerprint" in n for n in notes))

    def test_a_new_build_of_the_same_engine_is_judged(self):
        current = self.report()
        current["fingerprint"] = current["fingerprint"] + "; build 0x00000000000000ff"
        baseline = self.report()
        baseline["fingerprint"] = baseline["fingerprint"] + "; build 0x0000000000000001"
        rows, _, _ = compare(baseline, current)
        self.assertEqual(rows[1][-1], "ok")

    def test_callgrind_summary_is_read(self):
        text = "version: 1\nevents: Ir\nfn=main\n1 5\nsummary: 516596221\ntotals: 1\n"
        self.assertEqual(callgrind_ir(text), 516596221)
        self.assertEqual(callgrind_ir("events: Ir\ntotals: 42\n"), 42)
        with self.assertRaises(GateError):
            callgrind_ir("events: Ir\n")

    def test_artifact_header_is_read(self):
        fingerprint = b"engine fp"
        header = bytearray(HEADER_LEN)
        header[:8] = ARTIFACT_MAGIC
        struct.pack_into("<I", header, 8, ARTIFACT_VERSION)
        struct.pack_into("<I", header, 72, len(fingerprint))
        struct.pack_into("<Q", header, 104, 4096)
        fields = artifact_fields(bytes(header) + fingerprint)
        self.assertEqual(fields, {"code_len": 4096, "fingerprint": "engine fp"})
        struct.pack_into("<I", header, 8, ARTIFACT_VERSION + 1)
        with self.assertRaises(GateError):
            artifact_fields(bytes(header) + fingerprint)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collect_cmd = commands.add_parser("collect")
    collect_cmd.add_argument("dir", type=Path)
    collect_cmd.add_argument("--module", type=Path, required=True)
    collect_cmd.add_argument("--hash", required=True)
    collect_cmd.add_argument("--out", type=Path, required=True)
    compare_cmd = commands.add_parser("compare")
    compare_cmd.add_argument("baseline", type=Path)
    compare_cmd.add_argument("current", type=Path)
    commands.add_parser("self-test")
    args = parser.parse_args()

    if args.command == "self-test":
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(GateTests)
        return 0 if unittest.TextTestRunner(verbosity=1).run(suite).wasSuccessful() else 1
    try:
        if args.command == "collect":
            report = collect(args.dir, args.module, args.hash)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")
            return 0
        rows, notes, regressed = compare(load(args.baseline), load(args.current))
    except GateError as e:
        print(f"ci-gate: {e}", file=sys.stderr)
        return 1
    print(render(rows))
    for note in notes:
        print(f"note: {note}")
    if regressed:
        print(
            f"ci-gate: regression against {args.baseline}: a measure grew beyond its "
            "tolerance (see REGRESSED above); if the growth is intended, run "
            "scripts/ci-gate.sh --update and commit the baseline",
            file=sys.stderr,
        )
        return EXIT_REGRESSED
    print("ci-gate: no regression")
    return 0


if __name__ == "__main__":
    sys.exit(main())
