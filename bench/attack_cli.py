"""Attack the `face-album` command line as a hostile world would, and count what fails.

    python bench/attack_cli.py [--photos DIR] [--python PY] [--kinds ids,values,...] [--verbose]

Run from the repository root whose code is attacked (`PY -m album` imports the current folder).
Each try runs one command in a subprocess and fails when it prints a traceback, hangs, exits 0
where it must refuse, exits non-zero where it must succeed, prints a raw control character, or
leaves the library or the photo folder in a wrong state. Prints one table row per kind:
tries, tracebacks, failures. Needs a few photos with faces (default: shared/data/faces-dev).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev" / "images"
BIG = 2**63
ID_COMMANDS = [
    ["person", "{id}"],
    ["name", "{id}", "x"],
    ["merge", "{id}", "{id}"],
    ["move", "{id}", "--to", "1"],
    ["move", "1", "--to", "{id}"],
    ["reject", "{id}", "1"],
    ["hide", "{id}"],
    ["cover", "{id}", "1"],
    ["search", "--face", "{id}"],
    ["use-model", "{id}"],
]


@dataclass
class Result:
    kind: str
    label: str
    failed: bool
    traceback: bool
    why: str = ""


@dataclass
class Harness:
    python: str
    work: Path
    base_library: Path
    photos: Path
    results: list[Result] = field(default_factory=list)
    verbose: bool = False
    clean_seconds: float = 10.0  # a clean scan of the base photos, measured

    def run(self, argv, library=None, timeout=60.0, shell_tail="", stdin=None, max_file=None):
        lib = str(library or self.fresh_library())
        cmd = [self.python, "-m", "album", "--library", lib, *argv]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        if shell_tail:
            line = " ".join(_quote(c) for c in cmd) + " " + shell_tail
            cmd = ["bash", "-o", "pipefail", "-c", line]
        try:
            done = subprocess.run(
                cmd,
                cwd=REPO,
                capture_output=True,
                timeout=timeout,
                env=env,
                stdin=stdin,
                preexec_fn=None if max_file is None else lambda: _limit_file_size(max_file),
            )
        except subprocess.TimeoutExpired:
            return None, b"", b"TIMEOUT"
        return done.returncode, done.stdout, done.stderr

    def fresh_library(self) -> Path:
        path = Path(tempfile.mkdtemp(dir=self.work)) / "library.db"
        shutil.copy(self.base_library, path)
        return path

    def check(self, kind, label, argv, *, ok=None, library=None, timeout=60.0, **kw):
        """`ok`: True must exit 0, False must exit non-zero, None either."""
        code, out, err = self.run(argv, library, timeout, **kw)
        traceback = b"Traceback (most recent call last)" in err
        why = ""
        if code is None:
            why = "hung"
        elif traceback:
            why = "traceback: " + err.decode(errors="replace").strip().splitlines()[-1][:120]
        elif ok is True and code != 0:
            why = f"exit {code}: {err.decode(errors='replace').strip()[-160:]}"
        elif ok is False and code == 0:
            why = "exit 0 where a refusal was due"
        elif _raw_control(out) or _raw_control(err):
            why = "raw control character in the output"
        elif ok is False and len(_message_lines(err)) != 1:
            why = f"refusal is not one line: {err[-200:]!r}"
        self.record(kind, label, bool(why), traceback, why)
        return code, out, err

    def record(self, kind, label, failed, traceback=False, why=""):
        self.results.append(Result(kind, label, failed, traceback, why))
        if self.verbose or failed:
            print(f"  {'FAIL' if failed else 'ok  '} {kind}: {label} {why}", file=sys.stderr)


def _limit_file_size(limit: int) -> None:
    """A full disk, simulated safely: writes past `limit` bytes fail with EFBIG."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _message_lines(err: bytes) -> list[str]:
    """stderr lines that are not argparse's usage text (which precedes its one error line)."""
    lines = err.decode(errors="replace").strip().splitlines()
    return [ln for ln in lines if not ln.startswith(("usage:", " ", "\t"))]


def _raw_control(data: bytes) -> bool:
    """ESC or other C0 controls besides newline, tab and carriage return (progress bars)."""
    return any(b < 32 and b not in (9, 10, 13) for b in data) or b"\x1b" in data


# -- attacks --------------------------------------------------------------------------------
def attack_ids(h: Harness) -> None:
    for template in ID_COMMANDS:
        for bad in (str(BIG), str(2**64 + 5), "-1", "0", str(BIG - 1)):
            argv = [a.replace("{id}", bad) for a in template]
            h.check("bad ids", " ".join(argv), argv, ok=False)


