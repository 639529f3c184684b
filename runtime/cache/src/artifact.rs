//! The on-disk artifact format.
//!
//! All integers are little-endian. An artifact is a fixed 160-byte header, the engine
//! fingerprint, the metadata blob, zero padding (checked, so the encoding is canonical), then
//! the code image at a page-aligned offset:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `WPROFART` |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | header length: 160 + fingerprint length |
//! | 16 | 4 | page alignment the code offset was rounded up to |
//! | 20 | 1 | hash algorithm code |
//! | 21 | 1 | module digest length (16 or 32) |
//! | 22 | 2 | reserved, zero |
//! | 24 | 32 | module digest, zero-padded |
//! | 56 | 16 | fingerprint digest (XXH3-128) |
//! | 72 | 4 | fingerprint length |
//! | 76 | 4 | reserved, zero |
//! | 80 | 8 | metadata offset (= header length) |
//! | 88 | 8 | metadata length |
//! | 96 | 8 | code offset (metadata end rounded up to the page alignment) |
//! | 104 | 8 | code length (the file ends with the code) |
//! | 112 | 8 | metadata checksum: XXH3-64 of the metadata and the padding |
//! | 120 | 32 | MAC: keyed BLAKE3 ([`crate::mac`]) of bytes 0..120, the fingerprint, the metadata, the padding and the code image |
//! | 152 | 8 | header checksum: XXH3-64 of bytes 0..152 then the fingerprint |
//! | 160 | n | the fingerprint, UTF-8 |
//!
//! The checksums guard against torn writes and disk corruption, so that damage is reported as
//! such; anyone can recompute them. The MAC is what makes the file its owner's: it covers every
//! byte but itself and the header checksum (which covers the MAC), and only holders of the
//! cache's secret can make it. It is also the one check that costs (51 MB of code for ruby):
//! a caller that already authenticated this very file, unchanged since (see the store's
//! verification records, which carry a MAC of their own), may skip it with
//! [`MacCheck::Vouched`].

use std::{fs::File, io, io::Write, ops::Range, path::Path};

use memmap2::{MmapMut, MmapOptions};
use xxhash_rust::xxh3::{Xxh3Default, xxh3_64};

use super::{
    hash::blake3_update,
    key::CacheKey,
    mac::{self, Mac, MacKey},
};

/// The magic bytes every artifact starts with.
pub const MAGIC: [u8; 8] = *b"WPROFART";

/// The version of the format this build reads and writes.
pub const FORMAT_VERSION: u32 = 4;

/// The length of an artifact's fixed header, which ends with its MAC and checksum (the engine
/// fingerprint follows).
pub const FIXED_LEN: usize = 160;
const META_CHECKSUM_AT: usize = 112;
pub(crate) const MAC_AT: usize = 120;
const HEADER_CHECKSUM_AT: usize = 152;

/// How a load authenticates the artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacCheck {
    /// Compute the MAC over the whole file and compare it with the header's.
    Full,
    /// Trust the body: this very file was authenticated earlier and has not changed since. The
    /// header must still carry this MAC.
    Vouched(Mac),
}

/// Why an artifact cannot be used. Every variant means "recompile and replace it".
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The file is shorter than its header says it is.
    #[error("the artifact is truncated: {len} bytes, expected at least {needed}")]
    Truncated {
        /// The file's length.
        len: u64,
        /// The length the header requires.
        needed: u64,
    },
    /// The file does not start with [`MAGIC`].
    #[error("the file is not a wasm-prof artifact (bad magic)")]
    BadMagic,
    /// The artifact was written by a build with another format version.
    #[error("the artifact has format version {found}, this build reads version {expected}")]
    VersionMismatch {
        /// The version in the file.
        found: u32,
        /// [`FORMAT_VERSION`].
        expected: u32,
    },
    /// The header's checksum does not match the header.
    #[error("the artifact header is corrupt (checksum mismatch)")]
    HeaderChecksumMismatch,
    /// The header's offsets and lengths do not describe this file.
    #[error("the artifact layout is invalid: {0}")]
    BadLayout(&'static str),
    /// The code image does not start on a page boundary of this system.
    #[error("the artifact's code offset {offset} is not a multiple of the page size {page_size}")]
    Misaligned {
        /// The code offset in the file.
        offset: u64,
        /// This system's page size.
        page_size: usize,
    },
    /// The artifact was compiled by an engine with another fingerprint.
    #[error("the artifact was compiled by a differently configured engine (fingerprint mismatch)")]
    FingerprintMismatch,
    /// The artifact belongs to another module or hash algorithm.
    #[error("the artifact belongs to another module or hash algorithm (key mismatch)")]
    KeyMismatch,
    /// The metadata is corrupt.
    #[error("the artifact's metadata is corrupt (checksum mismatch)")]
    ChecksumMismatch,
    /// The MAC does not match the file: it was changed after it was written, or written by
    /// someone without this cache's secret key.
    #[error(
        "the artifact does not carry this cache's signature (MAC mismatch): it was changed after \
         it was written, or written with another key"
    )]
    NotAuthentic,
    /// The MAC differs from the one a verification record vouched for.
    #[error("the artifact is not the file that was verified")]
    NotVouched,
    /// The file could not be opened, read or mapped.
    #[error("cannot read the artifact")]
    Io(#[from] io::Error),
}

