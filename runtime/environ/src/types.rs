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
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// `funcref`: a nullable reference to any function.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`: a nullable external (host) reference.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `exnref`: a nullable reference to a caught exception (exception handling).
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);

    /// The reference type, when this is one.
    pub fn as_ref(&self) -> Option<RefType> {
        match self {
            ValType::Ref(r) => Some(*r),
            _ => None,
        }
    }

    /// The type with every module type index replaced by its process-wide id from `ids`
    /// (indexed by module type index).
    pub fn canonicalize(self, ids: &[u32]) -> ValType {
        match self {
            ValType::Ref(r) => ValType::Ref(r.canonicalize(ids)),
            other => other,
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

/// A reference type: a heap type, and whether null is a value of it (typed function
/// references).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefType {
    /// Whether null belongs to the type.
    pub nullable: bool,
    /// What the reference refers to.
    pub heap: HeapType,
}

impl RefType {
    /// `funcref`.
    pub const FUNCREF: RefType = RefType::nullable(HeapType::Func);
    /// `externref`.
    pub const EXTERNREF: RefType = RefType::nullable(HeapType::Extern);
    /// `exnref`.
    pub const EXNREF: RefType = RefType::nullable(HeapType::Exn);

    /// `(ref null heap)`.
    pub const fn nullable(heap: HeapType) -> Self {
        Self {
            nullable: true,
            heap,
        }
    }

    /// The type with every module type index replaced by its process-wide id from `ids`.
    pub fn canonicalize(self, ids: &[u32]) -> RefType {
        RefType {
            heap: self.heap.canonicalize(ids),
            ..self
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, self.heap) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, HeapType::Exn) => f.write_str("exnref"),
            (true, heap) => write!(f, "(ref null {heap})"),
            (false, heap) => write!(f, "(ref {heap})"),
        }
    }
}

impl RefType {
    /// Whether every value of `self` is a value of `other`. Concrete types must be canonical;
    /// `concrete_subtype(a, b)` decides between two of them.
    pub fn matches(self, other: RefType, concrete_subtype: &dyn Fn(u32, u32) -> bool) -> bool {
        (other.nullable || !self.nullable) && self.heap.matches(other.heap, concrete_subtype)
    }
}

/// What a reference refers to. Without the GC proposal every concrete type is a function
/// type, so each heap type belongs to one of three hierarchies: functions (top `func`,
/// bottom `nofunc`), external references and exceptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HeapType {
    /// Any function.
    Func,
    /// No function: only null has this type.
    NoFunc,
    /// Any external reference.
    Extern,
    /// No external reference.
    NoExtern,
    /// Any exception.
    Exn,
    /// No exception.
    NoExn,
    /// Functions of a type given by its index in the module's type section.
    Module(u32),
    /// Functions of a type given by its process-wide id (see [`FuncType`] canonicalisation in
    /// the VM): what types look like once they leave their module.
    Canonical(u32),
}

impl HeapType {
    /// The top of the hierarchy the type belongs to: `Func`, `Extern` or `Exn`.
    pub fn top(self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc | HeapType::Module(_) | HeapType::Canonical(_) => {
                HeapType::Func
            }
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
        }
    }

    /// The type with a module type index replaced by its process-wide id from `ids`.
    pub fn canonicalize(self, ids: &[u32]) -> HeapType {
        match self {
            HeapType::Module(index) => HeapType::Canonical(ids[index as usize]),
            other => other,
        }
    }
}

impl HeapType {
    /// Whether `self` is a subtype of `other`. Concrete types must be canonical;
    /// `concrete_subtype(a, b)` decides between two of them.
    pub fn matches(self, other: HeapType, concrete_subtype: &dyn Fn(u32, u32) -> bool) -> bool {
        use HeapType::*;
        match (self, other) {
            (a, b) if a == b => true,
            (Canonical(a), Canonical(b)) => concrete_subtype(a, b),
            (NoFunc, Func | Module(_) | Canonical(_)) | (Module(_) | Canonical(_), Func) => true,
            (NoExtern, Extern) | (NoExn, Exn) => true,
            _ => false,
        }
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::Module(index) => write!(f, "{index}"),
            HeapType::Canonical(id) => write!(f, "#{id}"),
        }
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

impl FuncType {
    /// The signature with every module type index replaced by its process-wide id from `ids`.
    pub fn canonicalize(&self, ids: &[u32]) -> FuncType {
        FuncType {
            params: self.params.iter().map(|t| t.canonicalize(ids)).collect(),
            results: self.results.iter().map(|t| t.canonicalize(ids)).collect(),
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

/// How a module declared a type beyond its signature: its recursion group and its declared
/// supertype. Two alike signatures are different types when these differ (WebAssembly 3.0's
/// type canonicalisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TypeDecl {
    /// Index of the first type of the type's recursion group.
    pub rec_group: u32,
    /// The declared supertype's index, when there is one.
    pub supertype: Option<u32>,
    /// Whether no type may declare this one as its supertype.
    pub is_final: bool,
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
    /// Element type.
    pub element: RefType,
    /// Limits in elements.
    pub limits: Limits,
}

impl TableType {
    /// The type with a module type index replaced by its process-wide id from `ids`.
    pub fn canonicalize(self, ids: &[u32]) -> TableType {
        TableType {
            element: self.element.canonicalize(ids),
            ..self
        }
    }
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GlobalType {
    /// Value type.
    pub content: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

impl GlobalType {
    /// The type with a module type index replaced by its process-wide id from `ids`.
    pub fn canonicalize(self, ids: &[u32]) -> GlobalType {
        GlobalType {
            content: self.content.canonicalize(ids),
            ..self
        }
    }
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
    /// The type with every module type index replaced by its process-wide id from `ids`.
    pub fn canonicalize(&self, ids: &[u32]) -> ExternType {
        match self {
            ExternType::Func(ty) => ExternType::Func(ty.canonicalize(ids)),
            ExternType::Table(ty) => ExternType::Table(ty.canonicalize(ids)),
            ExternType::Memory(ty) => ExternType::Memory(*ty),
            ExternType::Global(ty) => ExternType::Global(ty.canonicalize(ids)),
            ExternType::Tag(ty) => ExternType::Tag(ty.canonicalize(ids)),
        }
    }

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

impl FuncRef {
    /// The address of the function's reference record.
    pub fn address(self) -> usize {
        self.0
    }
}

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
    /// The value's type; for a reference, the nullable top type of its kind (`funcref`,
    /// `externref` or `exnref`).
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::ExnRef(_) => ValType::EXNREF,
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
            ValType::Ref(r) => match r.heap.top() {
                HeapType::Extern => Val::ExternRef(None),
                HeapType::Exn => Val::ExnRef(None),
                _ => Val::FuncRef(None),
            },
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
            ValType::Ref(r) => match r.heap.top() {
                HeapType::Extern => Val::ExternRef((raw as u64).checked_sub(1).map(|r| r as u32)),
                HeapType::Exn => Val::ExnRef((raw as usize != 0).then_some(ExnRef(raw as usize))),
                _ => Val::FuncRef((raw as usize != 0).then_some(FuncRef(raw as usize))),
            },
        }
    }
}