def attack_values(h: Harness) -> None:
    cases = [
        (["config", "min_face_size", "0"], False),
        (["config", "min_face_size", "-5"], False),
        (["config", "min_face_size", "abc"], False),
        (["config", "device", "tpu"], False),
        (["scan", "--min-face-size", "0", "--quiet"], False),
        (["suggest", "--accept", "0"], False),
        (["suggest", "--accept", "-1"], False),
        (["suggest", "--decline", "0"], False),
        (["suggest", "--limit", "-1"], False),
        (["search", "--face", "1", "--limit", "-3"], False),
        (["search", "--face", "1", "--threshold", "nan"], False),
        (["cluster", "--threshold", "nan"], False),
        (["cluster", "--min-size", "0"], False),
        (["name", "1", "x" * 100_000], False),
        (["stats"], True),
    ]
    for argv, ok in cases:
        h.check("bad values", " ".join(a[:20] for a in argv), argv, ok=ok)
    # a bad setting written behind the CLI's back must not crash every later scan
    lib = h.fresh_library()
    with sqlite3.connect(lib) as db:
        db.execute("INSERT OR REPLACE INTO settings VALUES ('min_face_size', '{\"v\": 0}')")
    h.check("bad values", "stored min_face_size 0 then scan", ["scan", "--quiet"], library=lib)


def attack_files(h: Harness) -> None:
    d = h.work / "files"
    d.mkdir()
    fifo = d / "pipe.jpg"
    os.mkfifo(fifo)
    (d / "random.jpg").write_bytes(random.Random(1).randbytes(5000))
    (d / "empty.jpg").write_bytes(b"")
    (d / "adir.jpg").mkdir()
    unreadable = d / "secret.jpg"
    unreadable.write_bytes(b"x")
    unreadable.chmod(0)
    targets = [d / "missing.jpg", fifo, d / "random.jpg", d / "empty.jpg", d / "adir.jpg"]
    targets += [unreadable]  # not /dev/zero: an unguarded reader would eat all memory
    for target in targets:
        for argv in (["detect", str(target)], ["search", "--image", str(target)]):
            h.check(
                "bad files", " ".join(argv[:-1]) + " " + target.name, argv, ok=False, timeout=30
            )
    for bad in (d / "missing.txt", fifo, d / "adir.jpg"):
        argv = ["verify", "--pairs", str(bad), "--images", str(d)]
        h.check("bad files", f"verify --pairs {bad.name}", argv, ok=False, timeout=20)