/// The length in bytes of the artifact [`write_artifact`] writes for these inputs.
pub fn artifact_len(fingerprint: &str, meta: &[u8], code: &[u8]) -> u64 {
    let meta_end = (FIXED_LEN + fingerprint.len() + meta.len()) as u64;
    meta_end.next_multiple_of(page_size() as u64) + code.len() as u64
}

/// Writes an artifact holding `meta` (an opaque blob, bincode from the caller) and `code` (the
/// code image) for `key`, compiled by an engine with `fingerprint`, signed with `mac_key`.
///
/// # Errors
/// Errors from `out`; [`io::ErrorKind::InvalidInput`] if `key` was not made with `fingerprint`
/// (the artifact could never be loaded) or the fingerprint is longer than 4 GiB.
pub fn write_artifact(
    out: &mut impl Write,
    fingerprint: &str,
    key: &CacheKey,
    mac_key: &MacKey,
    meta: &[u8],
    code: &[u8],
) -> io::Result<()> {
    if !key.matches_fingerprint(fingerprint) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the cache key was made with another fingerprint",
        ));
    }
    let header_len = FIXED_LEN + fingerprint.len();
    let too_long = |_| io::Error::new(io::ErrorKind::InvalidInput, "fingerprint too long");
    let fingerprint_len = u32::try_from(fingerprint.len()).map_err(too_long)?;
    let header_len_u32 = u32::try_from(header_len).map_err(too_long)?;
    let meta_end = header_len + meta.len();
    let page = page_size();
    let padding = vec![0; meta_end.next_multiple_of(page) - meta_end];
    let code_offset = meta_end + padding.len();

    let mut meta_checksum = Xxh3Default::new();
    meta_checksum.update(meta);
    meta_checksum.update(&padding);

    let mut header = Vec::with_capacity(header_len);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&header_len_u32.to_le_bytes());
    header.extend_from_slice(&(page as u32).to_le_bytes());
    header.extend_from_slice(&key_fields(key));
    header.extend_from_slice(&fingerprint_len.to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    for n in [header_len, meta.len(), code_offset, code.len()] {
        header.extend_from_slice(&(n as u64).to_le_bytes());
    }
    header.extend_from_slice(&meta_checksum.digest().to_le_bytes());
    debug_assert_eq!(header.len(), MAC_AT);
    let mut hasher = mac_key.artifact_hasher();
    for part in [&header, fingerprint.as_bytes(), meta, &padding] {
        hasher.update(part);
    }
    blake3_update(&mut hasher, code);
    header.extend_from_slice(mac::finish(&hasher).as_bytes());
    debug_assert_eq!(header.len(), HEADER_CHECKSUM_AT);
    header.extend_from_slice(&header_checksum(&header, fingerprint.as_bytes()).to_le_bytes());
    header.extend_from_slice(fingerprint.as_bytes());

    for part in [&header, meta, &padding, code] {
        out.write_all(part)?;
    }
    Ok(())
}

/// The MAC an artifact's header carries, unchecked: for the writer of `bytes` to name what it
/// wrote (say, as the address to upload it under). `None` when `bytes` is too short to hold it.
pub fn header_mac(bytes: &[u8]) -> Option<Mac> {
    (bytes.len() >= FIXED_LEN).then(|| Mac::from_bytes(le_bytes(bytes, MAC_AT)))
}

