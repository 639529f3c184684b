//! WASI preview 1 end to end: the project's own WASI programs (corpora/src/wasi-tests) run
//! through `wasi::run_command` with their stdout checked byte for byte, the sandbox, traps,
//! timeouts, and the third-party `boolector` command when it has been fetched.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use wasm_prof_runtime::{Config, Engine, Error, Module, Store, TrapKind};
use wasm_prof_wasi::{
    self as wasi, ExitStatus, InputStream, OutputPipe, OutputStream, WasiConfig, WasiError,
};

mod support;

use support::repo;

fn program(name: &str) -> PathBuf {
    repo()
        .join("corpora/wasm/wasi-tests")
        .join(format!("{name}.wasm"))
}

fn expected(name: &str) -> String {
    let path = repo()
        .join("corpora/src/wasi-tests")
        .join(format!("{name}.expected"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn engine() -> Engine {
    let mut config = Config::new();
    config.cache(false);
    Engine::new(config).unwrap()
}

/// Runs `wasm` with `config` (its stdout captured); returns the outcome and the output.
fn run_file(wasm: &Path, config: &mut WasiConfig) -> (Result<ExitStatus, WasiError>, String) {
    let engine = engine();
    let module = Module::from_file(&engine, wasm).unwrap();
    let stdout = OutputPipe::new();
    config.stdout(OutputStream::Pipe(stdout.clone()));
    let outcome = wasi::run_command(&engine, &module, config);
    (outcome, String::from_utf8(stdout.contents()).unwrap())
}

/// Runs corpus program `name` with `args` after its path as `argv[0]`.
fn run(
    name: &str,
    args: &[&str],
    config: &mut WasiConfig,
) -> (Result<ExitStatus, WasiError>, String) {
    let path = program(name);
    config
        .arg(path.to_string_lossy())
        .args(args.iter().copied());
    run_file(&path, config)
}

fn sandbox() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn args_and_environment() {
    let mut config = WasiConfig::new();
    config.env("GREETING", "hello").env("WASM_PROF", "1");
    let (status, out) = run(
        "args_env",
        &["alpha", "beta gamma", "--delta=1"],
        &mut config,
    );
    assert_eq!(status.unwrap().code, 0);
    assert_eq!(out, expected("args_env"));
}

#[test]
fn files_in_a_preopened_directory() {
    let dir = sandbox();
    let mut config = WasiConfig::new();
    config.preopen_dir(dir.path(), "/sandbox");
    let (status, out) = run("files", &["/sandbox"], &mut config);
    assert_eq!(out, expected("files"));
    assert_eq!(status.unwrap().code, 0);
    assert!(
        entries(dir.path()).is_empty(),
        "files.wasm leaves the directory as it found it"
    );
}

#[test]
fn directories_in_a_preopened_directory() {
    let dir = sandbox();
    let mut config = WasiConfig::new();
    config.preopen_dir(dir.path(), "/sandbox");
    let (status, out) = run("dirs", &["/sandbox"], &mut config);
    assert_eq!(out, expected("dirs"));
    assert_eq!(status.unwrap().code, 0);
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn clocks_and_sleep() {
    let (status, out) = run("clocks", &[], &mut WasiConfig::new());
    assert_eq!(out, expected("clocks"));
    assert_eq!(status.unwrap().code, 0);
}

#[test]
fn stdin_is_read_to_end() {
    let mut config = WasiConfig::new();
    config.stdin(InputStream::Bytes(b"hello wasm\nsecond line\n".to_vec()));
    let (status, out) = run("stdin_echo", &[], &mut config);
    assert_eq!(out, expected("stdin_echo"));
    assert_eq!(status.unwrap().code, 0);
}

#[test]
fn proc_exit_gives_the_exit_code() {
    let (status, out) = run("exit_code", &["42"], &mut WasiConfig::new());
    assert_eq!(out, expected("exit_code"));
    assert_eq!(status.unwrap(), ExitStatus { code: 42 });
}

#[test]
fn escaping_the_sandbox_is_refused() {
    let outer = sandbox();
    let root = outer.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(outer.path().join("outside.txt"), "secret\n").unwrap();
    let mut config = WasiConfig::new();
    config.preopen_dir(&root, "/sandbox");
    let (status, out) = run("escape", &["/sandbox"], &mut config);
    assert!(!out.contains("OPENED"), "{out}");
    assert_eq!(out, expected("escape"));
    assert_eq!(status.unwrap().code, 0);
}

#[test]
fn a_trap_has_a_named_backtrace() {
    let (outcome, out) = run("trap", &[], &mut WasiConfig::new());
    assert_eq!(out, expected("trap"));
    let Err(WasiError::Runtime(Error::Trap(trap))) = outcome else {
        panic!("expected a trap, got {outcome:?}");
    };
    assert_eq!(trap.kind, TrapKind::UnreachableCodeReached);
    assert_eq!(trap.exit_code, None);
    let names: Vec<&str> = trap
        .backtrace
        .iter()
        .filter_map(|f| f.func_name.as_deref())
        .collect();
    let inner = names.iter().position(|n| *n == "trap_inner");
    let middle = names.iter().position(|n| *n == "trap_middle");
    assert!(
        matches!((inner, middle), (Some(i), Some(m)) if i < m),
        "backtrace: {names:?}"
    );
}

#[test]
fn an_endless_guest_is_stopped_by_a_timeout() {
    let mut config = Config::new();
    config.cache(false).epoch_interruption(true);
    let engine = Engine::new(config).unwrap();
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
        (memory (export "memory") 1)
        (func (export "_start") (loop (drop (call $yield)) (br 0))))"#;
    let module = Module::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    store.set_epoch_deadline(1);
    let ticker = engine.clone();
    let timer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        ticker.increment_epoch();
    });
    let outcome = wasi::run_command_in(&mut store, &module, &WasiConfig::new());
    timer.join().unwrap();
    let Err(WasiError::Runtime(Error::Trap(trap))) = outcome else {
        panic!("expected an interrupt, got {outcome:?}");
    };
    assert_eq!(trap.kind, TrapKind::Interrupt);
}

#[test]
fn unprovided_functions_link_and_return_enosys() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "proc_raise" (func $raise (param i32) (result i32)))
        (import "wasi_snapshot_preview1" "not_in_preview1" (func $new (param i64) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start")
          (call $raise (i32.const 15))
          (call $new (i64.const 7))
          i32.add
          call $exit))"#;
    let engine = engine();
    let module = Module::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
    let status = wasi::run_command(&engine, &module, &WasiConfig::new()).unwrap();
    assert_eq!(status.code, 2 * 52, "ENOSYS is 52 in WASI");
}

