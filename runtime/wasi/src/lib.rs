//! WASI preview 1 (`wasi_snapshot_preview1`) for command-line programs built with wasi-libc
//! or Rust's `wasm32-wasip1` target.
//!
//! A [`WasiConfig`] says what the guest sees (arguments, environment, preopened directories,
//! standard streams); a [`WasiCtx`] is that made real for one run; [`add_to_linker`] defines
//! the imports around it and [`run_command`] does the whole run. Guest file access is
//! confined to the preopened directories (see `sandbox.rs`).
//!
//! This crate sits on top of the runtime's public API (`wasm-prof-runtime`) and uses nothing
//! below it.
//!
//! ```no_run
//! use wasm_prof_runtime::{Config, Engine, Module};
//! use wasm_prof_wasi::{self as wasi, OutputPipe, OutputStream, WasiConfig};
//!
//! let engine = Engine::new(Config::new())?;
//! let module = Module::from_file(&engine, "hello.wasm")?;
//! let stdout = OutputPipe::new();
//! let mut config = WasiConfig::new();
//! config.arg("hello").stdout(OutputStream::Pipe(stdout.clone()));
//! let status = wasi::run_command(&engine, &module, &config)?;
//! println!("exit {}: {}", status.code, String::from_utf8_lossy(&stdout.contents()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod abi;
mod calls;
mod config;
mod ctx;
mod errno;
mod error;
mod fd_table;
mod guest;
mod imports;
mod os;
mod run;
mod sandbox;
mod server;

pub use config::{InputStream, OutputPipe, OutputStream, Preopen, WasiConfig};
pub use ctx::WasiCtx;
pub use error::WasiError;
pub use imports::{MODULE, add_to_linker, define_unknown_as_enosys};
pub use run::{ExitStatus, run_command, run_command_in, run_command_with_clock};
pub use server::ServerControl;
