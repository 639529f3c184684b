//! Bounds-checked access to the calling instance's linear memory. Every guest pointer goes
//! through here; a range outside the memory is `EFAULT`, never a host fault.

use crate::errno::{Errno, WasiResult};

/// The guest's linear memory during one WASI call.
pub(crate) struct Guest<'a> {
    mem: &'a mut [u8],
}

impl<'a> Guest<'a> {
    pub(crate) fn new(mem: &'a mut [u8]) -> Self {
        Self { mem }
    }

    fn range(&self, ptr: u32, len: usize) -> WasiResult<std::ops::Range<usize>> {
        let start = ptr as usize;
        let end = start.checked_add(len).ok_or(Errno::Fault)?;
        if end > self.mem.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    /// `len` bytes at `ptr`.
    pub(crate) fn bytes(&self, ptr: u32, len: u32) -> WasiResult<&[u8]> {
        let range = self.range(ptr, len as usize)?;
        Ok(&self.mem[range])
    }

    /// `len` writable bytes at `ptr`.
    pub(crate) fn bytes_mut(&mut self, ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let range = self.range(ptr, len as usize)?;
        Ok(&mut self.mem[range])
    }

    /// A UTF-8 string (a path) of `len` bytes at `ptr`; `EILSEQ` when not UTF-8.
    pub(crate) fn str(&self, ptr: u32, len: u32) -> WasiResult<&str> {
        std::str::from_utf8(self.bytes(ptr, len)?).map_err(|_| Errno::Ilseq)
    }

    /// Copies `data` to `ptr`.
    pub(crate) fn write(&mut self, ptr: u32, data: &[u8]) -> WasiResult<()> {
        let range = self.range(ptr, data.len())?;
        self.mem[range].copy_from_slice(data);
        Ok(())
    }

    pub(crate) fn read_u16(&self, ptr: u32) -> WasiResult<u16> {
        let b = self.bytes(ptr, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn read_u32(&self, ptr: u32) -> WasiResult<u32> {
        let b = self.bytes(ptr, 4)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    pub(crate) fn read_u64(&self, ptr: u32) -> WasiResult<u64> {
        let b = self.bytes(ptr, 8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    pub(crate) fn write_u8(&mut self, ptr: u32, value: u8) -> WasiResult<()> {
        self.write(ptr, &[value])
    }

    pub(crate) fn write_u16(&mut self, ptr: u32, value: u16) -> WasiResult<()> {
        self.write(ptr, &value.to_le_bytes())
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, value: u32) -> WasiResult<()> {
        self.write(ptr, &value.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, ptr: u32, value: u64) -> WasiResult<()> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// The `(buf, buf_len)` pairs of an `iovec`/`ciovec` array, each checked to lie in memory.
    pub(crate) fn iovecs(&self, ptr: u32, count: u32) -> WasiResult<Vec<(u32, u32)>> {
        let size = crate::abi::size::IOVEC;
        let table = self.bytes(ptr, count.checked_mul(size).ok_or(Errno::Fault)?)?;
        table
            .chunks_exact(size as usize)
            .map(|entry| {
                let buf = u32::from_le_bytes(entry[..4].try_into().expect("4 bytes"));
                let len = u32::from_le_bytes(entry[4..].try_into().expect("4 bytes"));
                self.range(buf, len as usize)?;
                Ok((buf, len))
            })
            .collect()
    }

    /// The bytes `iovecs` (from [`Guest::iovecs`]) point at, concatenated.
    pub(crate) fn gather(&self, iovecs: &[(u32, u32)]) -> WasiResult<Vec<u8>> {
        let mut out = Vec::with_capacity(total_len(iovecs));
        for &(buf, len) in iovecs {
            out.extend_from_slice(self.bytes(buf, len)?);
        }
        Ok(out)
    }

    /// The guest buffers of `iovecs` (checked by [`Guest::iovecs`]) as host `iovec`s, at most
    /// `max` bytes in all, for `readv`, `writev` and their kin to read or write guest memory
    /// in place. The pointers are valid while this `Guest`, which holds the memory mutably
    /// borrowed, is alive; the system call must happen before it is used again.
    pub(crate) fn host_iovecs(&mut self, iovecs: &[(u32, u32)], max: usize) -> Vec<libc::iovec> {
        let base = self.mem.as_mut_ptr();
        let mut left = max;
        iovecs
            .iter()
            .filter_map(|&(buf, len)| {
                let take = (len as usize).min(left);
                left -= take;
                (take > 0).then(|| libc::iovec {
                    // SAFETY: `iovecs` checked that `buf..buf + len` lies in the memory, and
                    // `take <= len`.
                    iov_base: unsafe { base.add(buf as usize) }.cast(),
                    iov_len: take,
                })
            })
            .collect()
    }

    /// Spreads `data` over an array of `iovec`s (already checked by [`Guest::iovecs`]).
    pub(crate) fn scatter(&mut self, iovecs: &[(u32, u32)], mut data: &[u8]) -> WasiResult<()> {
        for &(buf, len) in iovecs {
            if data.is_empty() {
                break;
            }
            let n = data.len().min(len as usize);
            self.write(buf, &data[..n])?;
            data = &data[n..];
        }
        Ok(())
    }
}

/// Total length of `iovecs`, saturating at `u32::MAX`.
pub(crate) fn total_len(iovecs: &[(u32, u32)]) -> usize {
    iovecs
        .iter()
        .fold(0usize, |acc, &(_, len)| acc.saturating_add(len as usize))
        .min(u32::MAX as usize)
}
