//! Typed function calls: Rust types in, Rust types out, signature checked once.

use std::marker::PhantomData;

use crate::{
    error::{Error, Result},
    store::{Func, Store},
    types::{Val, ValType},
};

/// A Rust type that carries one wasm value.
pub trait WasmTy: Copy {
    /// The wasm type.
    const TYPE: ValType;
    /// As a [`Val`].
    fn into_val(self) -> Val;
    /// From a [`Val`] of type [`WasmTy::TYPE`].
    fn from_val(val: Val) -> Option<Self>;
}

macro_rules! wasm_ty {
    ($rust:ty, $ty:ident, $into:expr, $from:pat => $out:expr) => {
        impl WasmTy for $rust {
            const TYPE: ValType = ValType::$ty;
            fn into_val(self) -> Val {
                ($into)(self)
            }
            fn from_val(val: Val) -> Option<Self> {
                match val {
                    $from => Some($out),
                    _ => None,
                }
            }
        }
    };
}

wasm_ty!(i32, I32, Val::I32, Val::I32(v) => v);
wasm_ty!(i64, I64, Val::I64, Val::I64(v) => v);
wasm_ty!(f32, F32, |v: f32| Val::F32(v.to_bits()), Val::F32(v) => f32::from_bits(v));
wasm_ty!(f64, F64, |v: f64| Val::F64(v.to_bits()), Val::F64(v) => f64::from_bits(v));
wasm_ty!(u128, V128, Val::V128, Val::V128(v) => v);

/// A list of values a typed function takes or returns: `()`, one [`WasmTy`], or a tuple.
pub trait WasmList: Sized {
    /// The wasm types, in order.
    fn types() -> Vec<ValType>;
    /// As [`Val`]s.
    fn into_vals(self) -> Vec<Val>;
    /// From [`Val`]s of [`WasmList::types`].
    fn from_vals(vals: &[Val]) -> Option<Self>;
}

impl<T: WasmTy> WasmList for T {
    fn types() -> Vec<ValType> {
        vec![T::TYPE]
    }
    fn into_vals(self) -> Vec<Val> {
        vec![self.into_val()]
    }
    fn from_vals(vals: &[Val]) -> Option<Self> {
        match vals {
            [v] => T::from_val(*v),
            _ => None,
        }
    }
}

macro_rules! wasm_tuple {
    ($($name:ident),*) => {
        impl<$($name: WasmTy),*> WasmList for ($($name,)*) {
            fn types() -> Vec<ValType> {
                vec![$($name::TYPE),*]
            }
            #[allow(non_snake_case)]
            fn into_vals(self) -> Vec<Val> {
                let ($($name,)*) = self;
                vec![$($name.into_val()),*]
            }
            #[allow(non_snake_case, unused_mut, unused_variables)]
            fn from_vals(vals: &[Val]) -> Option<Self> {
                let mut iter = vals.iter().copied();
                let result = ($($name::from_val(iter.next()?)?,)*);
                iter.next().is_none().then_some(result)
            }
        }
    };
}

wasm_tuple!();
wasm_tuple!(A);
wasm_tuple!(A, B);
wasm_tuple!(A, B, C);
wasm_tuple!(A, B, C, D);
wasm_tuple!(A, B, C, D, E);
wasm_tuple!(A, B, C, D, E, F);

/// A function whose signature was checked against `P -> R`.
pub struct TypedFunc<P, R> {
    func: Func,
    _signature: PhantomData<fn(P) -> R>,
}

impl Func {
    /// This function as a [`TypedFunc`] taking `P` and returning `R`.
    ///
    /// # Errors
    /// [`Error::BadCall`] when the function's signature is not `P -> R`.
    pub fn typed<P: WasmList, R: WasmList>(&self, store: &Store) -> Result<TypedFunc<P, R>> {
        let ty = self.ty(store);
        if ty.params != P::types() || ty.results != R::types() {
            return Err(Error::BadCall(format!(
                "the function's signature is {ty}, not the requested one"
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _signature: PhantomData,
        })
    }
}

impl<P: WasmList, R: WasmList> TypedFunc<P, R> {
    /// Calls the function.
    ///
    /// # Errors
    /// [`Error::Trap`] when the guest traps.
    pub fn call(&self, store: &mut Store, params: P) -> Result<R> {
        let results = self.func.call(store, &params.into_vals())?;
        Ok(R::from_vals(&results).expect("results match the checked signature"))
    }
}