/// A validated artifact mapped into memory.
///
/// The mapping is private and writable (copy-on-write): pages stay shared with the page cache
/// until written, and the VM's code memory can mprotect [`MappedArtifact::code_range`] to
/// read+execute in place, without copying. The store replaces files only by rename, so a mapped
/// file's inode, and with it the mapping, stays valid after a newer artifact takes its name.
#[derive(Debug)]
pub struct MappedArtifact {
    mmap: MmapMut,
    file: File,
    meta: Range<usize>,
    code: Range<usize>,
}

impl MappedArtifact {
    /// Opens, maps, fully validates and authenticates the artifact at `path` for `key` and
    /// `fingerprint`.
    ///
    /// # Errors
    /// [`ArtifactError::Io`] if the file cannot be opened or mapped; as
    /// [`MappedArtifact::from_file`] otherwise.
    pub fn open(
        path: &Path,
        key: &CacheKey,
        fingerprint: &str,
        mac_key: &MacKey,
    ) -> Result<Self, ArtifactError> {
        Self::from_file(File::open(path)?, key, fingerprint, mac_key, MacCheck::Full)
    }

    /// Maps and validates an opened artifact for `key` and `fingerprint`: size, magic, version,
    /// header checksum, fingerprint, key, layout, page alignment of the code, metadata
    /// checksum, and the MAC under `mac_key` as `check` says.
    ///
    /// # Errors
    /// An [`ArtifactError`] naming the first check that failed.
    pub fn from_file(
        file: File,
        key: &CacheKey,
        fingerprint: &str,
        mac_key: &MacKey,
        check: MacCheck,
    ) -> Result<Self, ArtifactError> {
        let len = file.metadata()?.len();
        if len < FIXED_LEN as u64 {
            return Err(ArtifactError::Truncated {
                len,
                needed: FIXED_LEN as u64,
            });
        }
        // Passed on, so that the mapping does not look the file up again.
        let map_len = usize::try_from(len)
            .map_err(|_| ArtifactError::BadLayout("the file is larger than the address space"))?;
        // SAFETY: the mapping is private, so writes through it never reach the file. Mapping a
        // file is unsound only if the file is truncated or written in place while mapped; the
        // store never does either (it replaces artifacts by renaming a new file over the name),
        // and nothing else is meant to write into the cache directory.
        let mmap = unsafe { MmapOptions::new().len(map_len).map_copy(&file)? };
        let (meta, code) = validate(&mmap, key, fingerprint, mac_key, check)?;
        Ok(Self {
            mmap,
            file,
            meta,
            code,
        })
    }

    /// The open artifact file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The MAC from the header (verified, or vouched for by the caller).
    pub fn mac(&self) -> Mac {
        Mac::from_bytes(le_bytes(&self.mmap, MAC_AT))
    }

    /// The metadata blob.
    pub fn meta(&self) -> &[u8] {
        &self.mmap[self.meta.clone()]
    }

    /// The code image.
    pub fn code(&self) -> &[u8] {
        &self.mmap[self.code.clone()]
    }

    /// Where the metadata lies in the file (it starts after the header and fingerprint).
    pub fn meta_range(&self) -> Range<usize> {
        self.meta.clone()
    }

    /// Where the code image lies in the mapping; its start is page-aligned.
    pub fn code_range(&self) -> Range<usize> {
        self.code.clone()
    }

    /// The whole mapping, e.g. to mprotect the code range in place.
    pub fn mmap_mut(&mut self) -> &mut MmapMut {
        &mut self.mmap
    }

    /// Gives up the mapping and the open file (take [`MappedArtifact::code_range`] first).
    pub fn into_parts(self) -> (MmapMut, File) {
        (self.mmap, self.file)
    }
}

/// The header fields of an artifact that describe it without opening it for use: what a
/// report or a size gate reads. [`read_header`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactHeader {
    /// The format version ([`FORMAT_VERSION`] for every header [`read_header`] returns).
    pub format_version: u32,
    /// The fingerprint of the engine that compiled it.
    pub fingerprint: String,
    /// Bytes of the metadata.
    pub meta_len: u64,
    /// Bytes of the code image.
    pub code_len: u64,
}

