//! The phase clock: where the time of a module's life goes.
//!
//! This crate depends on no other part of the runtime: every layer records its phases here.
//!
//! Every step from reading the bytes to running the program is a [`Phase`] with a fixed name (the
//! report schema depends on these names). A [`PhaseClock`] records spans of phases, per-function
//! compile timings and per-compiler-pass times. A disabled clock (the default) takes no
//! timestamps and allocates nothing, so instrumented code costs one branch per span.

#![deny(missing_docs)]

use std::{
    fmt,
    str::FromStr,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

/// One step of a module's life. The names are part of the report schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading the module file into memory.
    Read,
    /// Finding the module file's digest in the cache's stat index, which spares hashing an
    /// unchanged file.
    KeyLookup,
    /// Hashing the module bytes for the cache key.
    Hash,
    /// Looking for an artifact in the cache directory.
    CacheLookup,
    /// Looking for the module's action entry in the remote tiers (and, with single-flight,
    /// taking the lock or waiting for another process's compile).
    RemoteLookup,
    /// Fetching the artifact an action entry names from a remote tier, writing it into the
    /// cache directory and computing its MAC as it arrives.
    RemoteFetch,
    /// Checking a fetched artifact (its header, layout, checksums and the MAC computed during
    /// the fetch), renaming it into the cache directory and mapping it.
    Backfill,
    /// Mapping, verifying and publishing a cached artifact.
    CacheLoad,
    /// Parsing the module's sections and validating the module.
    ParseValidate,
    /// Translating (and validating) function bodies from wasm to Cranelift IR.
    Translate,
    /// Cranelift code generation for every function.
    Codegen,
    /// Laying out the code image, resolving relocations and publishing it executable.
    Link,
    /// Serializing the compiled module into an artifact.
    Serialize,
    /// Writing the artifact into the cache directory.
    CacheStore,
    /// Handing the artifact to the background upload to the remote tiers (the upload itself
    /// runs while the program starts).
    RemoteStore,
    /// Creating an instance: memories, tables, globals, segments.
    Instantiate,
    /// Running the module's start function.
    Start,
    /// Running the program's entry point.
    Execute,
    /// For a server: from the process's start to the first connection the guest accepted.
    /// A milestone (see [`Phase::is_milestone`]).
    Ready,
    /// For a server: from the process's start to the first complete response a client
    /// received. A milestone (see [`Phase::is_milestone`]).
    FirstResponse,
}

impl Phase {
    /// Every phase, in the order a module's life goes through them.
    pub const ALL: [Phase; 20] = [
        Phase::Read,
        Phase::KeyLookup,
        Phase::Hash,
        Phase::CacheLookup,
        Phase::RemoteLookup,
        Phase::RemoteFetch,
        Phase::Backfill,
        Phase::CacheLoad,
        Phase::ParseValidate,
        Phase::Translate,
        Phase::Codegen,
        Phase::Link,
        Phase::Serialize,
        Phase::CacheStore,
        Phase::RemoteStore,
        Phase::Instantiate,
        Phase::Start,
        Phase::Execute,
        Phase::Ready,
        Phase::FirstResponse,
    ];

