//! One script's run: its store, its linker (with `spectest` and registered instances), its
//! named modules and instances, and the execution of each directive.

use std::collections::HashMap;

use wasm_prof_runtime::{Engine, Instance, Linker, Module, Store, Val};
use wast::{
    QuoteWat, QuoteWatTest, Wast, WastDirective, WastExecute, WastInvoke, Wat,
    lexer::Lexer,
    parser::{self, ParseBuffer},
    token::{Id, Span},
};

use super::{WastFailure, WastReport, expect, spectest, values};

/// Why a directive did not pass.
pub enum Verdict {
    /// The runtime did something other than what the script says.
    Fail(String),
    /// The runner does not execute this kind of directive.
    Skip(String),
}

impl From<String> for Verdict {
    fn from(message: String) -> Self {
        Verdict::Fail(message)
    }
}

/// A directive's outcome: passed, or why not.
pub type Outcome = Result<(), Verdict>;

/// The state of one script's run.
pub struct Script<'a> {
    name: &'a str,
    text: &'a str,
    engine: &'a Engine,
    store: Store,
    linker: Linker,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
    current: Option<Instance>,
    report: WastReport,
}

impl<'a> Script<'a> {
    /// A fresh run of `text` (labelled `name`) on `engine`.
    pub fn new(engine: &'a Engine, name: &'a str, text: &'a str) -> Self {
        Self {
            name,
            text,
            engine,
            store: Store::new(engine),
            linker: Linker::new(),
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            current: None,
            report: WastReport::default(),
        }
    }

