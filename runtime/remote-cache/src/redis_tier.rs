//! A Redis server as a remote tier (and the one place single-flight locks live).

use std::time::Duration;

use futures_util::StreamExt;
use redis::{
    AsyncConnectionConfig, Client, IntoConnectionInfo, aio::MultiplexedConnection,
    io::tcp::TcpSettings,
};
use tokio::sync::Mutex;

use crate::{TierCounts, error::RemoteError, parts::Parts, remote::TierStats};

/// The prefix of every key wasm-prof writes.
const PREFIX: &str = "wasm-prof/";
/// The hash of counters every process adds its own to.
const STATS: &str = "wasm-prof/stats";
/// An artifact is fetched in ranges of this many bytes, each handed on as it arrives. The
/// client copies every reply into a new allocation (and its read buffer grows to twice a
/// reply); with a few ranges of this size alive at a time, and the allocator told to keep
/// what they free ([`crate::freed_memory`]), each reply reuses the pages of one written
/// before, where whole artifacts (or many 1 MiB replies) took fresh pages that the kernel had
/// to fault in and zero — about 2.8 µs a page on this project's VM, more than the transfer.
/// Measured on loopback, 7zip's 4.2 MiB, alternating runs: 256 KiB with 2 in flight was
/// fastest; 64 KiB and 128 KiB (2 to 8 in flight) faulted less but spent more in per-request
/// work, 512 KiB and 1 MiB faulted more.
const RANGE: u64 = 256 << 10;
/// How many range requests are in flight on the connection at once: enough to keep the
/// server sending while the client decodes the last reply.
const IN_FLIGHT: usize = 2;

/// One Redis server, with one multiplexed connection made on first use.
pub(crate) struct RedisTier {
    client: Client,
    config: AsyncConnectionConfig,
    connection: Mutex<Option<MultiplexedConnection>>,
}

impl RedisTier {
    /// A tier for `url` (already checked by [`crate::TierUrl::parse`]); connects on first use,
    /// within `connect_timeout`; responses may take up to `response_timeout` (a whole artifact).
    pub(crate) fn new(
        url: &str,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Self, RemoteError> {
        let info = url.into_connection_info()?;
        // Naming the client library (`CLIENT SETINFO`) would cost a round trip before the
        // first request, which a start waits for when its module hashes quickly.
        let redis = info.redis_settings().clone().set_skip_set_lib_name();
        Ok(Self {
            // Requests are small and answered at once, several in flight: Nagle's algorithm
            // would hold each one back until the previous one's acknowledgement.
            client: Client::open(
                info.set_redis_settings(redis)
                    .set_tcp_settings(TcpSettings::default().set_nodelay(true)),
            )?,
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(Some(connect_timeout))
                .set_response_timeout(Some(response_timeout)),
            connection: Mutex::new(None),
        })
    }

    pub(crate) async fn connection(&self) -> Result<MultiplexedConnection, RemoteError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = &*slot {
            return Ok(connection.clone());
        }
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Runs `command`; a broken connection is dropped so that the next request reconnects.
    async fn query<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> Result<T, RemoteError> {
        let mut connection = self.connection().await?;
        match command.query_async(&mut connection).await {
            Ok(value) => Ok(value),
            Err(e) => {
                self.forget_broken(&e).await;
                Err(e.into())
            }
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        self.query(redis::cmd("GET").arg(format!("{PREFIX}{key}")))
            .await
    }

    /// Hands the value of `key` on to `parts`, fetched in ranges with a few requests in flight
    /// on the one connection, each range handed on as it arrives; `false` when the key does
    /// not exist.
    pub(crate) async fn fetch(&self, key: &str, parts: &mut Parts) -> Result<bool, RemoteError> {
        let key = format!("{PREFIX}{key}");
        let len = parts.remaining().max(1);
        let connection = self.connection().await?;
        let requests = (0..len).step_by(RANGE as usize).map(|start| {
            let (mut connection, key) = (connection.clone(), &key);
            let end = start.saturating_add(RANGE).min(len) - 1;
            async move {
                redis::cmd("GETRANGE")
                    .arg(key)
                    .arg(start)
                    .arg(end)
                    .query_async::<Vec<u8>>(&mut connection)
                    .await
            }
        });
        let mut ranges = futures_util::stream::iter(requests).buffered(IN_FLIGHT);
        while let Some(part) = ranges.next().await {
            let part = match part {
                Ok(part) => part,
                Err(e) => {
                    self.forget_broken(&e).await;
                    return Err(e.into());
                }
            };
            if part.is_empty() {
                // Past the end of what is stored: a missing key, or a shorter value (which the
                // caller finds by its length).
                return Ok(parts.sent() > 0);
            }
            parts.send(part).await?;
        }
        Ok(true)
    }

    /// Drops the connection after an error that broke it, so that the next request reconnects.
    async fn forget_broken(&self, e: &redis::RedisError) {
        if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() {
            *self.connection.lock().await = None;
        }
    }

    pub(crate) async fn put(&self, key: &str, value: &[u8]) -> Result<(), RemoteError> {
        self.query(redis::cmd("SET").arg(format!("{PREFIX}{key}")).arg(value))
            .await
    }

    pub(crate) async fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        self.query(redis::cmd("EXISTS").arg(format!("{PREFIX}{key}")))
            .await
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        self.query::<i64>(redis::cmd("DEL").arg(format!("{PREFIX}{key}")))
            .await
            .map(drop)
    }

    /// Sets `key` to `token` unless it exists, expiring after `ttl`: whether it was set.
    pub(crate) async fn lock(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, RemoteError> {
        let set: Option<String> = self
            .query(
                redis::cmd("SET")
                    .arg(format!("{PREFIX}{key}"))
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl.as_millis().max(1) as u64),
            )
            .await?;
        Ok(set.is_some())
    }

    /// Adds one process's `counts` to the server's hash of counters, shared by every process
    /// using this server.
    pub(crate) async fn add_counts(&self, counts: &TierCounts) -> Result<(), RemoteError> {
        let mut pipe = redis::pipe();
        for (field, value) in counts.fields() {
            if value > 0 {
                pipe.cmd("HINCRBY")
                    .arg(STATS)
                    .arg(field)
                    .arg(value)
                    .ignore();
            }
        }
        let mut connection = self.connection().await?;
        match pipe.query_async::<()>(&mut connection).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.forget_broken(&e).await;
                Err(e.into())
            }
        }
    }

    pub(crate) async fn stats(&self) -> Result<TierStats, RemoteError> {
        let counted: std::collections::HashMap<String, u64> =
            self.query(redis::cmd("HGETALL").arg(STATS)).await?;
        let field = |name: &str| counted.get(name).copied().unwrap_or(0);
        let mut stats = TierStats {
            counted: Some(TierCounts {
                hits: field("hits"),
                misses: field("misses"),
                errors: field("errors"),
                bytes_fetched: field("bytes_fetched"),
                bytes_stored: field("bytes_stored"),
            }),
            ..TierStats::default()
        };
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .query(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(format!("{PREFIX}*"))
                        .arg("COUNT")
                        .arg(1000),
                )
                .await?;
            for key in keys {
                let Some(key) = key.strip_prefix(PREFIX) else {
                    continue;
                };
                if key.starts_with("ac/") {
                    stats.actions += 1;
                } else if key.starts_with("cas/") {
                    stats.artifacts += 1;
                    stats.artifact_bytes += self
                        .query::<u64>(redis::cmd("STRLEN").arg(format!("{PREFIX}{key}")))
                        .await?;
                }
            }
            if next == 0 {
                return Ok(stats);
            }
            cursor = next;
        }
    }
}
