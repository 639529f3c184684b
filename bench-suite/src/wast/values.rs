//! Converting script values to runtime values, and checking results against the patterns of
//! `assert_return`.

use wasm_prof_runtime::Val;
use wast::{
    WastArg, WastRet,
    core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore},
};

/// The runtime value of an `invoke` argument.
///
/// # Errors
/// A message when the argument is of a kind this runtime has no value for.
pub fn arg(arg: &WastArg<'_>) -> Result<Val, String> {
    let WastArg::Core(core) = arg else {
        return Err("component-model argument".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => match abstract_heap(heap) {
            Some(AbstractHeapType::Func | AbstractHeapType::NoFunc) => Val::FuncRef(None),
            Some(AbstractHeapType::Extern | AbstractHeapType::NoExtern) => Val::ExternRef(None),
            Some(AbstractHeapType::Exn | AbstractHeapType::NoExn) => Val::ExnRef(None),
            None if matches!(heap, HeapType::Concrete(_)) => Val::FuncRef(None),
            _ => return Err(format!("unsupported null reference type {heap:?}")),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(*n)),
        WastArgCore::RefHost(_) => return Err("host references are not supported".into()),
    })
}

fn abstract_heap(heap: &HeapType<'_>) -> Option<AbstractHeapType> {
    match heap {
        HeapType::Abstract { shared: false, ty } => Some(*ty),
        _ => None,
    }
}

/// Checks `got` against the expected pattern `want`.
///
/// # Errors
/// What was expected and what came instead, when they differ.
pub fn check(want: &WastRet<'_>, got: &Val) -> Result<(), String> {
    let WastRet::Core(want) = want else {
        return Err("component-model result pattern".into());
    };
    if matches(want, got)? {
        Ok(())
    } else {
        Err(format!("expected {}, got {}", describe(want), show(got)))
    }
}

/// Whether `got` fits `want`; an error for a pattern the runner cannot check.
fn matches(want: &WastRetCore<'_>, got: &Val) -> Result<bool, String> {
    Ok(match (want, got) {
        (WastRetCore::I32(w), Val::I32(g)) => w == g,
        (WastRetCore::I64(w), Val::I64(g)) => w == g,
        (WastRetCore::F32(w), Val::F32(g)) => f32_matches(w, *g),
        (WastRetCore::F64(w), Val::F64(g)) => f64_matches(w, *g),
        (WastRetCore::V128(w), Val::V128(g)) => v128_matches(w, *g),
        (WastRetCore::RefNull(heap), Val::FuncRef(r)) => {
            r.is_none() && heap_allows(heap.as_ref(), AbstractHeapType::Func)
        }
        (WastRetCore::RefNull(heap), Val::ExternRef(r)) => {
            r.is_none() && heap_allows(heap.as_ref(), AbstractHeapType::Extern)
        }
        (WastRetCore::RefNull(heap), Val::ExnRef(r)) => {
            r.is_none() && heap_allows(heap.as_ref(), AbstractHeapType::Exn)
        }
        (WastRetCore::RefExtern(w), Val::ExternRef(g)) => match (w, g) {
            (Some(w), Some(g)) => w == g,
            (None, Some(_)) => true,
            (_, None) => false,
        },
        (WastRetCore::RefFunc(_), Val::FuncRef(g)) => g.is_some(),
        (WastRetCore::Either(options), got) => {
            for option in options {
                if matches(option, got)? {
                    return Ok(true);
                }
            }
            false
        }
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => return Err(format!("unsupported result pattern {}", describe(want))),
        _ => false,
    })
}

fn heap_allows(heap: Option<&HeapType<'_>>, kind: AbstractHeapType) -> bool {
    match heap.and_then(abstract_heap) {
        None => heap.is_none(),
        Some(AbstractHeapType::NoFunc) => kind == AbstractHeapType::Func,
        Some(AbstractHeapType::NoExtern) => kind == AbstractHeapType::Extern,
        Some(AbstractHeapType::NoExn) => kind == AbstractHeapType::Exn,
        Some(ty) => ty == kind,
    }
}

fn f32_matches(want: &NanPattern<wast::token::F32>, got: u32) -> bool {
    match want {
        NanPattern::Value(w) => w.bits == got,
        NanPattern::CanonicalNan => got & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => got & 0x7fc0_0000 == 0x7fc0_0000,
    }
}

