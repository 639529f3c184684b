//! `ModuleInfo`: everything about a module except its function bodies, in a form that is
//! serialized into cache artifacts.

use serde::{Deserialize, Serialize};

use crate::types::{
    ExternType, FuncType, GlobalType, HeapType, MemoryType, RefType, TableType, TypeDecl,
};

/// One operator of a constant expression (global initializers, segment offsets, element items).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ConstOp {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const`, as bits.
    F32(u32),
    /// `f64.const`, as bits.
    F64(u64),
    /// `v128.const`.
    V128(u128),
    /// `global.get` of an imported global, or of an immutable global defined before.
    GlobalGet(u32),
    /// `ref.null`.
    RefNull(HeapType),
    /// `ref.func`.
    RefFunc(u32),
    /// `i32.add` (extended constant expressions).
    I32Add,
    /// `i32.sub`.
    I32Sub,
    /// `i32.mul`.
    I32Mul,
    /// `i64.add`.
    I64Add,
    /// `i64.sub`.
    I64Sub,
    /// `i64.mul`.
    I64Mul,
}

/// A constant expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstExpr(pub Vec<ConstOp>);

/// What an import brings in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// The imported item's type.
    pub ty: ExternType,
}

/// The kind of an exported item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternKind {
    /// Function.
    Func,
    /// Table.
    Table,
    /// Memory.
    Memory,
    /// Global.
    Global,
    /// Exception tag.
    Tag,
}

/// An export.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// What kind of item.
    pub kind: ExternKind,
    /// Index in that kind's index space.
    pub index: u32,
}

/// Where an element segment goes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ElementMode {
    /// Copied into a table at instantiation, then dropped.
    Active {
        /// Table index.
        table: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Kept for `table.init`.
    Passive,
    /// Only declares functions for `ref.func`; dropped at once.
    Declared,
}

/// The items of an element segment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ElementItems {
    /// Function indices.
    Funcs(Vec<u32>),
    /// Constant expressions producing references.
    Exprs(Vec<ConstExpr>),
}

impl ElementItems {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ElementItems::Funcs(v) => v.len(),
            ElementItems::Exprs(v) => v.len(),
        }
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An element segment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ElementSegment {
    /// Where it goes.
    pub mode: ElementMode,
    /// Element type.
    pub ty: RefType,
    /// Its items.
    pub items: ElementItems,
}

/// A data segment. Its bytes live in the module's data blob (copied into the code image, so a
/// cache hit reads them from the mapped artifact without deserializing them).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataSegment {
    /// Whether and how the segment initializes a memory.
    pub mode: DataMode,
    /// Offset of the bytes in the data blob.
    pub offset: u32,
    /// Number of bytes.
    pub len: u32,
}

/// How a data segment is used.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum DataMode {
    /// Copied by `memory.init` only.
    Passive,
    /// Copied into `memory` at `offset` when the module is instantiated.
    Active {
        /// The memory index.
        memory: u32,
        /// Where the bytes go.
        offset: ConstExpr,
    },
}

/// A module's data segments, by index.
///
/// Segments that the compiler folded into a memory image are counted but not listed: all they
/// do at run time is count as dropped, and listing them one by one made loading esbuild (98,450
/// segments) from the cache milliseconds slower.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DataSegments {
    /// The segments not in a memory image, with their indices, in index order.
    listed: Vec<(u32, DataSegment)>,
    /// The number of segments, listed or not.
    count: u32,
}

impl DataSegments {
    /// Appends the next segment.
    pub fn push(&mut self, segment: DataSegment) {
        self.listed.push((self.count, segment));
        self.count += 1;
    }

    /// The number of segments.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the module has no data segments.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Segment `index`; `None` when it is out of range or part of a memory image.
    pub fn get(&self, index: u32) -> Option<&DataSegment> {
        Some(&self.listed[self.position(index)?].1)
    }

    /// The position of segment `index` among the listed segments; `None` when it is out of
    /// range or part of a memory image.
    pub fn position(&self, index: u32) -> Option<usize> {
        self.listed.binary_search_by_key(&index, |(i, _)| *i).ok()
    }

