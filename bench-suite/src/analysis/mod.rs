//! Statistics: pure functions over samples, no I/O and no printing.

pub mod compare;
pub mod outliers;
pub mod prng;
pub mod recommend;
pub mod regression;
pub mod runs;
pub mod summary;
