#!/usr/bin/env python3
"""Times a WASI command's run (its `_start`, after compiling and instantiating) under wasmtime,
the peer for generated-code speed: `wasm-prof phases` measures the same span as its `execute`
phase, while its `--engine wasmtime` peer only compiles and loads (the peers have no WASI).

Uses PyPI's wasmtime package, which bundles wasmtime's own release build with WASI preview 1;
pin the version that matches the peer (wasmtime==48.0.0 for wasmtime 48):

    python3 -m venv /tmp/wasmtime-py && /tmp/wasmtime-py/bin/pip install wasmtime==48.0.0
    /tmp/wasmtime-py/bin/python scripts/wasmtime-execute.py --workload boolector --runs 7

Every sample is a fresh process, as in `wasm-prof phases`. Prints each sample, then the median,
the spread and the exit code; fails when a sample's exit code or stdout digest differs from the
workload's.
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def workload(name):
    """The workload called `name` in corpora/workloads.toml, with the module's path resolved."""
    with open(os.path.join(ROOT, "corpora", "workloads.toml"), "rb") as f:
        entries = tomllib.load(f)["workload"]
    for entry in entries:
        if entry["name"] == name:
            module = entry["module"]
            if not module.endswith(".wasm"):
                module = os.path.join("corpora", "fetched", module + ".wasm")
            entry["module"] = os.path.join(ROOT, module)
            return entry
    sys.exit(f"wasmtime-execute: no workload named {name!r} in corpora/workloads.toml")


def one_sample(entry):
    """Compiles and instantiates the module, runs `_start` once; returns the run's seconds,
    the exit code and the sha256 of stdout."""
    import wasmtime

    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, entry["module"])
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [os.path.basename(entry["module"])] + entry.get("args", [])
    for grant in entry.get("dirs", []):
        host, guest = grant.split("::")
        wasi.preopen_dir(os.path.join(ROOT, host), guest)
    if "stdin" in entry:
        wasi.stdin_file = os.path.join(ROOT, entry["stdin"])
    with tempfile.TemporaryDirectory() as scratch:
        stdout = os.path.join(scratch, "stdout")
        wasi.stdout_file = stdout
        store.set_wasi(wasi)
        instance = linker.instantiate(store, module)
        start = instance.exports(store)["_start"]
        code = 0
        began = time.perf_counter()
        try:
            start(store)
        except wasmtime.ExitTrap as e:
            code = e.code
        seconds = time.perf_counter() - began
        with open(stdout, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    return seconds, code, digest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, help="a workload of corpora/workloads.toml")
    parser.add_argument("--runs", type=int, default=7, help="timed samples (fresh processes)")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    entry = workload(args.workload)
    if args.single:
        print(json.dumps(one_sample(entry)))
        return
    samples = []
    for i in range(args.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--workload", args.workload, "--single"],
            check=True, capture_output=True, text=True,
        ).stdout
        seconds, code, digest = json.loads(out)
        expected = entry.get("expect_exit", 0)
        if code != expected or digest != entry.get("stdout_sha256", digest):
            sys.exit(f"wasmtime-execute: sample {i + 1} exited {code} with stdout {digest}; "
                     f"the workload expects {expected} and {entry.get('stdout_sha256')}")
        samples.append(seconds)
        print(f"sample {i + 1}: {seconds * 1e3:.1f} ms")
    median = statistics.median(samples)
    print(f"{args.workload}: execute median {median * 1e3:.1f} ms, "
          f"min {min(samples) * 1e3:.1f}, max {max(samples) * 1e3:.1f} "
          f"({len(samples)} fresh processes, exit {entry.get('expect_exit', 0)})")


if __name__ == "__main__":
    main()
