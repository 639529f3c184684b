//! Memory images: the initial contents of a defined linear memory, built once at compile time
//! from its active data segments and stored page-aligned in the code image. The segments an
//! image absorbs are no longer listed in the module's
//! [`DataSegments`](crate::module_info::DataSegments).
//!
//! Instantiating a module copies every active data segment into its memory, which for a module
//! like ruby (17,866 segments, 4.8 MB) costs milliseconds per instance. With an image, a cache hit
//! maps those pages of the artifact copy-on-write into the new memory instead (see
//! `vm::memory`): no copy, and the pages stay shared with the page cache until the guest writes
//! them. Without a file to map (a cold compile), the image is copied in one piece.
//!
//! An image is built only when no data segment can trap at instantiation: every active segment
//! targets a memory the module defines, at a constant offset, inside that memory's initial size.
//! Then applying the image before or after the other segments gives the same memory, whatever
//! the order. A memory whose segments are sparse (the image would be more than twice their bytes
//! plus 64 KiB) keeps copying its segments, so images never bloat the artifact.

use serde::{Deserialize, Serialize};

use crate::module_info::{ConstOp, DataMode, ModuleInfo};

const WASM_PAGE: u64 = 1 << 16;

/// Slack allowed between sparse segments: an image may hold this many bytes of zeros beyond
/// twice the segments' bytes.
const SPARSE_SLACK: u64 = 64 << 10;

/// Where one memory image lies; serialized into cache artifacts as part of the code layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryImage {
    /// The memory index (a defined memory).
    pub memory: u32,
    /// Where the image starts in the memory; a multiple of the page size it was built for.
    pub memory_offset: u64,
    /// Where the image starts in the code image; a multiple of the page size it was built for.
    pub image_offset: u32,
    /// Its length in bytes; a multiple of the page size it was built for.
    pub len: u32,
}

/// An image's bytes before they are placed in the code image.
pub struct PlannedImage {
    /// The memory index.
    pub memory: u32,
    /// Where the image starts in the memory.
    pub memory_offset: u64,
    /// The initial bytes from `memory_offset` on, a whole number of pages.
    pub bytes: Vec<u8>,
}

/// What goes into the code image for a module's data segments.
pub struct DataPlan {
    /// The bytes of the segments that are still copied (passive ones, and active ones of
    /// memories without an image), addressed by their [`DataSegment`] offsets.
    ///
    /// [`DataSegment`]: crate::module_info::DataSegment
    pub blob: Vec<u8>,
    /// One image per memory that has one.
    pub images: Vec<PlannedImage>,
}

/// Decides which memories get an image, builds the images from `data` (the parser's blob of
/// every segment's bytes), unlists the segments they absorb, and lays out the remaining
/// segments' bytes in a new blob. `page` is the host page size.
pub fn plan(info: &mut ModuleInfo, data: &[u8], page: u64) -> DataPlan {
    let Some(placements) = static_placements(info) else {
        return DataPlan {
            blob: data.to_vec(),
            images: Vec::new(),
        };
    };
    let mut images = Vec::new();
    for memory in info.num_imported_memories..info.memories.len() as u32 {
        let mine = || {
            placements
                .iter()
                .zip(info.data.listed().map(|(_, s)| s))
                .filter_map(move |(p, s)| p.filter(|(m, _)| *m == memory).map(|(_, at)| (at, s)))
                .filter(|(_, s)| s.len > 0)
        };
        let Some(start) = mine().map(|(at, _)| at).min() else {
            continue;
        };
        let end = mine()
            .map(|(at, s)| at + u64::from(s.len))
            .max()
            .unwrap_or(start);
        let start = start / page * page;
        let end = end.next_multiple_of(page);
        let bytes: u64 = mine().map(|(_, s)| u64::from(s.len)).sum();
        let span = end - start;
        if span > 2 * bytes + SPARSE_SLACK || u32::try_from(span).is_err() {
            continue;
        }
        let mut image = vec![0; span as usize];
        for (at, segment) in mine() {
            let from = &data[segment.offset as usize..][..segment.len as usize];
            image[(at - start) as usize..][..from.len()].copy_from_slice(from);
        }
        images.push(PlannedImage {
            memory,
            memory_offset: start,
            bytes: image,
        });
    }
    let imaged = |memory: u32| images.iter().any(|i| i.memory == memory);
    let mut blob = Vec::new();
    info.data.retain(|segment| {
        if let DataMode::Active { memory, .. } = segment.mode
            && imaged(memory)
        {
            return false;
        }
        let bytes = &data[segment.offset as usize..][..segment.len as usize];
        // The new blob is never longer than the parser's, whose offsets fit in a u32.
        segment.offset = blob.len() as u32;
        blob.extend_from_slice(bytes);
        true
    });
    DataPlan { blob, images }
}

