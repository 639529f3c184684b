//! Process-wide ids for function types (WebAssembly 3.0's type canonicalisation):
//! `call_indirect` compares these, so equal types from different modules must get the same id.
//!
//! Types are equal when their recursion groups are: the same number of types, each with the
//! same finality, supertype and signature, where a reference to a type of the same group is
//! compared by its position in the group and a reference to an earlier type by that type's id.
//! A group is interned as a whole; its types get consecutive ids.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, OnceLock},
};

use wasm_prof_environ::{FuncRef, FuncType, HeapType, ModuleInfo, RefType, TypeDecl, Val, ValType};

use crate::vmctx::VMFuncRef;

/// A recursion group as a key: its types with references inside the group written as
/// `HeapType::Module(position in the group)` and references outside as canonical ids.
#[derive(Clone, PartialEq, Eq, Hash)]
struct GroupKey(Vec<(FuncType, Option<SuperRef>, bool)>);

/// A declared supertype in a [`GroupKey`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SuperRef {
    /// A type of the same group, by position.
    InGroup(u32),
    /// An earlier type, by id.
    Canonical(u32),
}

/// What the registry knows of one id.
struct Entry {
    /// The declared supertype's id.
    supertype: Option<u32>,
}

#[derive(Default)]
struct Registry {
    groups: HashMap<GroupKey, u32>,
    entries: Vec<Entry>,
}

static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// The ids of `info`'s types, by type index; equal types (in any module) get equal ids.
pub fn canonical_ids(info: &ModuleInfo) -> Box<[u32]> {
    let mut ids: Vec<u32> = Vec::with_capacity(info.types.len());
    let mut registry = registry();
    let mut start = 0;
    while start < info.types.len() {
        let group = info.type_decls[start].rec_group;
        let end = (start + 1..info.types.len())
            .find(|&i| info.type_decls[i].rec_group != group)
            .unwrap_or(info.types.len());
        let key = group_key(
            &info.types[start..end],
            &info.type_decls[start..end],
            start as u32,
            &ids,
        );
        let first = registry.intern(key, start as u32, &ids, &info.type_decls[start..end]);
        ids.extend(first..first + (end - start) as u32);
        start = end;
    }
    ids.into_boxed_slice()
}

/// The id of a signature declared on its own (a host function's or tag's type, whose
/// references must already be canonical).
pub fn canonical_id(ty: &FuncType) -> u32 {
    let key = GroupKey(vec![(ty.clone(), None, true)]);
    let decl = TypeDecl {
        rec_group: 0,
        supertype: None,
        is_final: true,
    };
    registry().intern(key, 0, &[], &[decl])
}

/// Whether the type with id `sub` is `sup` or declares it, directly or through its
/// supertypes, as a supertype.
pub fn is_subtype(sub: u32, sup: u32) -> bool {
    if sub == sup {
        return true;
    }
    let registry = registry();
    let mut at = sub;
    while let Some(next) = registry
        .entries
        .get(at as usize)
        .and_then(|entry| entry.supertype)
    {
        if next == sup {
            return true;
        }
        at = next;
    }
    false
}

/// Whether `value` is a value of `ty` (whose type references are canonical): a non-null
/// function reference by its function's type id, null by nullability.
pub fn value_matches(value: &Val, ty: &ValType) -> bool {
    let ValType::Ref(expected) = ty else {
        return value.ty() == *ty;
    };
    let (nullable, heap) = match *value {
        Val::FuncRef(None) => (true, HeapType::NoFunc),
        Val::FuncRef(Some(f)) => (false, HeapType::Canonical(funcref_type_id(f))),
        Val::ExternRef(None) => (true, HeapType::NoExtern),
        Val::ExternRef(Some(_)) => (false, HeapType::Extern),
        Val::ExnRef(None) => (true, HeapType::NoExn),
        Val::ExnRef(Some(_)) => (false, HeapType::Exn),
        _ => return false,
    };
    RefType { nullable, heap }.matches(*expected, &is_subtype)
}

/// The type id of the function `f` refers to.
fn funcref_type_id(f: FuncRef) -> u32 {
    // SAFETY: a `FuncRef` holds the address of a `VMFuncRef` that compiled code or an instance
    // handed out; the records live as long as their store, which the embedder keeps while it
    // holds the store's values.
    unsafe { (*(f.address() as *const VMFuncRef)).type_id }
}

