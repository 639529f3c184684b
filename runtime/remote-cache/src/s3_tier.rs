//! An S3-compatible object store as a remote tier.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    aws::{AmazonS3Builder, AmazonS3ConfigKey},
    path::Path,
};

use crate::{error::RemoteError, parts::Parts, remote::TierStats};

/// A bucket and a prefix in it.
pub(crate) struct S3Tier {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl S3Tier {
    /// A tier for `bucket` and `prefix`, configured by `aws_env` (the `AWS_*` variables:
    /// endpoint, region, credentials, `AWS_ALLOW_HTTP`), with a `connect_timeout` and a
    /// `request_timeout` for a whole artifact.
    pub(crate) fn new(
        bucket: &str,
        prefix: &str,
        aws_env: &[(String, String)],
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<Self, RemoteError> {
        let mut builder = AmazonS3Builder::new();
        for (name, value) in aws_env {
            if let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, value);
            }
        }
        let store = builder
            .with_bucket_name(bucket)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(connect_timeout)
                    .with_timeout(request_timeout)
                    .with_allow_http(
                        aws_env
                            .iter()
                            .any(|(n, v)| n == "AWS_ALLOW_HTTP" && v == "true"),
                    ),
            )
            .with_retry(RetryConfig {
                max_retries: 1,
                retry_timeout: connect_timeout,
                ..RetryConfig::default()
            })
            .build()?;
        Ok(Self {
            store: Arc::new(store),
            prefix: prefix.to_string(),
        })
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        match self.store.get(&self.path(key)).await {
            Ok(found) => Ok(Some(found.bytes().await?.into())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Hands the object `key` on to `parts`, chunk by chunk as the body arrives; `false` when
    /// it does not exist.
    pub(crate) async fn fetch(&self, key: &str, parts: &mut Parts) -> Result<bool, RemoteError> {
        let found = match self.store.get(&self.path(key)).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let mut body = found.into_stream();
        while let Some(chunk) = body.next().await {
            parts.send(chunk?.into()).await?;
        }
        Ok(true)
    }

    pub(crate) async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), RemoteError> {
        self.store
            .put(&self.path(key), PutPayload::from(value))
            .await?;
        Ok(())
    }

    pub(crate) async fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        match self.store.head(&self.path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn stats(&self) -> Result<TierStats, RemoteError> {
        let actions = self
            .store
            .list_with_delimiter(Some(&self.path("ac")))
            .await?;
        let artifacts = self
            .store
            .list_with_delimiter(Some(&self.path("cas")))
            .await?;
        Ok(TierStats {
            actions: actions.objects.len() as u64,
            artifacts: artifacts.objects.len() as u64,
            artifact_bytes: artifacts.objects.iter().map(|o| o.size).sum(),
            // An object store has no atomic counters to add to.
            counted: None,
        })
    }
}
