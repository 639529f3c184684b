//! The `.wast` runner judges: right results pass, wrong ones fail with where and why, and
//! directives it cannot run are counted as skipped.

use std::fs;

use wasm_prof::wast::{self, WastReport, WastRunner};

fn run(text: &str) -> WastReport {
    WastRunner::new().unwrap().run_text("test.wast", text)
}

const GUEST: &str = r#"
(module $m
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "print_i32" (func $print (param i32)))
  (memory 1)
  (func (export "add") (param i32 i32) (result i32) (local.get 0) (local.get 1) (i32.add))
  (func (export "g") (result i32) (global.get $g))
  (func (export "nan") (result f32) (f32.const nan))
  (func (export "nan:arith") (result f64) (f64.const nan:0xc000000000001))
  (func (export "lanes") (result v128) (v128.const f32x4 1 nan -0 inf))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func $r (export "recurse") (call $r))
  (func (export "print") (call $print (i32.const 1)))
  (func (export "null") (result externref) (ref.null extern))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "fref") (result funcref) (ref.func $r))
  (global (export "seven") i32 (i32.const 7))
)
"#;

#[test]
fn a_correct_script_passes_every_directive() {
    let script = format!(
        r#"{GUEST}
(assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 5))
(assert_return (invoke "g") (i32.const 666))
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (invoke "nan:arith") (f64.const nan:arithmetic))
(assert_return (invoke "lanes") (v128.const f32x4 1 nan:canonical -0 inf))
(assert_return (invoke "null") (ref.null extern))
(assert_return (invoke "id" (ref.extern 4)) (ref.extern 4))
(assert_return (invoke "fref") (ref.func))
(assert_return (get "seven") (i32.const 7))
(invoke "print")
(assert_trap (invoke "load" (i32.const 65535)) "out of bounds memory access")
(assert_exhaustion (invoke "recurse") "call stack exhausted")
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_malformed (module quote "(func (i32.const))") "unexpected token")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_unlinkable (module (import "spectest" "nope" (func))) "unknown import")
(assert_trap (module (memory 1) (data (i32.const 70000) "x")) "out of bounds memory access")
(register "M" $m)
(module (import "M" "add" (func $add (param i32 i32) (result i32)))
  (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
(assert_return (invoke "twice" (i32.const 21)) (i32.const 42))
(assert_return (invoke $m "add" (i32.const 1) (i32.const 1)) (i32.const 2))
"#
    );
    let report = run(&script);
    assert!(report.is_clean(), "{:#?}", report);
    assert_eq!(report.passed, 22);
}

#[test]
fn wrong_expectations_fail_with_where_and_why() {
    let script = format!(
        r#"{GUEST}
(assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 6))
(assert_return (invoke "nan:arith") (f64.const nan:canonical))
(assert_return (invoke "lanes") (v128.const f32x4 1 nan:canonical 0 inf))
(assert_return (invoke "null") (ref.extern 1))
(assert_return (invoke "add" (i32.const 2) (i32.const 3)))
(assert_trap (invoke "load" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "load" (i32.const 65535)) "integer divide by zero")
(assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")
(assert_unlinkable (module (import "spectest" "global_i32" (global i32))) "unknown import")
(assert_return (invoke "missing"))
"#
    );
    let report = run(&script);
    assert_eq!(report.passed, 1);
    assert_eq!(report.failed(), 10, "{:#?}", report.failures);
    let first = &report.failures[0];
    assert_eq!(
        (first.file.as_str(), first.line, first.col),
        ("test.wast", 20, 2)
    );
    assert_eq!(first.directive, "assert_return");
    assert!(first.message.contains("expected i32:6") && first.message.contains("got i32:5"));
    assert!(
        report.failures[6]
            .message
            .contains("out of bounds memory access")
    );
}

#[test]
fn unsupported_directives_are_skipped_and_unparsable_scripts_fail() {
    let report = run(r#"(module) (thread $t (invoke "x")) (wait $t)"#);
    assert_eq!(
        (report.passed, report.failed(), report.skipped()),
        (1, 0, 2)
    );
    let report = run("(module (func)");
    assert_eq!(report.failed(), 1);
    assert!(report.failures[0].message.contains("cannot parse"));
}

#[test]
fn the_command_walks_directories_and_prints_a_closing_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    fs::write(dir.path().join("b.wast"), "(module)").unwrap();
    fs::write(
        dir.path().join("sub/a.wast"),
        "(assert_return (invoke \"f\"))",
    )
    .unwrap();
    fs::write(dir.path().join("notes.txt"), "not a script").unwrap();
    let scripts = wast::collect_scripts(&[dir.path().to_path_buf()]).unwrap();
    let names: Vec<_> = scripts
        .iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap())
        .collect();
    assert_eq!(names, ["b.wast", "sub/a.wast"].map(std::path::Path::new));
    let mut out = Vec::new();
    let result = wast::command(&[dir.path().to_path_buf()], &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(result.is_err());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("sub/a.wast:1:2: assert_return: no instance yet"),
        "{out}"
    );
    assert_eq!(lines[1], "wast: 1 passed, 1 failed, 0 skipped");
}
