//! A fleet against one real Redis: eight processes start the same module at once; one
//! compiles, seven wait for its upload and load it, and all print the same output.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::util::{repo_root, text};

/// A redis-server on a free port, with its own directory (kept until it is killed); killed
/// when dropped.
struct Redis(Child, #[allow(dead_code)] tempfile::TempDir, u16);

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--save", ""])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/install-deps.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            thread::sleep(Duration::from_millis(20));
        }
        Redis(child, dir, port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn eight_processes_compile_a_module_once() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.2);
    let module = repo_root().join("corpora/wasm/workload.wasm");
    let dir = tempfile::tempdir().unwrap();
    let secret = "5e".repeat(32);
    let nodes: Vec<_> = (0..8)
        .map(|i| {
            let profile = dir.path().join(format!("node{i}.json"));
            let child = Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
                .arg("run")
                .arg(&module)
                .arg("--cache-dir")
                .arg(dir.path().join(format!("cache{i}")))
                .args(["--cache-remote", &url])
                .arg("--profile")
                .arg(&profile)
                .env("WASM_PROF_CACHE_KEY", &secret)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (child, profile)
        })
        .collect();
    let mut paths = Vec::new();
    let mut outputs = Vec::new();
    for (child, profile) in nodes {
        let output = child.wait_with_output().unwrap();
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&profile).unwrap()).unwrap();
        paths.push(report["runs"][0]["path"].as_str().unwrap().to_string());
        outputs.push(stdout);
    }
    paths.sort();
    let mut expected = vec!["cold".to_string()];
    expected.extend(std::iter::repeat_n("remote".to_string(), 7));
    assert_eq!(paths, expected, "one compile, seven remote hits");
    assert!(!outputs[0].is_empty());
    assert!(
        outputs.iter().all(|o| *o == outputs[0]),
        "identical outputs"
    );
}

/// Runs the workload with `cache_dir` against the Redis at `url`: its stdout, its stderr and
/// the path its profile records.
fn run_workload(url: &str, cache_dir: &std::path::Path, secret: &str) -> (String, String, String) {
    let profile = tempfile::NamedTempFile::new().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wasm-prof"))
        .arg("run")
        .arg(repo_root().join("corpora/wasm/workload.wasm"))
        .arg("--cache-dir")
        .arg(cache_dir)
        .args(["--cache-remote", url])
        .arg("--profile")
        .arg(profile.path())
        .env("WASM_PROF_CACHE_KEY", secret)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(profile.path()).unwrap()).unwrap();
    let path = report["runs"][0]["path"].as_str().unwrap().to_string();
    (stdout, stderr, path)
}

#[test]
fn a_node_that_cannot_write_its_cache_runs_a_remote_hit_from_memory() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.2);
    let secret = "a7".repeat(32);
    let primer = tempfile::tempdir().unwrap();
    let (expected, _, path) = run_workload(&url, primer.path(), &secret);
    assert_eq!(path, "cold");
    // An existing directory in which no file can be created, even by root.
    let read_only = std::path::Path::new("/proc/self");
    for _ in 0..2 {
        let (stdout, stderr, path) = run_workload(&url, read_only, &secret);
        assert_eq!(path, "remote", "{stderr}");
        assert!(stderr.contains("is used from memory"), "{stderr}");
        assert_eq!(stdout, expected);
    }
}
