//! The exception table of a code image: for every call site that has exception handlers, where
//! its frame starts and which handlers it has, in the order the unwinder tries them.
//!
//! It lives in the image's read-only data (like the trap table), so a cache hit uses it from the
//! mapped artifact without deserializing anything. Encoding, all little-endian `u32`s:
//!
//! ```text
//! sites:    count × return-address offset (image offsets, sorted)
//! records:  count × (frame offset, first handler, handler count)
//! handlers: n × (kind, value, landing-pad image offset)
//! ```
//!
//! A handler's kind is [`Handler::Tag`] (value = the module's tag index), [`Handler::CatchAll`]
//! (value unused) or [`Handler::Context`] (value = the offset from the stack pointer at the call
//! where the frame saved its `vmctx`, which the following tag handlers are matched against).

use crate::error::{ModuleError, Result};

/// One handler of a call site, in the order the unwinder tries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    /// From here on, tags are those of the instance whose `vmctx` is saved at this offset from
    /// the stack pointer at the call.
    Context {
        /// Offset from the stack pointer at the call.
        sp_offset: u32,
    },
    /// Catches exceptions of the module's tag `tag`.
    Tag {
        /// The tag's index in the module.
        tag: u32,
        /// Image offset of the landing pad.
        landing_pad: u32,
    },
    /// Catches every exception.
    CatchAll {
        /// Image offset of the landing pad.
        landing_pad: u32,
    },
}

/// A call site with handlers, as the compiler reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSite {
    /// Image offset of the call's return address.
    pub return_address: u32,
    /// The distance from the frame pointer down to the stack pointer at the call.
    pub frame_offset: u32,
    /// The handlers, in order.
    pub handlers: Vec<Handler>,
}

const CONTEXT: u32 = 0;
const TAG: u32 = 1;
const CATCH_ALL: u32 = 2;

/// Appends the encoded table of `sites` (sorted by return address) to `image`; returns the
/// number of sites.
pub fn encode(image: &mut Vec<u8>, sites: &[CallSite]) -> u32 {
    debug_assert!(sites.is_sorted_by_key(|s| s.return_address));
    let mut put = |value: u32| image.extend_from_slice(&value.to_le_bytes());
    for site in sites {
        put(site.return_address);
    }
    let mut first = 0u32;
    for site in sites {
        put(site.frame_offset);
        put(first);
        put(site.handlers.len() as u32);
        first += site.handlers.len() as u32;
    }
    for handler in sites.iter().flat_map(|s| &s.handlers) {
        let (kind, value, pad) = match *handler {
            Handler::Context { sp_offset } => (CONTEXT, sp_offset, 0),
            Handler::Tag { tag, landing_pad } => (TAG, tag, landing_pad),
            Handler::CatchAll { landing_pad } => (CATCH_ALL, 0, landing_pad),
        };
        put(kind);
        put(value);
        put(pad);
    }
    sites.len() as u32
}

/// The encoded length of a table of `count` sites with `handlers` handlers in all.
pub fn encoded_len(count: u32, handlers: u32) -> u64 {
    u64::from(count) * 16 + u64::from(handlers) * 12
}

