//! Remote tier URLs: which kind of store, and where.

use std::fmt;

use crate::error::RemoteError;

/// A remote tier as named on the command line or in `WASM_PROF_CACHE_REMOTE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TierUrl {
    /// A Redis server: `redis://[USER:PASSWORD@]HOST[:PORT][/DB]`.
    Redis(String),
    /// An S3-compatible bucket, `s3://BUCKET[/PREFIX]`; endpoint, region and credentials come
    /// from the usual `AWS_*` variables.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix inside it, without leading or trailing slashes (may be empty).
        prefix: String,
    },
}

impl TierUrl {
    /// Parses one URL.
    ///
    /// # Errors
    /// [`RemoteError::BadUrl`] for another scheme, an empty bucket, or a Redis URL its client
    /// rejects.
    pub fn parse(url: &str) -> Result<Self, RemoteError> {
        let bad = |reason: &str| RemoteError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if url.starts_with("redis://") || url.starts_with("rediss://") {
            redis::Client::open(url).map_err(|e| bad(&e.to_string()))?;
            return Ok(TierUrl::Redis(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("the bucket name is empty"));
            }
            return Ok(TierUrl::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            });
        }
        Err(bad("unknown scheme"))
    }

    /// Splits a list of URLs separated by commas or whitespace (`WASM_PROF_CACHE_REMOTE`).
    pub fn split_list(list: &str) -> Vec<String> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl fmt::Display for TierUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Never print a password.
            TierUrl::Redis(url) => match redis::Client::open(url.as_str()) {
                Ok(client) => {
                    let info = client.get_connection_info();
                    write!(f, "redis://{}", info.addr())
                }
                Err(_) => f.write_str("redis://?"),
            },
            TierUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            TierUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_or_say_why_not() {
        assert_eq!(
            TierUrl::parse("s3://bucket/some/prefix/").unwrap(),
            TierUrl::S3 {
                bucket: "bucket".into(),
                prefix: "some/prefix".into()
            }
        );
        assert_eq!(
            TierUrl::parse("s3://b").unwrap().to_string(),
            "s3://b".to_string()
        );
        let redis = TierUrl::parse("redis://user:secret@127.0.0.1:6390/2").unwrap();
        assert!(!redis.to_string().contains("secret"), "{redis}");
        assert!(redis.to_string().contains("127.0.0.1:6390"), "{redis}");
        for bad in ["", "http://x", "s3://", "s3:///prefix", "redis://[::1"] {
            let e = TierUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains("is not a remote cache URL"), "{bad}: {e}");
        }
        assert_eq!(
            TierUrl::split_list(" redis://a:1, s3://b/c\ns3://d "),
            ["redis://a:1", "s3://b/c", "s3://d"]
        );
    }
}
