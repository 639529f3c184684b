//! Stub: filled in by its owner.

use wasmparser::Operator;

use super::Translator;
use crate::error::Result;

/// Translates one of this file's operators; `false` when `op` is not one.
pub(super) fn translate(_t: &mut Translator, _op: &Operator) -> Result<bool> {
    Ok(false)
}