fn f64_matches(want: &NanPattern<wast::token::F64>, got: u64) -> bool {
    const QUIET: u64 = 0x7ff8_0000_0000_0000;
    match want {
        NanPattern::Value(w) => w.bits == got,
        NanPattern::CanonicalNan => got & 0x7fff_ffff_ffff_ffff == QUIET,
        NanPattern::ArithmeticNan => got & QUIET == QUIET,
    }
}

fn v128_matches(want: &V128Pattern, got: u128) -> bool {
    let bytes = got.to_le_bytes();
    match want {
        V128Pattern::I8x16(w) => w.iter().zip(bytes).all(|(w, g)| *w as u8 == g),
        V128Pattern::I16x8(w) => w
            .iter()
            .zip(lanes::<2>(&bytes))
            .all(|(w, g)| *w as u16 as u64 == g),
        V128Pattern::I32x4(w) => w
            .iter()
            .zip(lanes::<4>(&bytes))
            .all(|(w, g)| *w as u32 as u64 == g),
        V128Pattern::I64x2(w) => w
            .iter()
            .zip(lanes::<8>(&bytes))
            .all(|(w, g)| *w as u64 == g),
        V128Pattern::F32x4(w) => w
            .iter()
            .zip(lanes::<4>(&bytes))
            .all(|(w, g)| f32_matches(w, g as u32)),
        V128Pattern::F64x2(w) => w
            .iter()
            .zip(lanes::<8>(&bytes))
            .all(|(w, g)| f64_matches(w, g)),
    }
}

/// The little-endian lanes of `N` bytes each.
fn lanes<const N: usize>(bytes: &[u8; 16]) -> impl Iterator<Item = u64> + '_ {
    bytes.chunks_exact(N).map(|lane| {
        let mut wide = [0u8; 8];
        wide[..N].copy_from_slice(lane);
        u64::from_le_bytes(wide)
    })
}

/// A runtime value as the script would write it.
pub fn show(val: &Val) -> String {
    match val {
        Val::I32(v) => format!("i32:{v} ({:#x})", *v as u32),
        Val::I64(v) => format!("i64:{v} ({:#x})", *v as u64),
        Val::F32(bits) => format!("f32:{} ({bits:#010x})", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64:{} ({bits:#018x})", f64::from_bits(*bits)),
        Val::V128(v) => format!("v128:{v:#034x}"),
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(_)) => "ref.func".into(),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExternRef(Some(n)) => format!("ref.extern {n}"),
        Val::ExnRef(None) => "ref.null exn".into(),
        Val::ExnRef(Some(_)) => "ref.exn".into(),
    }
}

/// Several runtime values as the script would write them.
pub fn show_all(vals: &[Val]) -> String {
    let shown: Vec<String> = vals.iter().map(show).collect();
    format!("[{}]", shown.join(", "))
}

fn describe(want: &WastRetCore<'_>) -> String {
    match want {
        WastRetCore::I32(v) => format!("i32:{v} ({:#x})", *v as u32),
        WastRetCore::I64(v) => format!("i64:{v} ({:#x})", *v as u64),
        WastRetCore::F32(NanPattern::Value(v)) => show(&Val::F32(v.bits)),
        WastRetCore::F64(NanPattern::Value(v)) => show(&Val::F64(v.bits)),
        WastRetCore::F32(nan) => format!("f32:{}", nan_name(nan)),
        WastRetCore::F64(nan) => format!("f64:{}", nan_name(nan)),
        WastRetCore::V128(pattern) => format!("v128:{pattern:?}"),
        WastRetCore::RefNull(_) => "ref.null".into(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefExtern(None) => "ref.extern".into(),
        WastRetCore::RefFunc(_) => "ref.func".into(),
        WastRetCore::Either(options) => {
            let shown: Vec<String> = options.iter().map(describe).collect();
            format!("either({})", shown.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

fn nan_name<T>(nan: &NanPattern<T>) -> &'static str {
    match nan {
        NanPattern::CanonicalNan => "nan:canonical",
        NanPattern::ArithmeticNan => "nan:arithmetic",
        NanPattern::Value(_) => "value",
    }
}
