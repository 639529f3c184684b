//! Exception tags and exception records.
//!
//! A tag is a boxed [`TagData`] owned by a store; its address is its identity (two imports of
//! one tag are one tag). An exception is a boxed [`VMException`], laid out as
//! [`wasm_prof_environ::vmoffsets`] says so that compiled code reads its tag and values; an
//! `exnref` is its address.
//!
//! There is no garbage collector: every exception a store creates lives in its
//! [`ExceptionHeap`] until the store is dropped, also after no `exnref` refers to it any more.
//! A guest that throws in a loop grows its store by one small record per throw.

use std::{collections::HashSet, mem::offset_of};

use wasm_prof_environ::{FuncType, Val, vmoffsets as offsets};

use crate::signatures;

/// An exception tag: the types of the values its exceptions carry. Its address is its identity.
pub struct TagData {
    /// The types of the values, with canonical type references.
    pub ty: FuncType,
    /// The process-wide id of the tag's type: imports match by it.
    pub type_id: u32,
}

/// An exception as compiled code reads it.
#[repr(C)]
pub struct VMException {
    /// The tag it was thrown with.
    tag: *const TagData,
    /// The first of its values, one 16-byte slot each (points into `storage`).
    values: *const u128,
    /// Owns the values.
    storage: Box<[u128]>,
}

const _: () = {
    assert!(offset_of!(VMException, tag) == offsets::EXCEPTION_TAG as usize);
    assert!(offset_of!(VMException, values) == offsets::EXCEPTION_VALUES as usize);
    assert!(size_of::<u128>() == offsets::VALUE_SLOT as usize);
};

impl VMException {
    /// The tag it was thrown with.
    pub fn tag(&self) -> *const TagData {
        self.tag
    }

    /// Its values in their 16-byte slots, as many as the tag's parameters.
    pub fn raw_values(&self) -> &[u128] {
        &self.storage
    }
}

/// Every exception of one store, alive until the store is dropped. Each is boxed: its address
/// is the `exnref` compiled code holds, so growing the vector must not move it.
#[derive(Default)]
#[allow(clippy::vec_box)]
pub struct ExceptionHeap {
    exceptions: Vec<Box<VMException>>,
    addresses: HashSet<usize>,
}

impl ExceptionHeap {
    /// Creates an exception of `tag` with `values` (raw 16-byte slots); returns its address,
    /// which is the `exnref`.
    pub fn allocate(&mut self, tag: *const TagData, values: Box<[u128]>) -> usize {
        let exception = Box::new(VMException {
            tag,
            values: values.as_ptr(),
            storage: values,
        });
        let address = &*exception as *const VMException as usize;
        self.exceptions.push(exception);
        self.addresses.insert(address);
        address
    }

    /// The exception at `address`, when it is one of this heap's.
    pub fn get(&self, address: usize) -> Option<&VMException> {
        if !self.addresses.contains(&address) {
            return None;
        }
        // SAFETY: the address is that of a boxed exception this heap owns (checked above).
        Some(unsafe { &*(address as *const VMException) })
    }

    /// Whether `value` is no exception reference, a null one, or one of this heap's
    /// exceptions: what a value passed into guest code must be.
    pub fn owns(&self, value: &Val) -> bool {
        match value {
            Val::ExnRef(Some(exception)) => self.addresses.contains(&exception.address()),
            _ => true,
        }
    }

    /// How many exceptions the store holds.
    pub fn len(&self) -> usize {
        self.exceptions.len()
    }

    /// Whether the store holds no exception.
    pub fn is_empty(&self) -> bool {
        self.exceptions.is_empty()
    }
}

/// The values of `exception` as the types of its tag say.
pub fn values(exception: &VMException) -> Vec<Val> {
    // SAFETY: an exception's tag is a store-owned tag, alive as long as the exception.
    let ty = unsafe { &(*exception.tag).ty };
    ty.params
        .iter()
        .zip(exception.raw_values())
        .map(|(t, raw)| Val::from_raw(*t, *raw))
        .collect()
}

/// The raw slots of `values` for a tag of type `ty`, when the values have the tag's types.
pub fn raw_values(ty: &FuncType, values: &[Val]) -> Option<Box<[u128]>> {
    let fits = values.len() == ty.params.len()
        && values
            .iter()
            .zip(&ty.params)
            .all(|(value, ty)| signatures::value_matches(value, ty));
    fits.then(|| values.iter().map(|v| v.to_raw()).collect())
}
