//! The remote tiers against real servers: redis-server processes and an in-process S3 server.
//! Every refused or failed remote is a miss (with a warning), never a wrong artifact.

mod support;

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use support::{BUCKET, FINGERPRINT, Redis, S3, key, stored_artifact};
use wasm_prof_cache::{CacheKey, CacheStore, MacKey};
use wasm_prof_remote_cache::{Found, Lookup, RemoteCache, RemoteError, RemoteOptions};

fn options() -> RemoteOptions {
    RemoteOptions {
        timeout: Duration::from_millis(500),
        wait: Duration::from_secs(5),
        aws_env: Vec::new(),
        ..RemoteOptions::default()
    }
}

fn remote(urls: &[String]) -> RemoteCache {
    RemoteCache::new(urls, options()).unwrap()
}

fn mac_key() -> MacKey {
    MacKey::from_secret(&[0x42; 32])
}

/// Compiles ("stores") an artifact in a scratch local cache and uploads it through `remote`.
fn publish(remote: &RemoteCache, key: &CacheKey, fingerprint: &str, code_len: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (path, code) = stored_artifact(dir.path(), key, fingerprint, &mac_key(), code_len);
    remote.upload(key, &mac_key(), path, None, false);
    assert_eq!(remote.wait_for_uploads(), Vec::<String>::new());
    code
}

/// Looks up, fetches and backfills `key` into a fresh local cache, as a load would.
fn load(remote: &RemoteCache, key: &CacheKey) -> Result<Vec<u8>, String> {
    let local = tempfile::tempdir().unwrap();
    let store = CacheStore::new(local.path());
    let Lookup::Hit(found) = remote.lookup(key, &mac_key()) else {
        return Err(format!("miss: {:?}", remote.take_warnings()));
    };
    let mut backfill = store.begin_backfill(&mac_key()).unwrap();
    remote
        .fetch(&found, |bytes| backfill.write(bytes))
        .map_err(|e| e.to_string())?;
    let file = backfill.file().try_clone().unwrap();
    let artifact = backfill
        .finish(key, FINGERPRINT, &mac_key())
        .map_err(|e| format!("{e:?}"))?;
    remote.promote(key, &mac_key(), &found, &file);
    // The backfilled entry is a local hit from now on.
    assert!(
        store
            .lookup(key, FINGERPRINT, &mac_key())
            .unwrap()
            .is_some()
    );
    Ok(artifact.code().to_vec())
}

#[test]
fn an_artifact_goes_up_and_comes_back_through_redis_and_s3() {
    let redis = Redis::start(&[]);
    let s3 = S3::start();
    let urls = [redis.url(), format!("s3://{BUCKET}/team")];
    let options = RemoteOptions {
        aws_env: s3.aws_env(),
        ..options()
    };
    let uploader = RemoteCache::new(&urls, options.clone()).unwrap();
    let k = key(b"module one", FINGERPRINT);
    let code = publish(&uploader, &k, FINGERPRINT, 3 << 20);
    for (tier, stats) in uploader.stats() {
        let stats = stats.unwrap();
        assert_eq!((stats.actions, stats.artifacts), (1, 1), "{tier}");
        assert!(stats.artifact_bytes > 3 << 20, "{tier}");
    }
    // A process on another node: nothing local, both tiers primed.
    let node = RemoteCache::new(&urls, options.clone()).unwrap();
    assert_eq!(load(&node, &k).unwrap(), code);
    // S3 alone (Redis flushed): a hit there is promoted back into Redis.
    redis::cmd("FLUSHALL")
        .query::<()>(&mut redis.connection())
        .unwrap();
    let s3_only = RemoteCache::new(&urls[1..], options.clone()).unwrap();
    assert_eq!(load(&s3_only, &k).unwrap(), code);
    let node = RemoteCache::new(&urls, options).unwrap();
    assert_eq!(load(&node, &k).unwrap(), code);
    assert!(node.wait_for_uploads().is_empty());
    let redis_stats = node.stats().remove(0).1.unwrap();
    assert_eq!((redis_stats.actions, redis_stats.artifacts), (1, 1));
}