/// Reads an artifact's header (the start of the file is enough: the fixed header and the
/// fingerprint), checking its magic, version, length and checksum, but neither the body nor
/// the MAC: it says what the file claims to hold, not that the file may be loaded.
///
/// # Errors
/// [`ArtifactError::Truncated`] when the bytes end inside the header, [`ArtifactError::BadMagic`],
/// [`ArtifactError::VersionMismatch`], [`ArtifactError::BadLayout`] for a fingerprint that is
/// not UTF-8 or a header length that does not match it, and
/// [`ArtifactError::HeaderChecksumMismatch`].
pub fn read_header(file: &[u8]) -> Result<ArtifactHeader, ArtifactError> {
    if file.len() < FIXED_LEN {
        return Err(ArtifactError::Truncated {
            len: file.len() as u64,
            needed: FIXED_LEN as u64,
        });
    }
    if file[..8] != MAGIC {
        return Err(ArtifactError::BadMagic);
    }
    let u32_at = |at| u32::from_le_bytes(le_bytes(file, at));
    let u64_at = |at| u64::from_le_bytes(le_bytes(file, at));
    let format_version = u32_at(8);
    if format_version != FORMAT_VERSION {
        return Err(ArtifactError::VersionMismatch {
            found: format_version,
            expected: FORMAT_VERSION,
        });
    }
    let header_len = FIXED_LEN as u64 + u64::from(u32_at(72));
    if u64::from(u32_at(12)) != header_len {
        return Err(ArtifactError::BadLayout(
            "header length does not match the fingerprint length",
        ));
    }
    if header_len > file.len() as u64 {
        return Err(ArtifactError::Truncated {
            len: file.len() as u64,
            needed: header_len,
        });
    }
    // At most the slice's length, so lossless.
    let fingerprint = &file[FIXED_LEN..header_len as usize];
    if u64_at(HEADER_CHECKSUM_AT) != header_checksum(&file[..HEADER_CHECKSUM_AT], fingerprint) {
        return Err(ArtifactError::HeaderChecksumMismatch);
    }
    let fingerprint = String::from_utf8(fingerprint.to_vec())
        .map_err(|_| ArtifactError::BadLayout("the fingerprint is not UTF-8"))?;
    Ok(ArtifactHeader {
        format_version,
        fingerprint,
        meta_len: u64_at(88),
        code_len: u64_at(104),
    })
}