    /// Runs every directive and reports each one's outcome.
    pub fn run(mut self) -> WastReport {
        let start = Span::from_offset(0);
        if let Err(e) = spectest::define(&mut self.linker, &mut self.store) {
            self.record(
                start,
                "script",
                Err(format!("cannot define spectest: {e}").into()),
            );
            return self.report;
        }
        let mut lexer = Lexer::new(self.text);
        lexer.allow_confusing_unicode(true);
        let parsed = ParseBuffer::new_with_lexer(lexer);
        let buffer = match parsed {
            Ok(buffer) => buffer,
            Err(e) => return self.unparsable(e),
        };
        let wast = match parser::parse::<Wast<'_>>(&buffer) {
            Ok(wast) => wast,
            Err(e) => return self.unparsable(e),
        };
        for directive in wast.directives {
            let span = directive.span();
            let keyword = keyword(&directive);
            let outcome = self.directive(directive);
            self.record(span, keyword, outcome);
        }
        self.report
    }

    fn unparsable(mut self, mut error: wast::Error) -> WastReport {
        error.set_text(self.text);
        let outcome = Err(format!("cannot parse the script: {error}").into());
        self.record(error.span(), "script", outcome);
        self.report
    }

    fn record(&mut self, span: Span, directive: &'static str, outcome: Outcome) {
        let (line, col) = span.linecol_in(self.text);
        let failure = |message| WastFailure {
            file: self.name.to_string(),
            line: line + 1,
            col: col + 1,
            directive,
            message,
        };
        match outcome {
            Ok(()) => self.report.passed += 1,
            Err(Verdict::Fail(message)) => self.report.failures.push(failure(message)),
            Err(Verdict::Skip(message)) => self.report.skips.push(failure(message)),
        }
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(mut wat) => {
                let name = wat.name();
                let module = self.compile(&mut wat)?;
                let instance = self.instantiate(&module).map_err(|e| format!("{e}"))?;
                self.bind(name, instance);
                Ok(())
            }
            WastDirective::ModuleDefinition(mut wat) => {
                let name = wat.name();
                let module = self.compile(&mut wat)?;
                if let Some(name) = name {
                    self.definitions.insert(name.name().into(), module.clone());
                }
                self.last_definition = Some(module);
                Ok(())
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let definition = match module {
                    Some(id) => self.definitions.get(id.name()),
                    None => self.last_definition.as_ref(),
                };
                let module = definition
                    .cloned()
                    .ok_or("no such module definition".to_string())?;
                let instance_handle = self.instantiate(&module).map_err(|e| format!("{e}"))?;
                self.bind(instance, instance_handle);
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker.instance(&self.store, name, instance);
                Ok(())
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke)? {
                Ok(_) => Ok(()),
                Err(e) => Err(format!("expected success, got {e}").into()),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let got = self.execute(exec)?;
                let got = got.map_err(|e| format!("expected results, got: {e}"))?;
                if got.len() != results.len() {
                    let got = values::show_all(&got);
                    return Err(format!("expected {} results, got {got}", results.len()).into());
                }
                for (i, (want, got)) in results.iter().zip(&got).enumerate() {
                    values::check(want, got).map_err(|e| format!("result {i}: {e}"))?;
                }
                Ok(())
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let got = self.execute(exec)?;
                expect::trap(got, message)
            }
            WastDirective::AssertException { exec, .. } => {
                let got = self.execute(exec)?;
                expect::exception(got)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let got = self.invoke(&call)?;
                expect::trap(got, message)
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => {
                let bytes = match module.encode() {
                    Ok(bytes) => bytes,
                    Err(e) => return Err(Verdict::Skip(format!("the text does not encode: {e}"))),
                };
                expect::rejected(Module::new(self.engine, &bytes), message)
            }
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => match module.to_test() {
                Ok(QuoteWatTest::Binary(bytes)) => {
                    expect::rejected(Module::new(self.engine, &bytes), message)
                }
                Ok(QuoteWatTest::Text(text)) => match wat::parse_bytes(&text) {
                    Ok(bytes) => expect::rejected(Module::new(self.engine, &bytes), message),
                    Err(_) => Ok(()),
                },
                Err(_) => Ok(()),
            },
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let module = self.compile_wat(&mut module)?;
                expect::unlinkable(self.instantiate(&module), message)
            }
            other => Err(Verdict::Skip(format!(
                "`{}` is not supported by this runner",
                keyword(&other)
            ))),
        }
    }

    /// Encodes and compiles a module that must be valid.
    fn compile(&mut self, wat: &mut QuoteWat<'_>) -> Result<Module, Verdict> {
        if let QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) = wat {
            return Err(Verdict::Skip("components are not supported".into()));
        }
        let bytes = wat
            .encode()
            .map_err(|e| format!("the text does not encode: {e}"))?;
        Ok(Module::new(self.engine, &bytes).map_err(|e| format!("compiling failed: {e}"))?)
    }

    fn compile_wat(&mut self, wat: &mut Wat<'_>) -> Result<Module, Verdict> {
        if let Wat::Component(_) = wat {
            return Err(Verdict::Skip("components are not supported".into()));
        }
        let bytes = wat
            .encode()
            .map_err(|e| format!("the text does not encode: {e}"))?;
        Ok(Module::new(self.engine, &bytes).map_err(|e| format!("compiling failed: {e}"))?)
    }

    fn instantiate(&mut self, module: &Module) -> wasm_prof_runtime::Result<Instance> {
        self.linker.instantiate(&mut self.store, module)
    }

    fn bind(&mut self, name: Option<Id<'_>>, instance: Instance) {
        if let Some(name) = name {
            self.instances.insert(name.name().into(), instance);
        }
        self.current = Some(instance);
    }

    fn instance(&self, name: Option<Id<'_>>) -> Result<Instance, String> {
        match name {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| format!("no instance named ${}", id.name())),
            None => self.current.ok_or_else(|| "no instance yet".to_string()),
        }
    }

    /// Runs an invocation, a module instantiation or a global read.
    fn execute(
        &mut self,
        exec: WastExecute<'_>,
    ) -> Result<wasm_prof_runtime::Result<Vec<Val>>, Verdict> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(mut wat) => {
                let module = self.compile_wat(&mut wat)?;
                Ok(self.instantiate(&module).map(|_| Vec::new()))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let global = instance
                    .get_global(&self.store, global)
                    .ok_or_else(|| format!("no global export {global:?}"))?;
                Ok(Ok(vec![global.get(&self.store)]))
            }
        }
    }

    fn invoke(
        &mut self,
        invoke: &WastInvoke<'_>,
    ) -> Result<wasm_prof_runtime::Result<Vec<Val>>, Verdict> {
        let instance = self.instance(invoke.module)?;
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| format!("no function export {:?}", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(values::arg)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Verdict::Skip)?;
        Ok(func.call(&mut self.store, &args))
    }
}

/// The keyword that starts `directive`.
fn keyword(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
    }
}