#[test]
fn each_process_counts_per_tier_and_adds_its_counts_to_redis() {
    let redis = Redis::start(&[]);
    let urls = [redis.url()];
    let k = key(b"module counted", FINGERPRINT);
    let uploader = remote(&urls);
    publish(&uploader, &k, FINGERPRINT, 50_000);
    let stored = uploader.counts()[0].1;
    assert!(stored.bytes_stored > 50_000, "{stored:?}");
    let node = remote(&urls);
    assert!(matches!(
        node.lookup(&key(b"not there", FINGERPRINT), &mac_key()),
        Lookup::Miss(_)
    ));
    let code = load(&node, &k).unwrap();
    let (tier, counts) = node.counts().remove(0);
    assert_eq!(tier, urls[0]);
    assert_eq!((counts.hits, counts.misses, counts.errors), (1, 1, 0));
    assert!(counts.bytes_fetched > code.len() as u64, "{counts:?}");
    assert!(node.wait_for_uploads().is_empty());
    // Both processes added their counts to the server's, once each.
    assert!(uploader.wait_for_uploads().is_empty());
    assert!(node.wait_for_uploads().is_empty());
    let counted = node.stats().remove(0).1.unwrap().counted.unwrap();
    assert_eq!((counted.hits, counted.misses), (1, 1));
    assert_eq!(counted.bytes_fetched, counts.bytes_fetched);
    assert_eq!(counted.bytes_stored, stored.bytes_stored);
}