def _library_variants(h: Harness) -> dict[str, Path]:
    d = h.work / "libs"
    d.mkdir()
    out = {}
    out["folder"] = d / "folder.db"
    out["folder"].mkdir()
    out["random bytes"] = d / "random.db"
    out["random bytes"].write_bytes(random.Random(2).randbytes(64 * 1024))
    data = h.base_library.read_bytes()
    out["truncated"] = d / "truncated.db"
    out["truncated"].write_bytes(data[: len(data) // 3])
    out["overwritten pages"] = d / "pages.db"
    damaged = bytearray(data)
    rng = random.Random(3)
    for _ in range(20):
        page = rng.randrange(1, max(2, len(data) // 4096))
        damaged[page * 4096 : page * 4096 + 4096] = rng.randbytes(4096)
    out["overwritten pages"].write_bytes(bytes(damaged))
    out["user_version 99"] = d / "uv99.db"
    shutil.copy(h.base_library, out["user_version 99"])
    with sqlite3.connect(out["user_version 99"]) as db:
        db.execute("PRAGMA user_version=99")
    _checkpoint(out["user_version 99"])
    out["unknown migration"] = d / "unknown.db"
    shutil.copy(h.base_library, out["unknown migration"])
    with sqlite3.connect(out["unknown migration"]) as db:
        db.execute("INSERT INTO schema_migrations VALUES ('9999_from_the_future', '2030-01-01')")
    _checkpoint(out["unknown migration"])
    if os.geteuid() != 0:  # root writes through any permission: nothing to test there
        ro = d / "ro"
        ro.mkdir()
        out["read-only"] = ro / "library.db"
        shutil.copy(h.base_library, out["read-only"])
        out["read-only"].chmod(0o444)
        ro.chmod(0o555)
    out["missing parent (file)"] = d / "random.db" / "library.db"
    return out


def _checkpoint(path: Path) -> None:
    """Move the tampering out of the WAL into the file, so a later change is face-album's."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def attack_libraries(h: Harness) -> None:
    for name, path in _library_variants(h).items():
        expect = name == "read-only"
        for argv in (["stats"], ["people"], ["export"], ["scan", "--quiet", str(h.photos)]):
            ok = (None if argv[0] != "scan" else False) if expect else False
            before = _digest(path)
            h.check("bad libraries", f"{name}: {argv[0]}", argv, ok=ok, library=path)
            if name in ("user_version 99", "unknown migration") and _digest(path) != before:
                h.record("bad libraries", f"{name}: {argv[0]} wrote to it", True)


def _digest(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return b"".join(p.read_bytes() for p in (path, wal) if p.is_file())


def attack_output(h: Harness) -> None:
    lib = h.fresh_library()
    for argv in (["export"], ["people"], ["stats"], ["undo", "--list"], ["models"]):
        h.check("output", f"{argv[0]} | head -c 1", argv, library=lib, shell_tail="| head -c 1")
    evil = "Eve\x1b[2J\nforged line\x07\u202e"
    h.check("output", "name with ESC/newline", ["name", "1", evil], library=lib)
    for argv in (["people"], ["person", "1"], ["suggest"], ["export"]):
        h.check("output", f"{argv[0]} after an evil name", argv, library=lib, ok=True)
    d = h.work / "export"
    d.mkdir()
    readonly = d / "ro.json"
    readonly.write_text("keep")
    readonly.chmod(0o444)
    link = d / "link.json"
    link.symlink_to(d / "elsewhere.json")
    fifo = d / "fifo.json"
    os.mkfifo(fifo)
    cases = {
        "missing folder": d / "nope" / "out.json",
        "a folder": d,
        "read-only file": readonly,
        "symlink": link,
        "a FIFO": fifo,
    }  # never a device such as /dev/full: an unguarded export replaces the device node
    for label, target in cases.items():
        h.check("export", label, ["export", "-o", str(target)], ok=False, library=lib, timeout=20)
    full = ["export", "-o", str(d / "full.json")]
    h.check("export", "disk full", full, ok=False, library=lib, max_file=2000)
    h.record("export", "disk full: no file", (d / "full.json").exists(), why="written")
    leftovers = [p.name for p in d.iterdir() if p.name.endswith((".part", ".tmp"))]
    h.record("export", "no temp file left", bool(leftovers), why=str(leftovers))
    h.record("export", "read-only file kept", readonly.read_text() != "keep", why="replaced")
    h.record("export", "symlink kept", not link.is_symlink(), why="replaced by a file")


def attack_hostile_scan(h: Harness) -> None:
    d = h.work / "hostile"
    d.mkdir()
    photo = next(iter(sorted(h.photos.iterdir())))
    good = photo.read_bytes()
    shutil.copy(photo, d / "good.jpg")
    (d / "trunc.jpg").write_bytes(good[: len(good) // 2])
    (d / "random.png").write_bytes(random.Random(4).randbytes(3000))
    (d / "zero.jpg").write_bytes(b"")
    os.mkfifo(d / "fifo.jpg")
    (d / "loop").symlink_to(d)
    (d / "dangling.jpg").symlink_to(d / "nowhere.jpg")
    (d / "locked.jpg").write_bytes(good)
    (d / "locked.jpg").chmod(0)
    with open(d / "huge.jpg", "wb") as f:  # sparse: 3 GB that take no disk
        f.truncate(3 * 2**30)
    (d / "header_only.avif").write_bytes(b"\x00\x00\x00\x1cftypavif" + b"\x00" * 100)
    for name in (b"caf\xe9.jpg", b"esc\x1b[31m\nline.jpg"):
        with open(os.path.join(os.fsencode(d), name), "wb") as handle:
            handle.write(good)
    before = _tree_state(d)
    lib = h.fresh_library()
    argv = ["scan", "--quiet", str(d)]
    code, out, err = h.check("hostile scan", "scan hostile folder", argv, library=lib, ok=True)
    h.check("hostile scan", "rescan hostile folder", argv, library=lib, ok=True)
    h.check("hostile scan", "export after hostile scan", ["export"], library=lib, ok=True)
    h.check("hostile scan", "stats after hostile scan", ["stats"], library=lib, ok=True)
    h.record("hostile scan", "photo folder untouched", _tree_state(d) != before, why="changed")
    with sqlite3.connect(lib) as db:
        name = b"caf\xe9.jpg"  # stored as its bytes (a BLOB): lossless
        query = "SELECT count(*) FROM photos WHERE CAST(relpath AS BLOB) = ?"
        count = db.execute(query, (name,)).fetchone()[0]
    h.record("hostile scan", "non-UTF-8 name stored", count != 1, why=f"{count} rows")


def _tree_state(folder: Path) -> list:
    state = []
    for entry in sorted(os.scandir(os.fsencode(folder)), key=lambda e: e.name):
        info = entry.stat(follow_symlinks=False)
        state.append((entry.name, info.st_mode, info.st_size, info.st_mtime_ns))
    return state


def attack_concurrency(h: Harness) -> None:
    lib = Path(tempfile.mkdtemp(dir=h.work)) / "library.db"
    procs = [_spawn(h, lib, ["scan", "--quiet", str(h.photos)]) for _ in range(2)]
    _finish(h, "concurrency", "two scans of one new library", procs)
    for n in range(3):
        lib = Path(tempfile.mkdtemp(dir=h.work)) / "library.db"
        procs = [_spawn(h, lib, ["stats"]) for _ in range(3)]
        _finish(h, "concurrency", f"three processes open a new library #{n}", procs, all_ok=True)


def _spawn(h: Harness, lib: Path, argv: list[str]) -> subprocess.Popen:
    cmd = [h.python, "-m", "album", "--library", str(lib), *argv]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(h, kind, label, procs, all_ok=False) -> None:
    outs = [(p.wait(300), *p.communicate()) for p in procs]
    tracebacks = any(b"Traceback" in err for _, _, err in outs)
    failed = tracebacks or (all_ok and any(code != 0 for code, _, _ in outs))
    if not all_ok:  # one may refuse ("another scan is running"), none may crash
        failed = failed or all(code != 0 for code, _, _ in outs)
    why = "; ".join(err.decode(errors="replace").strip()[-120:] for c, _, err in outs if c)
    h.record(kind, label, failed, tracebacks, why)


def _bin_packs(d: Path) -> dict[str, Path]:
    """Hostile insightface .bin packs: random, damaged, wrong shapes, a pickle naming a global."""
    import pickle

    good = pickle.dumps(([b"\xff\xd8jpeg", b"\xff\xd8jpeg"], [True]), protocol=2)
    packs = {
        "random bytes": random.Random(5).randbytes(4096),
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "an int": pickle.dumps(7),
        "a dict": pickle.dumps({"a": 1}),
        "ints not lists": pickle.dumps((1, 2)),
        "count mismatch": pickle.dumps(([b"a"], [True, False])),
        "huge length": b"\x80\x02B\xff\xff\xff\x7f",
        "global os.system": b"cos\nsystem\n(S'touch /tmp/pwned'\ntR.",
        "images not bytes": pickle.dumps(([1, 2], [True])),
    }
    out = {}
    for name, data in packs.items():
        out[name] = d / (name.replace(" ", "_").replace(".", "_") + ".bin")
        out[name].write_bytes(data)
    out["a folder"] = d / "folder.bin"
    out["a folder"].mkdir()
    return out


def attack_kills(h: Harness, rounds: int = 6) -> None:
    """SIGKILL a scan of a new library at a random moment of its clean duration, then scan again:
    the library must equal a clean one (integrity ok, same photos and faces, no duplicates,
    nothing left ungrouped). One try per round; a round whose scan finished first is redone."""
    import signal
    import time

    rng = random.Random(9)
    done = 0
    while done < rounds:
        lib = Path(tempfile.mkdtemp(dir=h.work)) / "library.db"
        child = _spawn(h, lib, ["scan", "--quiet", str(h.photos)])
        at = rng.uniform(0.1, 1.0) * h.clean_seconds
        time.sleep(at)
        if child.poll() is not None:
            child.communicate()
            continue  # finished before the kill: not a kill, try again
        child.send_signal(signal.SIGKILL)
        child.communicate()
        done += 1
        code, _, err = h.run(["scan", "--quiet", str(h.photos)], library=lib, timeout=600)
        problems = _kill_problems(h, lib)
        tb = b"Traceback" in err
        why = f"exit {code}" if code != 0 else "; ".join(problems)
        h.record("kills", f"scan killed at {at:.1f} s, then resumed", bool(why) or tb, tb, why)


def _kill_problems(h: Harness, lib: Path) -> list[str]:
    with sqlite3.connect(lib) as db:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        dupes = db.execute(
            "SELECT count(*) FROM (SELECT root_id, relpath FROM photos GROUP BY 1, 2 "
            "HAVING count(*) > 1)"
        ).fetchone()[0]
        got = db.execute("SELECT count(*), (SELECT count(*) FROM faces) FROM photos").fetchone()
        grouped = db.execute("SELECT count(*) FROM faces WHERE person_id IS NOT NULL").fetchone()
        pending = str(
            db.execute("SELECT value FROM settings WHERE key = 'grouping_pending'").fetchall()
        )
    with sqlite3.connect(h.base_library) as db:
        want = db.execute("SELECT count(*), (SELECT count(*) FROM faces) FROM photos").fetchone()
        want_grouped = db.execute(
            "SELECT count(*) FROM faces WHERE person_id IS NOT NULL"
        ).fetchone()
    problems = [] if check == "ok" else [f"integrity: {check}"]
    problems += [f"{dupes} duplicate photos"] if dupes else []
    problems += [] if got == want else [f"photos, faces {got} != {want}"]
    problems += [] if grouped == want_grouped else [f"grouped {grouped} != {want_grouped}"]
    problems += ["grouping still pending"] if "true" in pending else []
    return problems


def attack_training(h: Harness) -> None:
    d = h.work / "training"
    d.mkdir()
    (d / "random.safetensors").write_bytes(random.Random(6).randbytes(4096))
    cases = [
        ["export", str(d / "missing.ckpt.safetensors"), "--out", str(d / "o")],
        ["export", str(d / "random.safetensors"), "--out", str(d / "o")],
        ["train", "--data", str(d / "missing")],
        ["train", "--data", str(d / "random.safetensors")],
        ["evaluate", "--model", str(d / "random.safetensors"), "--bin", str(d / "x.bin")],
    ]
    for pack in _bin_packs(d).values():
        cases.append(["evaluate", "--backbone", "dlib_resnet", "--bin", str(pack)])
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for argv in cases:
        try:
            done = subprocess.run(
                [h.python, "-m", "training", *argv],
                cwd=REPO,
                capture_output=True,
                timeout=120,
                env=env,
            )
            code, err = done.returncode, done.stderr
        except subprocess.TimeoutExpired:
            code, err = None, b"TIMEOUT"
        tb = b"Traceback (most recent call last)" in err
        bad = tb or code is None or code == 0 or Path("/tmp/pwned").exists()
        last = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        kind = "training .bin" if argv[-1].endswith(".bin") else "training cli"
        h.record(kind, " ".join(a[-24:] for a in argv), bad, tb, last[0][:120])


ATTACKS = {
    "ids": attack_ids,
    "values": attack_values,
    "files": attack_files,
    "libraries": attack_libraries,
    "output": attack_output,
    "hostile": attack_hostile_scan,
    "concurrency": attack_concurrency,
    "kills": attack_kills,
    "training": attack_training,
}


def build_base(h: Harness, photos: Path) -> None:
    import time

    start = time.perf_counter()
    code, _, err = h.run(["scan", "--quiet", str(photos)], library=h.base_library, timeout=600)
    h.clean_seconds = time.perf_counter() - start
    if code != 0:
        sys.exit(f"could not build the base library: {err.decode(errors='replace')[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=FACES_DEV)
    parser.add_argument("--count", type=int, default=6, help="photos in the base library")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--kinds", default=",".join(ATTACKS))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attack-") as tmp:
        work = Path(tmp)
        photos = work / "photos"
        photos.mkdir()
        for source in sorted(args.photos.glob("*.jpg"))[: args.count]:
            shutil.copy(source, photos / source.name)
        h = Harness(args.python, work, work / "base" / "library.db", photos, verbose=args.verbose)
        h.base_library.parent.mkdir()
        build_base(h, photos)
        for kind in args.kinds.split(","):
            ATTACKS[kind](h)
        _restore_permissions(work)
    print_table(h.results)
    return 0


def _restore_permissions(work: Path) -> None:
    for folder, dirs, files in os.walk(work):
        for name in dirs + files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IRWXU)


def print_table(results: list[Result]) -> None:
    rows = defaultdict(lambda: [0, 0, 0])
    for r in results:
        row = rows[r.kind]
        row[0] += 1
        row[1] += r.traceback
        row[2] += r.failed
    print("| kind | tries | tracebacks | failed |\n|---|---|---|---|")
    for kind, (tries, tracebacks, failed) in rows.items():
        print(f"| {kind} | {tries} | {tracebacks} | {failed} |")
    total = [sum(v[i] for v in rows.values()) for i in range(3)]
    print(f"| **all** | {total[0]} | {total[1]} | {total[2]} |")


if __name__ == "__main__":
    sys.exit(main())