    /// The phase's name as it appears in reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::KeyLookup => "key_lookup",
            Phase::Hash => "hash",
            Phase::CacheLookup => "cache_lookup",
            Phase::RemoteLookup => "remote_lookup",
            Phase::RemoteFetch => "remote_fetch",
            Phase::Backfill => "backfill",
            Phase::CacheLoad => "cache_load",
            Phase::ParseValidate => "parse_validate",
            Phase::Translate => "translate",
            Phase::Codegen => "codegen",
            Phase::Link => "link",
            Phase::Serialize => "serialize",
            Phase::CacheStore => "cache_store",
            Phase::RemoteStore => "remote_store",
            Phase::Instantiate => "instantiate",
            Phase::Start => "start",
            Phase::Execute => "execute",
            Phase::Ready => "ready",
            Phase::FirstResponse => "first_response",
        }
    }

    /// Whether the phase is a milestone: a span from the process's start to a moment
    /// (`ready`, `first_response`) that overlaps the phases before it, so it is reported on
    /// its own and never added to them.
    pub fn is_milestone(self) -> bool {
        matches!(self, Phase::Ready | Phase::FirstResponse)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a phase name that is not one of [`Phase::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown phase `{0}`")]
pub struct UnknownPhase(String);

impl FromStr for Phase {
    type Err = UnknownPhase;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownPhase(s.to_string()))
    }
}

/// One recorded span of a phase, relative to the clock's origin.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhaseSpan {
    /// Which phase.
    pub phase: Phase,
    /// Nanoseconds from the clock's origin to the start of the span.
    pub start_ns: u64,
    /// Length of the span in nanoseconds.
    pub duration_ns: u64,
}

/// Compile timings of one function, measured on the thread that compiled it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FunctionTiming {
    /// The function's index in the module's function index space.
    pub func_index: u32,
    /// Index of the worker thread that compiled it (for trace lanes).
    pub thread: u32,
    /// Nanoseconds from the clock's origin to the start of translation.
    pub start_ns: u64,
    /// Time spent translating (and validating) the body to Cranelift IR.
    pub translate_ns: u64,
    /// Time spent in Cranelift code generation.
    pub codegen_ns: u64,
    /// Bytes of machine code generated.
    pub code_bytes: u32,
}

/// Total time of one Cranelift pass, summed over every function and thread.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PassTime {
    /// Cranelift's name for the pass (`regalloc`, `vcode_lower`, ...).
    pub pass: String,
    /// Summed nanoseconds.
    pub total_ns: u64,
}

/// What a [`PhaseClock`] recorded.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// Phase spans in the order they ended.
    pub spans: Vec<PhaseSpan>,
    /// Per-function compile timings (empty when the module came from the cache).
    pub functions: Vec<FunctionTiming>,
    /// Per-Cranelift-pass totals (empty when the module came from the cache).
    pub passes: Vec<PassTime>,
}

impl PhaseRecord {
    /// Total nanoseconds recorded for `phase` (zero when it did not run).
    pub fn total_ns(&self, phase: Phase) -> u64 {
        self.spans
            .iter()
            .filter(|s| s.phase == phase)
            .map(|s| s.duration_ns)
            .sum()
    }

    /// Whether `phase` was recorded at least once.
    pub fn ran(&self, phase: Phase) -> bool {
        self.spans.iter().any(|s| s.phase == phase)
    }
}

/// A token for a span in progress; hand it back to [`PhaseClock::end`].
#[must_use = "a started span must be ended"]
pub struct SpanStart {
    phase: Phase,
    at: Option<Instant>,
}

/// Records phase spans when enabled; does nothing (and reads no clock) when disabled.
pub struct PhaseClock {
    origin: Option<Instant>,
    record: PhaseRecord,
}

impl PhaseClock {
    /// A clock that records.
    pub fn enabled() -> Self {
        Self {
            origin: Some(Instant::now()),
            record: PhaseRecord::default(),
        }
    }

    /// A clock that records nothing and costs nothing measurable.
    pub fn disabled() -> Self {
        Self {
            origin: None,
            record: PhaseRecord::default(),
        }
    }

    /// Whether this clock records.
    pub fn is_enabled(&self) -> bool {
        self.origin.is_some()
    }

    /// The instant all recorded offsets are relative to, when enabled.
    pub fn origin(&self) -> Option<Instant> {
        self.origin
    }

    /// Starts a span of `phase`.
    #[inline]
    pub fn start(&self, phase: Phase) -> SpanStart {
        SpanStart {
            phase,
            at: self.origin.map(|_| Instant::now()),
        }
    }

    /// Ends a span started with [`PhaseClock::start`] and records it.
    #[inline]
    pub fn end(&mut self, span: SpanStart) {
        if let (Some(origin), Some(at)) = (self.origin, span.at) {
            self.push(span.phase, at.duration_since(origin), at.elapsed());
        }
    }

    /// Records a span whose start and length were measured elsewhere.
    pub fn push(&mut self, phase: Phase, start: Duration, duration: Duration) {
        if self.origin.is_some() {
            self.record.spans.push(PhaseSpan {
                phase,
                start_ns: duration_ns(start),
                duration_ns: duration_ns(duration),
            });
        }
    }

    /// Records milestone `phase` (see [`Phase::is_milestone`]) reached at `at`: a span from
    /// the clock's origin to `at`.
    pub fn milestone(&mut self, phase: Phase, at: Instant) {
        if let Some(origin) = self.origin {
            self.push(phase, Duration::ZERO, at.saturating_duration_since(origin));
        }
    }

    /// Runs `f` as one span of `phase`.
    #[inline]
    pub fn time<R>(&mut self, phase: Phase, f: impl FnOnce() -> R) -> R {
        let span = self.start(phase);
        let result = f();
        self.end(span);
        result
    }

    /// Adds per-function compile timings.
    pub fn add_functions(&mut self, functions: impl IntoIterator<Item = FunctionTiming>) {
        if self.origin.is_some() {
            self.record.functions.extend(functions);
        }
    }

    /// Adds compiler pass times, each summed into any already recorded for the same pass.
    pub fn add_passes(&mut self, passes: impl IntoIterator<Item = PassTime>) {
        if self.origin.is_none() {
            return;
        }
        for time in passes {
            match self.record.passes.iter_mut().find(|p| p.pass == time.pass) {
                Some(p) => p.total_ns += time.total_ns,
                None => self.record.passes.push(time),
            }
        }
    }

    /// What was recorded so far.
    pub fn record(&self) -> &PhaseRecord {
        &self.record
    }

    /// Consumes the clock and returns what it recorded.
    pub fn into_record(self) -> PhaseRecord {
        self.record
    }
}

/// A duration in whole nanoseconds, saturating.
pub fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds between `origin` and `at`, for callers that time work on other threads.
pub fn offset_ns(origin: Instant, at: Instant) -> u64 {
    duration_ns(at.saturating_duration_since(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_names_round_trip_through_display_fromstr_and_serde() {
        for phase in Phase::ALL {
            assert_eq!(phase.name().parse::<Phase>().unwrap(), phase);
            let json = serde_json::to_string(&phase).unwrap();
            assert_eq!(json, format!("\"{}\"", phase.name()));
        }
        assert!("compile".parse::<Phase>().is_err());
    }

    #[test]
    fn disabled_clock_records_nothing() {
        let mut clock = PhaseClock::disabled();
        let span = clock.start(Phase::Hash);
        clock.end(span);
        assert!(clock.record().spans.is_empty());
        let mut clock = PhaseClock::enabled();
        clock.time(Phase::Hash, || std::hint::black_box(1 + 1));
        assert!(clock.record().ran(Phase::Hash));
    }
}