#[test]
fn tampered_remote_entries_are_refused_and_replaced() {
    let redis = Redis::start(&[]);
    let urls = [redis.url()];
    let uploader = remote(&urls);
    let k = key(b"module two", FINGERPRINT);
    let code = publish(&uploader, &k, FINGERPRINT, 200_000);
    let mut con = redis.connection();
    let blob: String = redis::cmd("KEYS")
        .arg("wasm-prof/cas/*")
        .query::<Vec<String>>(&mut con)
        .unwrap()
        .remove(0);
    let good: Vec<u8> = redis::cmd("GET").arg(&blob).query(&mut con).unwrap();
    let set = |con: &mut redis::Connection, value: &[u8]| {
        redis::cmd("SET")
            .arg(&blob)
            .arg(value)
            .query::<()>(con)
            .unwrap()
    };

    // Truncated: the length does not match the signed entry.
    set(&mut con, &good[..good.len() - 100]);
    let e = load(&remote(&urls), &k).unwrap_err();
    assert!(e.contains("bytes, the entry says"), "{e}");
    // A bit flipped in the code: the artifact's MAC over every byte fails.
    let mut flipped = good.clone();
    let at = flipped.len() - 1000;
    flipped[at] ^= 0x10;
    set(&mut con, &flipped);
    let e = load(&remote(&urls), &k).unwrap_err();
    assert!(e.contains("NotAuthentic"), "{e}");
    // A fresh compile uploads with `replace`, which heals the store.
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = stored_artifact(dir.path(), &k, FINGERPRINT, &mac_key(), 200_000);
    let healer = remote(&urls);
    healer.upload(&k, &mac_key(), path, None, true);
    assert!(healer.wait_for_uploads().is_empty());
    assert_eq!(load(&remote(&urls), &k).unwrap(), code);

    // An action entry signed with another secret: refused at lookup, with a warning.
    let stranger = RemoteCache::new(&urls, options()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let other_key = MacKey::from_secret(&[0x99; 32]);
    let (path, _) = stored_artifact(dir.path(), &k, FINGERPRINT, &other_key, 1000);
    stranger.upload(&k, &other_key, path, None, true);
    assert!(stranger.wait_for_uploads().is_empty());
    let node = remote(&urls);
    assert!(matches!(node.lookup(&k, &mac_key()), Lookup::Miss(_)));
    let warnings = node.take_warnings().join("\n");
    assert!(warnings.contains("MAC mismatch"), "{warnings}");

    // A genuine, correctly signed entry, but for another engine's fingerprint, put under this
    // key's name: the artifact's own header refuses it.
    let foreign = "wasm-prof another engine; aarch64";
    let foreign_key = key(b"module two", foreign);
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = stored_artifact(dir.path(), &foreign_key, foreign, &mac_key(), 1000);
    let bytes = std::fs::read(&path).unwrap();
    let entry = wasm_prof_remote_cache::ActionEntry {
        artifact: wasm_prof_cache::header_mac(&bytes).unwrap(),
        len: bytes.len() as u64,
    };
    let address = format!("wasm-prof/cas/{}", entry.address());
    redis::cmd("SET")
        .arg(&address)
        .arg(&bytes)
        .query::<()>(&mut con)
        .unwrap();
    redis::cmd("SET")
        .arg(format!("wasm-prof/ac/{}", k.file_name()))
        .arg(entry.encode(&k.file_name(), &mac_key()))
        .query::<()>(&mut con)
        .unwrap();
    let e = load(&remote(&urls), &k).unwrap_err();
    assert!(e.contains("FingerprintMismatch"), "{e}");
}

#[test]
fn a_killed_redis_is_a_warning_then_skipped() {
    let mut redis = Redis::start(&[]);
    let urls = [redis.url()];
    let node = remote(&urls);
    let k = key(b"module three", FINGERPRINT);
    let code = publish(&node, &k, FINGERPRINT, 10_000);
    // A whole load: a hit's transfer starts with its lookup, and would meet the kill below.
    assert_eq!(load(&node, &k).unwrap(), code);
    redis.kill();
    let started = Instant::now();
    assert!(matches!(node.lookup(&k, &mac_key()), Lookup::Miss(None)));
    let warnings = node.take_warnings().join("\n");
    assert!(warnings.contains("redis"), "{warnings}");
    // Skipped from now on: no new warning, no new connection attempt.
    assert!(matches!(node.lookup(&k, &mac_key()), Lookup::Miss(None)));
    assert!(node.take_warnings().is_empty());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_silent_server_times_out() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let node = remote(&[url]);
    let started = Instant::now();
    let k = key(b"module four", FINGERPRINT);
    assert!(matches!(node.lookup(&k, &mac_key()), Lookup::Miss(None)));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let warnings = node.take_warnings().join("\n");
    assert!(
        warnings.contains("failed to look up a module"),
        "{warnings}"
    );
    drop(listener);
}

#[test]
fn a_transfer_slower_than_its_timeout_is_abandoned() {
    let redis = Redis::start(&[]);
    let urls = [redis.url()];
    let k = key(b"module slow", FINGERPRINT);
    // The transfer starts with the lookup's hit, before the pause below: the artifact is
    // larger than what the transfer may receive ahead of its reader (a few pieces).
    let size = 8 << 20;
    publish(&remote(&urls), &k, FINGERPRINT, size);
    let node = RemoteCache::new(
        &urls,
        RemoteOptions {
            transfer_timeout: Duration::from_millis(300),
            ..options()
        },
    )
    .unwrap();
    let Lookup::Hit(found) = node.lookup(&k, &mac_key()) else {
        panic!("miss: {:?}", node.take_warnings());
    };
    // The server holds every client's commands for 5 s from now.
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(5000)
        .arg("ALL")
        .query::<()>(&mut redis.connection())
        .unwrap();
    let started = Instant::now();
    let mut received = 0;
    let e = node
        .fetch(&found, |bytes| {
            received += bytes.len();
            Ok(())
        })
        .unwrap_err();
    let elapsed = started.elapsed();
    // The client's own response timeout, or the transfer's, whichever fires first.
    let timed_out = match &e {
        RemoteError::Timeout(_) => true,
        RemoteError::Redis(e) => e.is_timeout(),
        _ => false,
    };
    assert!(timed_out, "{e}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(received < size, "{received} of {size} bytes");
}

#[test]
fn a_full_or_read_only_redis_is_a_warning_and_still_serves_what_it_has() {
    let full = Redis::start(&["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]);
    let node = remote(&[full.url()]);
    let dir = tempfile::tempdir().unwrap();
    let k = key(b"module five", FINGERPRINT);
    let (path, _) = stored_artifact(dir.path(), &k, FINGERPRINT, &mac_key(), 4 << 20);
    node.upload(&k, &mac_key(), path, None, false);
    let warnings = node.wait_for_uploads().join("\n");
    assert!(
        warnings.contains("failed to upload an artifact"),
        "{warnings}"
    );
    assert!(warnings.contains("OOM"), "{warnings}");
    assert!(matches!(node.lookup(&k, &mac_key()), Lookup::Miss(_)));

    // A replica is read-only: it serves the primary's entries and refuses uploads.
    let primary = Redis::start(&[]);
    let port = primary.port.to_string();
    let replica = Redis::start(&["--replicaof", "127.0.0.1", &port]);
    let k = key(b"module six", FINGERPRINT);
    let code = publish(&remote(&[primary.url()]), &k, FINGERPRINT, 50_000);
    let deadline = Instant::now() + Duration::from_secs(10);
    let replicated = |con: &mut redis::Connection| {
        redis::cmd("EXISTS")
            .arg(format!("wasm-prof/ac/{}", k.file_name()))
            .query::<bool>(con)
            .unwrap()
    };
    let mut con = replica.connection();
    while !replicated(&mut con) {
        assert!(Instant::now() < deadline, "the replica never synced");
        std::thread::sleep(Duration::from_millis(50));
    }
    let reader = remote(&[replica.url()]);
    assert_eq!(load(&reader, &k).unwrap(), code);
    let other = key(b"module seven", FINGERPRINT);
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = stored_artifact(dir.path(), &other, FINGERPRINT, &mac_key(), 1000);
    reader.upload(&other, &mac_key(), path, None, false);
    let warnings = reader.wait_for_uploads().join("\n");
    assert!(warnings.contains("read only replica"), "{warnings}");
}

#[test]
fn single_flight_one_process_compiles_the_other_waits_for_its_upload() {
    let redis = Redis::start(&[]);
    let urls = [redis.url()];
    let k = key(b"module eight", FINGERPRINT);
    let first = remote(&urls);
    let Lookup::Miss(Some(claim)) = first.lookup(&k, &mac_key()) else {
        panic!("the first process takes the lock");
    };
    let waiter = std::thread::spawn({
        let urls = urls.clone();
        move || {
            let second = remote(&urls);
            let started = Instant::now();
            let hit = matches!(second.lookup(&k, &mac_key()), Lookup::Hit(_));
            (hit, started.elapsed())
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = stored_artifact(dir.path(), &k, FINGERPRINT, &mac_key(), 10_000);
    first.upload(&k, &mac_key(), path, Some(claim), false);
    assert!(first.wait_for_uploads().is_empty());
    let (hit, waited) = waiter.join().unwrap();
    assert!(hit, "the waiting process finds the upload");
    assert!(waited >= Duration::from_millis(400), "{waited:?}");

    // A holder that gives up (its compile failed) releases the lock: the waiter compiles.
    let k = key(b"module nine", FINGERPRINT);
    let Lookup::Miss(Some(claim)) = first.lookup(&k, &mac_key()) else {
        panic!("the first process takes the lock");
    };
    let waiter = std::thread::spawn(move || {
        let second = remote(&urls);
        matches!(second.lookup(&k, &mac_key()), Lookup::Miss(None))
    });
    std::thread::sleep(Duration::from_millis(200));
    drop(claim);
    assert!(waiter.join().unwrap());
}

#[test]
fn bad_urls_are_one_clear_error() {
    for url in ["http://cache:80", "s3://", "ftp://x"] {
        let e = RemoteCache::new(&[url.to_string()], options()).unwrap_err();
        assert!(matches!(e, RemoteError::BadUrl { .. }), "{url}: {e}");
    }
}

/// How many `GETRANGE`s the Redis behind `connection` has served since its last reset.
fn ranges_served(connection: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(connection)
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("cmdstat_getrange:calls="))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

/// Threads that look up different modules before fetching them each continue the transfer
/// their own lookup started, in whatever order they fetch: Redis serves each artifact's ranges
/// once, as many as when every lookup is followed by its fetch.
#[test]
fn lookups_before_fetches_in_another_order_each_continue_their_own_transfer() {
    let redis = Redis::start(&[]);
    let urls = [redis.url()];
    let node = remote(&urls);
    let keys = [key(b"module a", FINGERPRINT), key(b"module b", FINGERPRINT)];
    for (k, len) in keys.iter().zip([700_000, 1_100_000]) {
        publish(&node, k, FINGERPRINT, len);
    }
    let mut connection = redis.connection();
    let found = |k: &CacheKey| match node.lookup(k, &mac_key()) {
        Lookup::Hit(found) => found,
        Lookup::Miss(_) => panic!("miss: {:?}", node.take_warnings()),
    };
    let fetch = |found: &Found| node.fetch(found, |_| Ok(())).unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut connection)
        .unwrap();
    for k in &keys {
        fetch(&found(k));
    }
    let one_after_another = ranges_served(&mut connection);
    assert!(one_after_another >= 2);
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut connection)
        .unwrap();
    let hits: Vec<_> = keys.iter().map(found).collect();
    for hit in hits.iter().rev() {
        fetch(hit);
    }
    assert_eq!(ranges_served(&mut connection), one_after_another);
    assert_eq!(node.take_warnings(), Vec::<String>::new());
}