/// Every path call refuses to leave the preopen, whichever way it is tried, with
/// `ENOTCAPABLE` (76), while the same calls inside it work.
#[test]
fn path_calls_cannot_leave_the_preopen() {
    let outer = sandbox();
    let root = outer.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(outer.path().join("outside.txt"), "secret").unwrap();
    std::fs::write(root.join("inside.txt"), "fine").unwrap();
    std::os::unix::fs::symlink("../outside.txt", root.join("escape")).unwrap();
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 100) "escape")
        (data (i32.const 110) "../outside.txt")
        (data (i32.const 130) "sub/../../x")
        (data (i32.const 150) "inside.txt")
        (data (i32.const 170) "/etc/passwd")
        (data (i32.const 190) "link")
        (func $put (param $i i32) (param $errno i32)
          (i32.store8 (i32.add (i32.const 500) (local.get $i)) (local.get $errno)))
        (func (export "_start")
          (call $put (i32.const 0) (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 6)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 400)))
          (call $put (i32.const 1) (call $stat (i32.const 3) (i32.const 1) (i32.const 110) (i32.const 14) (i32.const 400)))
          (call $put (i32.const 2) (call $unlink (i32.const 3) (i32.const 110) (i32.const 14)))
          (call $put (i32.const 3) (call $mkdir (i32.const 3) (i32.const 130) (i32.const 11)))
          (call $put (i32.const 4) (call $rename (i32.const 3) (i32.const 150) (i32.const 10)
            (i32.const 3) (i32.const 110) (i32.const 14)))
          (call $put (i32.const 5) (call $symlink (i32.const 170) (i32.const 11) (i32.const 3) (i32.const 190) (i32.const 4)))
          (call $put (i32.const 6) (call $open (i32.const 3) (i32.const 0) (i32.const 170) (i32.const 11)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 400)))
          (call $put (i32.const 7) (call $stat (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 400)))
          (call $put (i32.const 8) (call $open (i32.const 3) (i32.const 1) (i32.const 150) (i32.const 10)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 400)))
          (i32.store (i32.const 0) (i32.const 500))
          (i32.store (i32.const 4) (i32.const 9))
          (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))"#;
    let engine = engine();
    let module = Module::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
    let stdout = OutputPipe::new();
    let mut config = WasiConfig::new();
    config
        .preopen_dir(&root, ".")
        .stdout(OutputStream::Pipe(stdout.clone()));
    assert_eq!(
        wasi::run_command(&engine, &module, &config).unwrap().code,
        0
    );
    // open via an escaping link, stat/unlink `..`, mkdir through `..`, rename out, absolute
    // link target, absolute path: refused; lstat of the link and opening inside: fine.
    assert_eq!(stdout.contents(), [76, 76, 76, 76, 76, 76, 76, 0, 0]);
    assert_eq!(
        std::fs::read_to_string(outer.path().join("outside.txt")).unwrap(),
        "secret"
    );
    assert!(root.join("inside.txt").exists());
    assert!(!outer.path().join("x").exists());
}