    /// The listed segments (those not in a memory image) with their indices.
    pub fn listed(&self) -> impl Iterator<Item = (u32, &DataSegment)> {
        self.listed.iter().map(|(i, segment)| (*i, segment))
    }

    /// Whether some segments are part of a memory image.
    pub fn has_imaged(&self) -> bool {
        self.listed.len() < self.count as usize
    }

    /// Keeps the listed segments for which `keep` is true; the others become part of a memory
    /// image.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut DataSegment) -> bool) {
        self.listed.retain_mut(|(_, segment)| keep(segment));
    }
}

/// A parsed, validated module without its code.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// Name from the name section.
    pub name: Option<String>,
    /// Function types by type index.
    pub types: Vec<FuncType>,
    /// Recursion group and supertype of each type, by type index.
    pub type_decls: Vec<TypeDecl>,
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Type index of every function, imported functions first.
    pub functions: Vec<u32>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Every table, imported first.
    pub tables: Vec<TableType>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Every memory, imported first.
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Every global, imported first.
    pub globals: Vec<GlobalType>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Type index of every exception tag, imported first.
    pub tags: Vec<u32>,
    /// Number of imported tags.
    pub num_imported_tags: u32,
    /// Initial elements of the defined tables: `None` fills a table with null.
    pub table_inits: Vec<Option<ConstExpr>>,
    /// Initializers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Exports in order.
    pub exports: Vec<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elements: Vec<ElementSegment>,
    /// Data segments.
    pub data: DataSegments,
    /// Function names from the name section.
    pub func_names: FuncNames,
    /// Bytes of code in the code section (sum of function body sizes).
    pub code_bytes: u64,
}

impl ModuleInfo {
    /// Signature of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.functions[index as usize] as usize]
    }

    /// The types of the values an exception of tag `index` carries.
    pub fn tag_type(&self, index: u32) -> &FuncType {
        &self.types[self.tags[index as usize] as usize]
    }

    /// Number of functions defined (not imported) by the module.
    pub fn num_defined_funcs(&self) -> usize {
        self.functions.len() - self.num_imported_funcs as usize
    }

    /// Name of function `index` from the name section.
    pub fn func_name(&self, index: u32) -> Option<&str> {
        self.func_names.get(index)
    }

    /// The export called `name`.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }
}

/// Function names from the name section, kept in one string: a module like ruby names 17,825
/// functions, and one allocation per name made loading it from the cache measurably slower.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FuncNames {
    /// The names, back to back.
    text: String,
    /// Each named function's index and the end of its name in `text`, sorted by index; a name
    /// starts where the previous one ends.
    ends: Vec<(u32, u32)>,
}

impl FuncNames {
    /// Collects `(function index, name)` pairs given in any order; when an index is named twice
    /// the first name wins.
    pub fn from_pairs(mut pairs: Vec<(u32, &str)>) -> Self {
        pairs.sort_by_key(|(index, _)| *index);
        pairs.dedup_by_key(|(index, _)| *index);
        let mut names = Self {
            text: String::with_capacity(pairs.iter().map(|(_, name)| name.len()).sum()),
            ends: Vec::with_capacity(pairs.len()),
        };
        for (index, name) in pairs {
            names.text.push_str(name);
            let Ok(end) = u32::try_from(names.text.len()) else {
                names.text.truncate(names.text.len() - name.len());
                break;
            };
            names.ends.push((index, end));
        }
        names
    }

    /// The name of function `index`, if it has one.
    pub fn get(&self, index: u32) -> Option<&str> {
        let at = self.ends.binary_search_by_key(&index, |(i, _)| *i).ok()?;
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before].1);
        self.text.get(start as usize..self.ends[at].1 as usize)
    }

    /// The number of named functions.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no function is named.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::FuncNames;

    #[test]
    fn names_are_found_by_index_and_the_first_of_a_repeat_wins() {
        let names = FuncNames::from_pairs(vec![(7, "seven"), (2, "two"), (7, "again"), (3, "")]);
        assert_eq!(names.len(), 3);
        assert_eq!(names.get(2), Some("two"));
        assert_eq!(names.get(3), Some(""));
        assert_eq!(names.get(7), Some("seven"));
        assert_eq!(names.get(4), None);
        assert!(FuncNames::default().is_empty());
    }
}
