//! Parsing and printing of sizes, durations, rates and thresholds in human units.
//!
//! Sizes are binary: `KB` and `KiB` both mean 1024 bytes, `MB` 1024², `GB` 1024³.
//! Throughput is decimal: `GB/s` means 10⁹ bytes per second, as hash benchmarks quote it.

const UNITS: [(&str, u64); 7] = [
    ("b", 1),
    ("k", 1 << 10),
    ("m", 1 << 20),
    ("g", 1 << 30),
    ("kb", 1 << 10),
    ("mb", 1 << 20),
    ("gb", 1 << 30),
];

/// Parses a byte size such as `64KB`, `1.5MiB`, `32M` or `4096`.
///
/// # Errors
/// A message naming the accepted forms when `text` is not a size.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase().replace("ib", "b");
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let unit = unit.trim();
    let multiplier = if unit.is_empty() {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, m)| *m)
            .ok_or_else(|| format!("unknown size unit in `{text}`; use B, KB, MB or GB"))?
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write it like 64KB or 32MB"))?;
    let bytes = (value * multiplier as f64).round();
    if bytes < 1.0 {
        return Err(format!("size `{text}` must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// Parses a threshold such as `5%` or `5` (both five percent) into a fraction (0.05).
///
/// # Errors
/// When `text` is not a non-negative percentage.
pub fn parse_threshold(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p / 100.0),
        _ => Err(format!("`{text}` is not a percentage; write it like 5%")),
    }
}

/// Parses a duration such as `20us`, `1.5ms` or `2s` into nanoseconds.
///
/// # Errors
/// When `text` is not a duration with a unit.
pub fn parse_duration_ns(text: &str) -> Result<f64, String> {
    humantime::parse_duration(text.trim())
        .map(|d| d.as_nanos() as f64)
        .map_err(|_| format!("`{text}` is not a duration; write it like 20us or 1ms"))
}

/// A byte count with a binary unit: `64 KiB`, `1.5 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    let units = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in units {
        if bytes >= size {
            return format!("{} {name}", trim_number(bytes as f64 / size as f64));
        }
    }
    format!("{bytes} B")
}

/// A duration in nanoseconds with three significant digits: `812 ns`, `1.25 ms`, `3.40 s`.
pub fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns.abs() >= 1e9 {
        (ns / 1e9, "s")
    } else if ns.abs() >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns.abs() >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    format!("{} {unit}", three_digits(value))
}

/// A throughput in decimal gigabytes per second: `3.21 GB/s`.
pub fn format_rate(bytes_per_s: f64) -> String {
    format!("{} GB/s", three_digits(bytes_per_s / 1e9))
}

/// A signed percentage: `+12.3%`, `-4.0%`.
pub fn format_percent(fraction: f64) -> String {
    format!("{:+.1}%", fraction * 100.0)
}

fn three_digits(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn trim_number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_binary() {
        assert_eq!(parse_size("64KB"), Ok(65536));
        assert_eq!(parse_size("64kib"), Ok(65536));
        assert_eq!(parse_size("1MB"), Ok(1 << 20));
        assert_eq!(parse_size("1.5M"), Ok(3 << 19));
        assert_eq!(parse_size("2GB"), Ok(2 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("100 B"), Ok(100));
        assert!(parse_size("12XB").is_err());
        assert!(parse_size("MB").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn thresholds_are_percentages() {
        assert_eq!(parse_threshold("5%"), Ok(0.05));
        assert_eq!(parse_threshold("10"), Ok(0.1));
        assert!(parse_threshold("-1%").is_err());
        assert!(parse_threshold("five").is_err());
    }

    #[test]
    fn human_units() {
        assert_eq!(format_bytes(65536), "64 KiB");
        assert_eq!(format_bytes(3 << 19), "1.5 MiB");
        assert_eq!(format_bytes(100), "100 B");
        assert_eq!(format_ns(812.0), "812 ns");
        assert_eq!(format_ns(1_250_000.0), "1.25 ms");
        assert_eq!(format_ns(34_000_000_000.0), "34.0 s");
        assert_eq!(format_rate(3_214_000_000.0), "3.21 GB/s");
        assert_eq!(format_percent(0.123), "+12.3%");
        assert_eq!(format_percent(-0.04), "-4.0%");
    }
}