/// A decoded view of an encoded exception table.
#[derive(Clone, Copy)]
pub struct ExceptionTable<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> ExceptionTable<'a> {
    /// The table of `count` sites at the start of `bytes`.
    ///
    /// # Errors
    /// [`ModuleError::Invalid`] when `bytes` is too short for the sites and their handlers, or a
    /// handler's kind is unknown — checked once here, so lookups need no checks.
    pub fn new(bytes: &'a [u8], count: u32) -> Result<Self> {
        let bad = || ModuleError::Invalid("the code image's exception table is corrupt".into());
        let count = count as usize;
        let heads = count.checked_mul(16).ok_or_else(bad)?;
        if bytes.len() < heads {
            return Err(bad());
        }
        let table = Self { bytes, count };
        let handlers: usize = (0..count).map(|i| table.word(count * 4 + i * 12 + 8)).sum();
        if encoded_len(count as u32, handlers as u32) > bytes.len() as u64 {
            return Err(bad());
        }
        for i in 0..count {
            let (first, len) = (
                table.word(count * 4 + i * 12 + 4),
                table.word(count * 4 + i * 12 + 8),
            );
            if first + len > handlers {
                return Err(bad());
            }
        }
        for h in 0..handlers {
            if table.word(heads + h * 12) > CATCH_ALL as usize {
                return Err(bad());
            }
        }
        Ok(table)
    }

    /// The table of `count` sites at the start of `bytes`, which [`ExceptionTable::new`] has
    /// accepted before (so lookups skip the checks). Lookups in a table that was never checked
    /// may panic, never read outside `bytes`.
    pub fn trusted(bytes: &'a [u8], count: u32) -> Self {
        Self {
            bytes,
            count: count as usize,
        }
    }

    fn word(&self, at: usize) -> usize {
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes")) as usize
    }

    /// The frame offset and handlers of the call site whose return address is at image offset
    /// `return_address`, if it has handlers.
    pub fn lookup(&self, return_address: u32) -> Option<(u32, impl Iterator<Item = Handler> + 'a)> {
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let mid = low + (high - low) / 2;
            if (self.word(mid * 4) as u32) < return_address {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if low == self.count || self.word(low * 4) as u32 != return_address {
            return None;
        }
        let record = self.count * 4 + low * 12;
        let frame_offset = self.word(record) as u32;
        let (first, len) = (self.word(record + 4), self.word(record + 8));
        let handlers_at = self.count * 16;
        let table = *self;
        let handlers = (first..first + len).map(move |h| {
            let at = handlers_at + h * 12;
            let (kind, value, pad) = (table.word(at), table.word(at + 4), table.word(at + 8));
            match kind as u32 {
                CONTEXT => Handler::Context {
                    sp_offset: value as u32,
                },
                TAG => Handler::Tag {
                    tag: value as u32,
                    landing_pad: pad as u32,
                },
                _ => Handler::CatchAll {
                    landing_pad: pad as u32,
                },
            }
        });
        Some((frame_offset, handlers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sites() -> Vec<CallSite> {
        vec![
            CallSite {
                return_address: 0x40,
                frame_offset: 32,
                handlers: vec![
                    Handler::Context { sp_offset: 8 },
                    Handler::Tag {
                        tag: 3,
                        landing_pad: 0x80,
                    },
                    Handler::CatchAll { landing_pad: 0x90 },
                ],
            },
            CallSite {
                return_address: 0x120,
                frame_offset: 48,
                handlers: vec![Handler::CatchAll { landing_pad: 0x140 }],
            },
        ]
    }

    #[test]
    fn sites_are_found_by_return_address_with_their_handlers_in_order() {
        let mut image = vec![0xaa; 4];
        let count = encode(&mut image, &sites());
        assert_eq!(image.len() as u64 - 4, encoded_len(count, 4));
        let table = ExceptionTable::new(&image[4..], count).unwrap();
        for site in sites() {
            let (frame_offset, handlers) = table.lookup(site.return_address).unwrap();
            assert_eq!(frame_offset, site.frame_offset);
            assert_eq!(handlers.collect::<Vec<_>>(), site.handlers);
        }
        assert!(table.lookup(0x41).is_none());
        assert!(table.lookup(0).is_none());
        assert!(table.lookup(u32::MAX).is_none());
    }

    #[test]
    fn a_truncated_or_corrupt_table_is_refused() {
        let mut image = Vec::new();
        let count = encode(&mut image, &sites());
        for len in 0..image.len() {
            assert!(ExceptionTable::new(&image[..len], count).is_err(), "{len}");
        }
        let mut bad_kind = image.clone();
        let first_handler = count as usize * 16;
        bad_kind[first_handler] = 7;
        assert!(ExceptionTable::new(&bad_kind, count).is_err());
        assert!(ExceptionTable::new(&image, u32::MAX).is_err());
    }
}