fn validate(
    file: &[u8],
    key: &CacheKey,
    fingerprint: &str,
    mac_key: &MacKey,
    check: MacCheck,
) -> Result<(Range<usize>, Range<usize>), ArtifactError> {
    let len = file.len() as u64;
    if file.len() < FIXED_LEN {
        return Err(ArtifactError::Truncated {
            len,
            needed: FIXED_LEN as u64,
        });
    }
    let u32_at = |at| u32::from_le_bytes(le_bytes(file, at));
    let u64_at = |at| u64::from_le_bytes(le_bytes(file, at));
    let layout = ArtifactError::BadLayout;

    if file[..8] != MAGIC {
        return Err(ArtifactError::BadMagic);
    }
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(ArtifactError::VersionMismatch {
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let header_len = u64::from(u32_at(12));
    if header_len != FIXED_LEN as u64 + u64::from(u32_at(72)) {
        return Err(layout(
            "header length does not match the fingerprint length",
        ));
    }
    if header_len > len {
        return Err(ArtifactError::Truncated {
            len,
            needed: header_len,
        });
    }
    // At most the mapping's length, so lossless.
    let header_len = header_len as usize;
    let stored_fingerprint = &file[FIXED_LEN..header_len];
    if u64_at(HEADER_CHECKSUM_AT)
        != header_checksum(&file[..HEADER_CHECKSUM_AT], stored_fingerprint)
    {
        return Err(ArtifactError::HeaderChecksumMismatch);
    }
    if u32_at(76) != 0 {
        return Err(layout("reserved header bytes are not zero"));
    }
    if stored_fingerprint != fingerprint.as_bytes() {
        return Err(ArtifactError::FingerprintMismatch);
    }
    if file[20..72] != key_fields(key) {
        return Err(ArtifactError::KeyMismatch);
    }

    let [meta_offset, meta_len, code_offset, code_len] = [80, 88, 96, 104].map(u64_at);
    let align = u64::from(u32_at(16));
    if meta_offset != header_len as u64 {
        return Err(layout("metadata does not follow the header"));
    }
    let meta_end = meta_offset
        .checked_add(meta_len)
        .ok_or(layout("metadata length overflows"))?;
    if !align.is_power_of_two() || Some(code_offset) != meta_end.checked_next_multiple_of(align) {
        return Err(layout(
            "code offset is not the metadata end rounded up to a page",
        ));
    }
    let page_size = page_size();
    if !code_offset.is_multiple_of(page_size as u64) {
        return Err(ArtifactError::Misaligned {
            offset: code_offset,
            page_size,
        });
    }
    let code_end = code_offset
        .checked_add(code_len)
        .ok_or(layout("code length overflows"))?;
    if code_end > len {
        return Err(ArtifactError::Truncated {
            len,
            needed: code_end,
        });
    }
    if code_end < len {
        return Err(layout("trailing bytes after the code image"));
    }
    // Zero padding makes the encoding canonical: no two headers describe the same bytes.
    if file[meta_end as usize..code_offset as usize]
        .iter()
        .any(|&b| b != 0)
    {
        return Err(layout("non-zero padding between the metadata and the code"));
    }
    if u64::from_le_bytes(le_bytes(file, META_CHECKSUM_AT))
        != xxh3_64(&file[header_len..code_offset as usize])
    {
        return Err(ArtifactError::ChecksumMismatch);
    }
    let stored_mac = Mac::from_bytes(le_bytes(file, MAC_AT));
    match check {
        MacCheck::Full => {
            let mut hasher = mac_key.artifact_hasher();
            hasher.update(&file[..MAC_AT]);
            hasher.update(stored_fingerprint);
            blake3_update(&mut hasher, &file[header_len..]);
            if mac::finish(&hasher) != stored_mac {
                return Err(ArtifactError::NotAuthentic);
            }
        }
        MacCheck::Vouched(vouched) if vouched != stored_mac => {
            return Err(ArtifactError::NotVouched);
        }
        MacCheck::Vouched(_) => {}
    }
    // Every offset is now at most the mapping's length, so the casts are lossless.
    Ok((
        meta_offset as usize..meta_end as usize,
        code_offset as usize..code_end as usize,
    ))
}

/// The `N` bytes at `at`; the caller has checked that they are in `file`.
fn le_bytes<const N: usize>(file: &[u8], at: usize) -> [u8; N] {
    let mut bytes = [0; N];
    bytes.copy_from_slice(&file[at..at + N]);
    bytes
}

fn header_checksum(fixed: &[u8], fingerprint: &[u8]) -> u64 {
    let mut hasher = Xxh3Default::new();
    hasher.update(&fixed[..HEADER_CHECKSUM_AT]);
    hasher.update(fingerprint);
    hasher.digest()
}

fn page_size() -> usize {
    region::page::size()
}

/// Header bytes 20..72: algorithm code, digest length, two reserved bytes, the module digest
/// zero-padded to 32 bytes, the fingerprint digest.
fn key_fields(key: &CacheKey) -> [u8; 52] {
    let digest = key.module_digest();
    let digest = digest.as_bytes();
    let mut fields = [0; 52];
    fields[0] = key.algo().code();
    // A digest is at most 32 bytes.
    fields[1] = digest.len() as u8;
    fields[4..4 + digest.len()].copy_from_slice(digest);
    fields[36..].copy_from_slice(&key.fingerprint_digest());
    fields
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::HashAlgo;

    const FINGERPRINT: &str = "wasm-prof 0.1.0; cranelift 0.112.3; x86_64; +avx2";

    fn key(fingerprint: &str) -> CacheKey {
        let algo = HashAlgo::Blake3;
        CacheKey::new(algo, algo.digest(b"module").unwrap(), fingerprint)
    }

    fn mac_key() -> MacKey {
        MacKey::from_secret(&[0x5a; 32])
    }

    fn encode(meta: &[u8], code: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_artifact(
            &mut out,
            FINGERPRINT,
            &key(FINGERPRINT),
            &mac_key(),
            meta,
            code,
        )
        .unwrap();
        out
    }

    fn file_with(bytes: &[u8]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn open(
        bytes: &[u8],
        key: &CacheKey,
        fingerprint: &str,
    ) -> Result<MappedArtifact, ArtifactError> {
        MappedArtifact::from_file(
            file_with(bytes),
            key,
            fingerprint,
            &mac_key(),
            MacCheck::Full,
        )
    }

    fn open_ok(bytes: &[u8]) -> Result<MappedArtifact, ArtifactError> {
        open(bytes, &key(FINGERPRINT), FINGERPRINT)
    }

    #[test]
    fn round_trip() {
        for (meta, code) in [
            (&b""[..], &b""[..]),
            (b"meta", &[0xc3; 10]),
            (&[7; 5000], &[0x90; 70_000]),
        ] {
            let bytes = encode(meta, code);
            assert_eq!(bytes.len() as u64, artifact_len(FINGERPRINT, meta, code));
            let artifact = open_ok(&bytes).unwrap();
            assert_eq!(artifact.meta(), meta);
            assert_eq!(artifact.code(), code);
            let range = artifact.code_range();
            assert_eq!(range.start % page_size(), 0);
            let (mut mmap, _) = artifact.into_parts();
            assert_eq!(mmap.as_ptr() as usize % page_size(), 0);
            assert_eq!(&mmap[range.clone()], code);
            // The mapping is private: writing to it leaves the file alone.
            if !range.is_empty() {
                mmap[range.start] ^= 0xff;
            }
        }
    }

    #[test]
    fn open_by_path() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&encode(b"m", b"c")).unwrap();
        let artifact =
            MappedArtifact::open(file.path(), &key(FINGERPRINT), FINGERPRINT, &mac_key()).unwrap();
        assert_eq!((artifact.meta(), artifact.code()), (&b"m"[..], &b"c"[..]));
        let missing = file.path().with_extension("missing");
        assert!(matches!(
            MappedArtifact::open(&missing, &key(FINGERPRINT), FINGERPRINT, &mac_key()),
            Err(ArtifactError::Io(e)) if e.kind() == io::ErrorKind::NotFound
        ));
    }

    #[test]
    fn header_fields_are_where_the_layout_says() {
        let bytes = encode(b"abc", b"code");
        let k = key(FINGERPRINT);
        let u32_at = |at| u32::from_le_bytes(le_bytes(&bytes, at));
        let u64_at = |at| u64::from_le_bytes(le_bytes(&bytes, at));
        let header_len = FIXED_LEN + FINGERPRINT.len();
        assert_eq!(&bytes[..8], b"WPROFART");
        assert_eq!(u32_at(8), FORMAT_VERSION);
        assert_eq!(u32_at(12) as usize, header_len);
        assert_eq!(u32_at(16) as usize, page_size());
        assert_eq!(bytes[20], HashAlgo::Blake3.code());
        assert_eq!(
            &bytes[24..24 + usize::from(bytes[21])],
            k.module_digest().as_bytes()
        );
        assert_eq!(bytes[56..72], k.fingerprint_digest());
        assert_eq!(u32_at(72) as usize, FINGERPRINT.len());
        assert_eq!(u32_at(76), 0);
        assert_eq!(&bytes[FIXED_LEN..header_len], FINGERPRINT.as_bytes());
        assert_eq!(u64_at(80) as usize, header_len);
        assert_eq!(u64_at(88), 3);
        assert_eq!(u64_at(96) as usize, page_size());
        assert_eq!(u64_at(104), 4);
        assert_eq!(&bytes[header_len..header_len + 3], b"abc");
        assert_eq!(&bytes[page_size()..], b"code");
    }

    #[test]
    fn the_header_reads_what_was_written() {
        let (meta, code) = (b"meta".to_vec(), vec![0x90; 3000]);
        let bytes = encode(&meta, &code);
        let header = read_header(&bytes).unwrap();
        assert_eq!(header.format_version, FORMAT_VERSION);
        assert_eq!(header.fingerprint, FINGERPRINT);
        assert_eq!((header.meta_len, header.code_len), (4, 3000));
        let just_the_header = &bytes[..FIXED_LEN + FINGERPRINT.len()];
        assert_eq!(read_header(just_the_header).unwrap(), header);
        assert!(matches!(
            read_header(&bytes[..FIXED_LEN + 1]),
            Err(ArtifactError::Truncated { .. })
        ));
        let mut flipped = bytes.clone();
        flipped[104] ^= 1;
        assert!(matches!(
            read_header(&flipped),
            Err(ArtifactError::HeaderChecksumMismatch)
        ));
        assert!(matches!(
            read_header(b"not an artifact, but long enough to hold a header? no"),
            Err(ArtifactError::Truncated { .. })
        ));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = encode(b"metadata", &[0xcc; 100]);
        for len in 0..bytes.len() {
            let err = open_ok(&bytes[..len]).unwrap_err();
            assert!(
                matches!(err, ArtifactError::Truncated { .. }),
                "length {len}: {err:?}"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = encode(b"m", b"c");
        bytes.push(0);
        assert!(matches!(open_ok(&bytes), Err(ArtifactError::BadLayout(_))));
    }

    #[test]
    fn every_bit_flip_is_an_error() {
        let bytes = encode(b"metadata", &[0xcc; 100]);
        // One file, rewritten in place: a fresh mapping per open sees the new bytes.
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let k = key(FINGERPRINT);
        for at in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut flipped = bytes.clone();
                flipped[at] ^= bit;
                file.set_len(0).unwrap();
                std::os::unix::fs::FileExt::write_all_at(&file, &flipped, 0).unwrap();
                let result = MappedArtifact::from_file(
                    file.try_clone().unwrap(),
                    &k,
                    FINGERPRINT,
                    &mac_key(),
                    MacCheck::Full,
                );
                assert!(result.is_err(), "byte {at} bit {bit:#x} went unnoticed");
            }
        }
    }

    #[test]
    fn foreign_artifacts_are_errors() {
        let bytes = encode(b"m", b"c");
        let k = key(FINGERPRINT);

        let mut version = bytes.clone();
        version[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(matches!(
            open_ok(&version),
            Err(ArtifactError::VersionMismatch { found, expected: FORMAT_VERSION })
                if found == FORMAT_VERSION + 1
        ));

        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert!(matches!(open_ok(&magic), Err(ArtifactError::BadMagic)));

        let other = "wasm-prof 0.1.0; cranelift 0.112.3; x86_64; -avx2";
        assert!(matches!(
            open(&bytes, &key(other), other),
            Err(ArtifactError::FingerprintMismatch)
        ));
        assert!(matches!(
            open(&bytes, &k, other),
            Err(ArtifactError::FingerprintMismatch)
        ));

        let algo = HashAlgo::Blake3;
        let other_module = CacheKey::new(algo, algo.digest(b"other").unwrap(), FINGERPRINT);
        assert!(matches!(
            open(&bytes, &other_module, FINGERPRINT),
            Err(ArtifactError::KeyMismatch)
        ));
        let sha = HashAlgo::Sha256;
        let other_algo = CacheKey::new(sha, sha.digest(b"module").unwrap(), FINGERPRINT);
        assert!(matches!(
            open(&bytes, &other_algo, FINGERPRINT),
            Err(ArtifactError::KeyMismatch)
        ));
    }

    /// Recomputes the checksums of a changed artifact, as anyone can: what is left to refuse it
    /// is the MAC.
    fn recompute_checksums(bytes: &mut [u8]) {
        let header_len = FIXED_LEN + FINGERPRINT.len();
        let code_offset = u64::from_le_bytes(le_bytes(bytes, 96)) as usize;
        let meta = xxh3_64(&bytes[header_len..code_offset]);
        bytes[META_CHECKSUM_AT..MAC_AT].copy_from_slice(&meta.to_le_bytes());
        let header = header_checksum(&bytes[..HEADER_CHECKSUM_AT], &bytes[FIXED_LEN..header_len]);
        bytes[HEADER_CHECKSUM_AT..FIXED_LEN].copy_from_slice(&header.to_le_bytes());
    }

    #[test]
    fn a_change_with_recomputed_checksums_fails_the_mac() {
        let bytes = encode(b"metadata", &[0xcc; 100]);
        let header_len = FIXED_LEN + FINGERPRINT.len();
        let other_module = HashAlgo::Blake3.digest(b"another module").unwrap();
        let last = bytes.len() - 1;
        // What changes, where, and the key the forged file is then looked up under.
        let changes = [
            ("a code byte", last, vec![bytes[last] ^ 1], key(FINGERPRINT)),
            (
                "a metadata byte",
                header_len,
                vec![bytes[header_len] ^ 1],
                key(FINGERPRINT),
            ),
            (
                "the module digest (the reported attack)",
                24,
                other_module.as_bytes().to_vec(),
                CacheKey::new(HashAlgo::Blake3, other_module, FINGERPRINT),
            ),
            (
                "the MAC itself",
                MAC_AT,
                vec![bytes[MAC_AT] ^ 1],
                key(FINGERPRINT),
            ),
        ];
        for (what, at, value, k) in changes {
            let mut forged = bytes.clone();
            forged[at..at + value.len()].copy_from_slice(&value);
            recompute_checksums(&mut forged);
            assert!(
                matches!(
                    open(&forged, &k, FINGERPRINT),
                    Err(ArtifactError::NotAuthentic)
                ),
                "{what}"
            );
        }
    }

    #[test]
    fn an_artifact_signed_with_another_key_is_refused() {
        let bytes = encode(b"m", b"c");
        let other = MacKey::from_secret(&[0xa5; 32]);
        let result = MappedArtifact::from_file(
            file_with(&bytes),
            &key(FINGERPRINT),
            FINGERPRINT,
            &other,
            MacCheck::Full,
        );
        assert!(matches!(result, Err(ArtifactError::NotAuthentic)));
    }

    #[test]
    fn a_vouched_load_skips_only_the_mac() {
        let bytes = encode(b"metadata", &[0xcc; 100]);
        let k = key(FINGERPRINT);
        let vouched = |bytes: &[u8], mac| {
            MappedArtifact::from_file(
                file_with(bytes),
                &k,
                FINGERPRINT,
                &mac_key(),
                MacCheck::Vouched(mac),
            )
        };
        let mac = open_ok(&bytes).unwrap().mac();
        assert!(vouched(&bytes, mac).is_ok());
        let mut other = *mac.as_bytes();
        other[0] ^= 1;
        assert!(matches!(
            vouched(&bytes, Mac::from_bytes(other)),
            Err(ArtifactError::NotVouched)
        ));
        // The metadata and header are still checked in full.
        let mut meta_flip = bytes.clone();
        meta_flip[FIXED_LEN + FINGERPRINT.len()] ^= 1;
        assert!(matches!(
            vouched(&meta_flip, mac),
            Err(ArtifactError::ChecksumMismatch)
        ));
        let mut header_flip = bytes.clone();
        header_flip[100] ^= 1;
        assert!(vouched(&header_flip, mac).is_err());
        // A code byte changed behind the voucher's back is what the voucher promises cannot
        // happen (the store only vouches for files unchanged since their verification).
        let mut code_flip = bytes;
        code_flip[page_size()] ^= 1;
        assert!(vouched(&code_flip, mac).is_ok());
        assert!(open_ok(&code_flip).is_err());
    }

    /// Overwrites header bytes and recomputes the header checksum, as a buggy or malicious
    /// writer could: the layout checks, not the checksum, must then catch the damage.
    fn forge(bytes: &[u8], at: usize, value: &[u8]) -> Vec<u8> {
        let mut forged = bytes.to_vec();
        forged[at..at + value.len()].copy_from_slice(value);
        let header_len = FIXED_LEN + FINGERPRINT.len();
        let checksum = header_checksum(
            &forged[..HEADER_CHECKSUM_AT],
            &forged[FIXED_LEN..header_len],
        );
        forged[HEADER_CHECKSUM_AT..FIXED_LEN].copy_from_slice(&checksum.to_le_bytes());
        forged
    }

    #[test]
    fn forged_headers_with_a_valid_checksum_are_errors() {
        let bytes = encode(b"metadata", &[0xcc; 100]);
        assert!(open_ok(&forge(&bytes, 0, &[])).is_ok());
        let len = bytes.len() as u64;
        for at in [80, 88, 96, 104] {
            for value in [
                0,
                1,
                4095,
                4096,
                len - 1,
                len,
                len + 1,
                u64::MAX / 2,
                u64::MAX,
            ] {
                let forged = forge(&bytes, at, &value.to_le_bytes());
                if forged != bytes {
                    assert!(open_ok(&forged).is_err(), "u64 {value} at {at}");
                }
            }
        }
        for at in [12, 16, 72] {
            for value in [0, 1, 3, 144, 160, 4096, 8192, u32::MAX] {
                let forged = forge(&bytes, at, &value.to_le_bytes());
                if forged != bytes {
                    assert!(open_ok(&forged).is_err(), "u32 {value} at {at}");
                }
            }
        }
        for at in 20..24 {
            assert!(matches!(
                open_ok(&forge(&bytes, at, &[0xff])),
                Err(ArtifactError::KeyMismatch)
            ));
        }
        assert!(matches!(
            open_ok(&forge(&bytes, 76, &[1])),
            Err(ArtifactError::BadLayout(_))
        ));
    }

    #[test]
    fn a_key_of_another_fingerprint_is_refused_at_write() {
        let err = write_artifact(
            &mut Vec::new(),
            FINGERPRINT,
            &key("other"),
            &mac_key(),
            b"",
            b"",
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