impl Registry {
    /// The id of the group's first type, registering the group when it is new.
    fn intern(&mut self, key: GroupKey, start: u32, ids: &[u32], decls: &[TypeDecl]) -> u32 {
        if let Some(first) = self.groups.get(&key) {
            return *first;
        }
        let first = self.entries.len() as u32;
        for decl in decls {
            let supertype = decl.supertype.map(|s| match s.checked_sub(start) {
                Some(position) => first + position,
                None => ids[s as usize],
            });
            self.entries.push(Entry { supertype });
        }
        self.groups.insert(key, first);
        first
    }
}

/// The key of the group of `types` starting at type index `start`, given the ids of all
/// earlier types.
fn group_key(types: &[FuncType], decls: &[TypeDecl], start: u32, ids: &[u32]) -> GroupKey {
    let in_group = |index: u32| index.checked_sub(start);
    let heap = |heap: HeapType| match heap {
        HeapType::Module(index) => match in_group(index) {
            Some(position) => HeapType::Module(position),
            None => HeapType::Canonical(ids[index as usize]),
        },
        other => other,
    };
    let val = |ty: &ValType| match ty {
        ValType::Ref(r) => ValType::Ref(wasm_prof_environ::RefType {
            heap: heap(r.heap),
            ..*r
        }),
        other => *other,
    };
    GroupKey(
        types
            .iter()
            .zip(decls)
            .map(|(ty, decl)| {
                let ty = FuncType {
                    params: ty.params.iter().map(val).collect(),
                    results: ty.results.iter().map(val).collect(),
                };
                let supertype = decl.supertype.map(|s| match in_group(s) {
                    Some(position) => SuperRef::InGroup(position),
                    None => SuperRef::Canonical(ids[s as usize]),
                });
                (ty, supertype, decl.is_final)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use wasm_prof_environ::{HeapType, RefType};

    use super::*;

    fn decl(rec_group: u32, supertype: Option<u32>, is_final: bool) -> TypeDecl {
        TypeDecl {
            rec_group,
            supertype,
            is_final,
        }
    }

    fn refers_to(index: u32) -> FuncType {
        FuncType::new(
            [ValType::Ref(RefType::nullable(HeapType::Module(index)))],
            [],
        )
    }

    #[test]
    fn equal_groups_in_two_modules_share_ids_and_other_groups_do_not() {
        // Module a: type 0 = (func (param i64)); a group of two types that refer to each other.
        let a = ModuleInfo {
            types: vec![
                FuncType::new([ValType::I64], []),
                refers_to(2),
                refers_to(1),
            ],
            type_decls: vec![
                decl(0, None, true),
                decl(1, None, true),
                decl(1, None, true),
            ],
            ..ModuleInfo::default()
        };
        // Module b: the same group first, then the same lone type.
        let b = ModuleInfo {
            types: vec![
                refers_to(1),
                refers_to(0),
                FuncType::new([ValType::I64], []),
            ],
            type_decls: vec![
                decl(0, None, true),
                decl(0, None, true),
                decl(2, None, true),
            ],
            ..ModuleInfo::default()
        };
        let (a, b) = (canonical_ids(&a), canonical_ids(&b));
        assert_eq!(a[0], b[2]);
        assert_eq!(&a[1..], &b[..2]);
        assert_ne!(a[1], a[2], "two positions of one group are two types");
        // The same signature alone is another type than inside a group.
        let c = ModuleInfo {
            types: vec![refers_to(0)],
            type_decls: vec![decl(0, None, true)],
            ..ModuleInfo::default()
        };
        let c = canonical_ids(&c);
        assert!(!a[1..].contains(&c[0]));
    }

    #[test]
    fn declared_supertypes_are_followed_and_finality_is_part_of_the_type() {
        let m = ModuleInfo {
            types: vec![FuncType::default(); 3],
            type_decls: vec![
                decl(0, None, false),
                decl(1, Some(0), false),
                decl(2, Some(1), true),
            ],
            ..ModuleInfo::default()
        };
        let ids = canonical_ids(&m);
        assert!(is_subtype(ids[2], ids[0]));
        assert!(is_subtype(ids[1], ids[0]));
        assert!(!is_subtype(ids[0], ids[1]));
        let lone = canonical_id(&FuncType::default());
        assert_ne!(lone, ids[0], "a final type is not its open namesake");
        assert!(!is_subtype(ids[2], lone));
    }
}