/// `poll_oneoff` on stdin and a 10-second clock returns at once with stdin readable (and
/// the bytes available); a lone 30 ms clock returns after its deadline.
#[test]
fn poll_oneoff_reports_stdin_readiness_and_clock_deadlines() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func $emit (param $ptr i32) (param $len i32)
          (i32.store (i32.const 0) (local.get $ptr))
          (i32.store (i32.const 4) (local.get $len))
          (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
        (func (export "_start")
          ;; subscription 0 at 1000: userdata 7, fd_read on fd 0
          (i64.store (i32.const 1000) (i64.const 7))
          (i32.store8 (i32.const 1008) (i32.const 1))
          (i32.store (i32.const 1016) (i32.const 0))
          ;; subscription 1 at 1048: userdata 9, monotonic clock, 10 s relative
          (i64.store (i32.const 1048) (i64.const 9))
          (i32.store8 (i32.const 1056) (i32.const 0))
          (i32.store (i32.const 1064) (i32.const 1))
          (i64.store (i32.const 1072) (i64.const 10000000000))
          ;; events at 2000, count at 1996
          (i32.store (i32.const 1992) (call $poll (i32.const 1000) (i32.const 2000) (i32.const 2) (i32.const 1996)))
          (call $emit (i32.const 1992) (i32.const 8))
          (call $emit (i32.const 2000) (i32.const 32))
          ;; the clock alone, 30 ms
          (i64.store (i32.const 1072) (i64.const 30000000))
          (i32.store (i32.const 1992) (call $poll (i32.const 1048) (i32.const 2000) (i32.const 1) (i32.const 1996)))
          (call $emit (i32.const 1992) (i32.const 8))
          (call $emit (i32.const 2000) (i32.const 32))))"#;
    let engine = engine();
    let module = Module::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
    let stdout = OutputPipe::new();
    let mut config = WasiConfig::new();
    config
        .stdin(InputStream::Bytes(b"abc".to_vec()))
        .stdout(OutputStream::Pipe(stdout.clone()));
    let started = std::time::Instant::now();
    assert_eq!(
        wasi::run_command(&engine, &module, &config).unwrap().code,
        0
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stdin poll must not wait for the clock"
    );
    let out = stdout.contents();
    let u32_at = |at: usize| u32::from_le_bytes(out[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(out[at..at + 8].try_into().unwrap());
    // First poll: errno 0, one event: userdata 7, no error, type fd_read, 3 bytes.
    assert_eq!((u32_at(0), u32_at(4)), (0, 1));
    assert_eq!(
        (u64_at(8), out[16], out[17], out[18], u64_at(24)),
        (7, 0, 0, 1, 3)
    );
    // Second poll: one clock event with userdata 9.
    assert_eq!((u32_at(40), u32_at(44)), (0, 1));
    assert_eq!((u64_at(48), out[56], out[58]), (9, 0, 0));
}

/// A guest reading a directory through a tiny buffer: records are cut at the buffer's end,
/// the guest resumes from the last complete record's cookie, and sees `.`, `..` and the files.
#[test]
fn readdir_truncates_and_resumes_by_cookie() {
    let dir = sandbox();
    for name in ["one", "two", "three"] {
        std::fs::write(dir.path().join(name), name).unwrap();
    }
    // Reads fd 3 with a 40-byte buffer from `cookie`, writes the bytes used to stdout as one
    // byte, then the buffer.
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func $chunk (param $cookie i64)
          (call $readdir (i32.const 3) (i32.const 100) (i32.const 40) (local.get $cookie) (i32.const 96))
          (if (then (call $exit (i32.const 1))))
          (i32.store (i32.const 0) (i32.const 96))
          (i32.store (i32.const 4) (i32.const 1))
          (i32.store (i32.const 8) (i32.const 100))
          (i32.store (i32.const 12) (i32.load (i32.const 96)))
          (drop (call $write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16))))
        (func (export "_start")
          (local $cookie i64)
          (loop $more
            (call $chunk (local.get $cookie))
            ;; a full buffer holds one whole 24-byte header: continue from its d_next
            (if (i32.eq (i32.load (i32.const 96)) (i32.const 40))
              (then (local.set $cookie (i64.load (i32.const 100))) (br $more))))))"#;
    let engine = engine();
    let module = Module::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
    let stdout = OutputPipe::new();
    let mut config = WasiConfig::new();
    config
        .preopen_dir(dir.path(), ".")
        .stdout(OutputStream::Pipe(stdout.clone()));
    let status = wasi::run_command(&engine, &module, &config).unwrap();
    assert_eq!(status.code, 0);
    let out = stdout.contents();
    let mut names = Vec::new();
    let mut at = 0;
    while at < out.len() {
        let used = out[at] as usize;
        let chunk = &out[at + 1..at + 1 + used];
        at += 1 + used;
        assert!(
            used == 40 || used < 24 + 6,
            "one record per 40-byte buffer, got {used}"
        );
        if used == 0 {
            continue;
        }
        let namlen = u32::from_le_bytes(chunk[16..20].try_into().unwrap()) as usize;
        let name = &chunk[24..used.min(24 + namlen)];
        names.push(String::from_utf8_lossy(name).into_owned());
    }
    names.sort();
    assert_eq!(names, [".", "..", "one", "three", "two"]);
}

