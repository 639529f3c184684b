//! Which hash algorithm to key the compiled-module cache with on this CPU.

use crate::model::{HashResult, Pick, Recommendation};

fn pick(result: &HashResult) -> Pick {
    Pick {
        algo: result.algo.clone(),
        bytes_per_s: result.bytes_per_s,
        cryptographic: result.cryptographic,
    }
}

/// Recommends the fastest cryptographic algorithm and names the fastest overall, judged on the
/// largest buffer measured (modules are megabytes). `None` when nothing ran.
pub fn recommend(results: &[HashResult]) -> Option<Recommendation> {
    let size_bytes = results.iter().map(|r| r.size_bytes).max()?;
    let at_size: Vec<&HashResult> = results
        .iter()
        .filter(|r| r.size_bytes == size_bytes)
        .collect();
    let fastest_of = |only_crypto: bool| {
        at_size
            .iter()
            .filter(|r| r.cryptographic || !only_crypto)
            .max_by(|a, b| a.bytes_per_s.total_cmp(&b.bytes_per_s))
            .map(|r| pick(r))
    };
    let fastest = fastest_of(false)?;
    let caveat = (!fastest.cryptographic).then(|| {
        format!(
            "{} is not cryptographic: a crafted module can be made to collide with a cached one \
             and run its code, so use it only when every module is trusted",
            fastest.algo
        )
    });
    Some(Recommendation {
        size_bytes,
        cryptographic: fastest_of(true),
        fastest,
        caveat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(algo: &str, cryptographic: bool, size_bytes: u64, bytes_per_s: f64) -> HashResult {
        HashResult {
            algo: algo.to_string(),
            cryptographic,
            size_bytes,
            median_ns: 1.0,
            min_ns: 1,
            max_ns: 1,
            mad_ns: 0.0,
            samples_ns: vec![1],
            bytes_per_s,
        }
    }

    #[test]
    fn picks_on_the_largest_size() {
        let results = [
            result("sha256", true, 1024, 9e9),
            result("sha256", true, 4096, 1e9),
            result("blake3", true, 4096, 3e9),
            result("xxh3", false, 4096, 20e9),
        ];
        let r = recommend(&results).unwrap();
        assert_eq!(r.size_bytes, 4096);
        assert_eq!(r.cryptographic.unwrap().algo, "blake3");
        assert_eq!(r.fastest.algo, "xxh3");
        assert!(r.caveat.unwrap().contains("collide"));
        assert!(recommend(&[]).is_none());
    }
}
