//! Real servers for the tests: redis-server processes and an in-process S3-compatible server
//! (s3s-fs), each on a free loopback port, stopped when dropped.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use wasm_prof_cache::{CacheKey, CacheStore, HashAlgo, MacKey};

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A redis-server started for one test, killed when dropped.
pub struct Redis {
    child: Child,
    /// Its working directory: a replica writes the primary's snapshot there.
    _dir: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

impl Redis {
    /// A server with no persistence and these extra arguments (`--maxmemory 1mb`, ...).
    pub fn start(extra: &[&str]) -> Redis {
        // A port found free may be taken by another test's server before this one binds it:
        // then the server that answers is not ours (its process id says so), and we retry.
        for _ in 0..20 {
            let port = free_port();
            let dir = tempfile::tempdir().unwrap();
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(dir.path())
                .args(extra)
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server runs (scripts/install-deps.sh installs it)");
            let mut redis = Redis {
                child,
                _dir: dir,
                port,
            };
            if redis.answers_as_itself() {
                return redis;
            }
            redis.kill();
        }
        panic!("could not start redis-server on a free port");
    }

    /// Waits until the server on the port answers; whether it is this process.
    fn answers_as_itself(&mut self) -> bool {
        let client = redis::Client::open(self.url()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let info = client
                .get_connection()
                .and_then(|mut c| redis::cmd("INFO").arg("server").query::<String>(&mut c));
            if let Ok(info) = info {
                return info.contains(&format!("process_id:{}\r\n", self.child.id()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A plain connection, to look at or tamper with what the cache stored.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// Kills the server now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The fingerprint the tests' artifacts are compiled "by".
pub const FINGERPRINT: &str = "wasm-prof test engine; x86_64; +remote";

/// A key for a module with these bytes.
pub fn key(module: &[u8], fingerprint: &str) -> CacheKey {
    let algo = HashAlgo::Blake3;
    CacheKey::new(algo, algo.digest(module).unwrap(), fingerprint)
}

/// Stores an artifact for `key` in a local cache in `dir`, as a compile would, and returns its
/// path and its code.
pub fn stored_artifact(
    dir: &Path,
    key: &CacheKey,
    fingerprint: &str,
    mac_key: &MacKey,
    code_len: usize,
) -> (std::path::PathBuf, Vec<u8>) {
    let code: Vec<u8> = (0..code_len).map(|i| (i * 7 % 251) as u8).collect();
    let outcome = CacheStore::new(dir)
        .store(key, fingerprint, mac_key, b"metadata", &code)
        .unwrap();
    match outcome {
        wasm_prof_cache::StoreOutcome::Stored { path, .. } => (path, code),
        other => panic!("not stored: {other:?}"),
    }
}

/// An S3-compatible server (s3s-fs over a temporary directory) on its own runtime thread, with
/// one bucket, stopped when dropped.
pub struct S3 {
    runtime: Option<tokio::runtime::Runtime>,
    _root: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

/// The S3 server's credentials.
pub const S3_KEYS: (&str, &str) = ("AKTESTREMOTE", "secret-for-the-test-server");
/// The S3 server's one bucket.
pub const BUCKET: &str = "fleet";

impl S3 {
    /// Starts a server with the bucket [`BUCKET`].
    pub fn start() -> S3 {
        use hyper_util::{
            rt::{TokioExecutor, TokioIo},
            server::conn::auto::Builder,
        };
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut builder =
            s3s::service::S3ServiceBuilder::new(s3s_fs::FileSystem::new(root.path()).unwrap());
        builder.set_auth(s3s::auth::SimpleAuth::from_single(S3_KEYS.0, S3_KEYS.1));
        let service = builder.build();
        runtime.spawn(async move {
            let http = Builder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(connection);
            }
        });
        S3 {
            runtime: Some(runtime),
            _root: root,
            port,
        }
    }

    /// The `AWS_*` settings a client of this server needs.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ACCESS_KEY_ID", S3_KEYS.0.to_string()),
            ("AWS_SECRET_ACCESS_KEY", S3_KEYS.1.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