/// Each listed segment's memory and constant offset (`None` for a passive one), or `None` when
/// some active segment could trap at instantiation: an imported memory, an offset that is not a
/// constant, or bytes beyond the memory's initial size.
fn static_placements(info: &ModuleInfo) -> Option<Vec<Option<(u32, u64)>>> {
    if info.data.has_imaged() {
        return None;
    }
    info.data
        .listed()
        .map(|(_, segment)| match &segment.mode {
            DataMode::Passive => Some(None),
            DataMode::Active { memory, offset } => {
                let at = match offset.0[..] {
                    [ConstOp::I32(at)] => u64::from(at as u32),
                    [ConstOp::I64(at)] => at as u64,
                    _ => return None,
                };
                let defined = *memory >= info.num_imported_memories;
                let pages = info.memories.get(*memory as usize)?.limits.min;
                let initial = pages.saturating_mul(WASM_PAGE);
                let end = at.checked_add(u64::from(segment.len))?;
                (defined && end <= initial).then_some(Some((*memory, at)))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        module_info::{ConstExpr, DataSegment, DataSegments},
        types::{AddressType, Limits, MemoryType},
    };

    const PAGE: u64 = 4096;

    /// A module with one defined memory of `pages` wasm pages and these segments
    /// (`Some(offset)` active, `None` passive), whose bytes are their index repeated.
    fn module(pages: u64, segments: &[(Option<i32>, u32)]) -> (ModuleInfo, Vec<u8>) {
        let mut info = ModuleInfo {
            memories: vec![MemoryType {
                address_type: AddressType::I32,
                limits: Limits {
                    min: pages,
                    max: None,
                },
            }],
            ..ModuleInfo::default()
        };
        let mut data = Vec::new();
        for (i, (at, len)) in segments.iter().enumerate() {
            let mode = match at {
                Some(at) => DataMode::Active {
                    memory: 0,
                    offset: ConstExpr(vec![ConstOp::I32(*at)]),
                },
                None => DataMode::Passive,
            };
            info.data.push(DataSegment {
                mode,
                offset: data.len() as u32,
                len: *len,
            });
            data.extend(std::iter::repeat_n(i as u8 + 1, *len as usize));
        }
        (info, data)
    }

    #[test]
    fn dense_segments_become_one_image_and_leave_the_blob() {
        let (mut info, data) = module(2, &[(Some(5000), 100), (None, 3), (Some(5050), 100)]);
        let plan = plan(&mut info, &data, PAGE);
        assert_eq!(
            plan.blob,
            vec![2; 3],
            "only the passive segment is left to copy"
        );
        assert_eq!(info.data.len(), 3);
        assert!(info.data.get(0).is_none() && info.data.get(2).is_none());
        let passive = info.data.get(1).unwrap();
        assert!(matches!(passive.mode, DataMode::Passive));
        assert_eq!((passive.offset, passive.len), (0, 3));
        let [image] = &plan.images[..] else {
            panic!("expected one image")
        };
        assert_eq!((image.memory, image.memory_offset), (0, PAGE));
        assert_eq!(image.bytes.len() as u64, PAGE);
        // Later segments overwrite earlier ones where they overlap, as instantiation does.
        let at = |offset: usize| image.bytes[offset - PAGE as usize];
        assert_eq!((at(5000), at(5049), at(5050), at(5149)), (1, 1, 3, 3));
        assert_eq!((at(4999), at(5150)), (0, 0));
    }

    #[test]
    fn a_segment_that_could_trap_means_no_image() {
        for segments in [
            &[(Some(10), 10), (Some(65_530), 10)][..],
            &[(Some(-1), 1)][..],
        ] {
            let (mut info, data) = module(1, segments);
            let plan = plan(&mut info, &data, PAGE);
            assert!(plan.images.is_empty());
            assert_eq!(plan.blob, data);
            assert_eq!(info.data.listed().count(), info.data.len());
        }
        let (mut info, data) = module(1, &[(Some(0), 4)]);
        info.data = DataSegments::default();
        info.data.push(DataSegment {
            mode: DataMode::Active {
                memory: 0,
                offset: ConstExpr(vec![ConstOp::GlobalGet(0)]),
            },
            offset: 0,
            len: 4,
        });
        assert!(plan(&mut info, &data, PAGE).images.is_empty());
        let (mut info, data) = module(1, &[(Some(0), 4)]);
        info.num_imported_memories = 1;
        assert!(plan(&mut info, &data, PAGE).images.is_empty());
    }

    #[test]
    fn sparse_segments_are_copied() {
        let (mut info, data) = module(64, &[(Some(0), 8), (Some(3 << 20), 8)]);
        let plan = plan(&mut info, &data, PAGE);
        assert!(plan.images.is_empty());
        assert_eq!(plan.blob, data);
    }
}
