//! WebAssembly types and values as the runtime's API and its artifacts see them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference.
    FuncRef,
    /// Nullable external (host) reference.
    ExternRef,
    /// Nullable reference to a caught exception (exception handling).
    ExnRef,
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ExnRef => "exnref",
        })
    }
}

/// A function signature.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl FuncType {
    /// A signature from parameter and result types.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        Self {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "(func (param {}) (result {}))",
            list(&self.params),
            list(&self.results)
        )
    }
}

/// Size limits of a memory (in 64 KiB pages) or a table (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    /// Initial size.
    pub min: u64,
    /// Maximum size, when declared.
    pub max: Option<u64>,
}

/// The type of a memory's addresses or a table's indices, and of its sizes (WebAssembly 3.0's
/// address types): `i32` classically, `i64` for a 64-bit memory or table (memory64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AddressType {
    /// 32-bit addresses.
    I32,
    /// 64-bit addresses.
    I64,
}

impl AddressType {
    /// The value type of addresses, indices and sizes.
    pub fn val_type(self) -> ValType {
        match self {
            AddressType::I32 => ValType::I32,
            AddressType::I64 => ValType::I64,
        }
    }
}

impl fmt::Display for AddressType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.val_type().fmt(f)
    }
}

/// A memory's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemoryType {
    /// The type of its addresses.
    pub address_type: AddressType,
    /// Limits in pages.
    pub limits: Limits,
}

/// A table's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableType {
    /// The type of its indices.
    pub address_type: AddressType,
    /// Element type: `FuncRef` or `ExternRef`.
    pub element: ValType,
    /// Limits in elements.
    pub limits: Limits,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GlobalType {
    /// Value type.
    pub content: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// The type of something a module imports or exports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// An exception tag, by the types of the values its exceptions carry.
    Tag(FuncType),
}

impl ExternType {
    /// `func`, `table`, `memory`, `global` or `tag`.
    pub fn kind(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "func",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Global(_) => "global",
            ExternType::Tag(_) => "tag",
        }
    }
}

/// A runtime value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    /// 32-bit integer.
    I32(i32),
    /// 64-bit integer.
    I64(i64),
    /// 32-bit float, as its bits (NaN payloads are kept).
    F32(u32),
    /// 64-bit float, as its bits.
    F64(u64),
    /// 128-bit vector.
    V128(u128),
    /// A function reference: `None` is null; otherwise an opaque store-owned pointer.
    FuncRef(Option<FuncRef>),
    /// An external reference: `None` is null; otherwise a host-chosen number.
    ExternRef(Option<u32>),
    /// An exception reference: `None` is null; otherwise an opaque store-owned pointer.
    ExnRef(Option<ExnRef>),
}

/// An opaque reference to a function owned by a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRef(pub(crate) usize);

/// An opaque reference to an exception owned by a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExnRef(pub(crate) usize);

impl ExnRef {
    /// The reference to the exception record at `address`; `None` for a null address.
    pub fn from_address(address: usize) -> Option<Self> {
        (address != 0).then_some(Self(address))
    }

    /// The address of the exception record.
    pub fn address(self) -> usize {
        self.0
    }
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
        }
    }

    /// The zero (or null) value of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::ExnRef => Val::ExnRef(None),
        }
    }

    /// The value as it sits in a 16-byte slot shared with compiled code.
    pub fn to_raw(self) -> u128 {
        match self {
            Val::I32(v) => u128::from(v as u32),
            Val::I64(v) => u128::from(v as u64),
            Val::F32(v) => u128::from(v),
            Val::F64(v) => u128::from(v),
            Val::V128(v) => v,
            Val::FuncRef(r) => r.map_or(0, |r| r.0 as u128),
            Val::ExternRef(r) => r.map_or(0, |r| u128::from(r) + 1),
            Val::ExnRef(r) => r.map_or(0, |r| r.0 as u128),
        }
    }

    /// Reads a value of type `ty` from a 16-byte slot shared with compiled code.
    pub fn from_raw(ty: ValType, raw: u128) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as u64 as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw as u64),
            ValType::V128 => Val::V128(raw),
            ValType::FuncRef => Val::FuncRef((raw as usize != 0).then_some(FuncRef(raw as usize))),
            ValType::ExternRef => Val::ExternRef((raw as u64).checked_sub(1).map(|r| r as u32)),
            ValType::ExnRef => Val::ExnRef((raw as usize != 0).then_some(ExnRef(raw as usize))),
        }
    }
}