/// The real third-party WASI command `boolector` solves a bit-vector problem.
#[test]
fn boolector_solves_a_problem() {
    let Some(wasm) = support::fetched("boolector", "scripts/fetch-corpus.sh") else {
        return;
    };
    let mut config = WasiConfig::new();
    config.args(["boolector", "--version"]);
    let (status, out) = run_file(&wasm, &mut config);
    assert_eq!(status.unwrap().code, 0);
    assert_eq!(out.trim(), "3.2.3");

    let dir = sandbox();
    let smt = "(set-logic QF_BV)\n(set-option :produce-models true)\n\
               (declare-const x (_ BitVec 8))\n(declare-const y (_ BitVec 8))\n\
               (assert (= (bvadd x y) #x0a))\n(assert (bvugt x #x03))\n(assert (= y #x02))\n\
               (check-sat)\n(get-model)\n(exit)\n";
    std::fs::write(dir.path().join("problem.smt2"), smt).unwrap();
    let mut config = WasiConfig::new();
    config
        .args(["boolector", "/work/problem.smt2"])
        .preopen_dir(dir.path(), "/work");
    let (status, out) = run_file(&wasm, &mut config);
    let status = status.unwrap();
    assert!(out.starts_with("sat\n"), "{out}");
    assert!(
        out.contains("#b00001000") || out.contains("#x08"),
        "model has x = 8: {out}"
    );
    assert!(
        status.code == 0 || status.code == 10,
        "boolector exits 0 or 10 (sat): {status:?}"
    );
}

#[test]
fn a_guest_serves_connections_on_a_preopened_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        ["hello", "wasi sockets", "third"].map(|request| {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        })
    });
    // The listener comes after the directories (fd 4 here), even when added first: wasi-libc
    // stops looking for directories at the first descriptor that is not one, so the guest
    // still sees its directory and writes into it.
    let dir = sandbox();
    let mut config = WasiConfig::new();
    config
        .preopen_listener(listener)
        .preopen_dir(dir.path(), "/sandbox");
    let (status, out) = run("sock_echo", &["3", "/sandbox"], &mut config);
    assert_eq!(status.unwrap().code, 0, "{out}");
    assert_eq!(out, expected("sock_echo"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("served.txt")).unwrap(),
        "served 3\n"
    );
    assert_eq!(client.join().unwrap(), ["HELLO", "WASI SOCKETS", "THIRD"]);
}

/// A server guest's first accept is recorded, and a stop request ends it with an `Interrupt`
/// trap wherever it waits: in `poll_oneoff` (here after one connection) or in a blocking
/// `sock_accept` (before any).
#[test]
fn a_server_control_sees_the_first_accept_and_stops_the_guest() {
    for connections in [1, 0] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let control = wasi::ServerControl::new().unwrap();
        let stopper = control.clone();
        let client = std::thread::spawn(move || {
            use std::io::{Read, Write};
            for _ in 0..connections {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream.write_all(b"ping").unwrap();
                stream.shutdown(std::net::Shutdown::Write).unwrap();
                let mut answer = String::new();
                stream.read_to_string(&mut answer).unwrap();
                assert_eq!(answer, "PING");
            }
            // Let the guest reach its next wait before stopping it.
            std::thread::sleep(Duration::from_millis(100));
            stopper.stop();
        });
        let started = std::time::Instant::now();
        let mut config = WasiConfig::new();
        config
            .preopen_listener(listener)
            .server_control(control.clone());
        let (outcome, out) = run("sock_echo", &["5"], &mut config);
        client.join().unwrap();
        match outcome {
            Err(WasiError::Runtime(Error::Trap(trap))) => {
                assert_eq!(trap.kind, TrapKind::Interrupt, "{trap}")
            }
            other => panic!("expected an Interrupt trap, got {other:?}: {out}"),
        }
        assert!(control.is_stopped());
        match connections {
            0 => assert!(control.first_accept().is_none()),
            _ => {
                let at = control
                    .first_accept()
                    .expect("the guest accepted a connection");
                assert!(at > started);
            }
        }
    }
}
