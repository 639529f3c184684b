//! `wasm-prof phases --workload NAME` and `--corpus`: the workloads of corpora/workloads.toml
//! run with their own arguments, directories and stdin, and mistakes in the file are one line.

use std::path::Path;

use wasm_prof::{corpus::Manifest, workloads::Workloads};

use crate::util::{corpus_module, error_lines, repo_root, run, text};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A project directory with the real manifest and the given workloads file.
fn project(workloads: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("corpora")).unwrap();
    std::fs::copy(
        repo_root().join("corpora/manifest.toml"),
        dir.path().join("corpora/manifest.toml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("corpora/workloads.toml"), workloads).unwrap();
    dir
}

#[test]
fn the_boolector_workloads_solve_with_their_exit_codes_and_digests() {
    if corpus_module("boolector").is_none() {
        return;
    }
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("w.json");
    let out = run(
        &repo_root(),
        &[
            "phases",
            "--workload",
            "boolector",
            "--workload",
            "boolector-unsat",
            "--warmup",
            "0",
            "--runs",
            "2",
            "--paths",
            "cold,cached,nocache",
            "--export-json",
            report.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("the stdout of"), "{stderr}");
    assert!(
        stdout.contains("workload `boolector` (args `-d /problems/puzzle.smt2`): exit code 10"),
        "{stdout}"
    );
    assert!(
        stdout.contains("workload `boolector-unsat` (no arguments): exit code 20"),
        "{stdout}"
    );
    let workloads = Workloads::load(&repo_root()).unwrap();
    let report = json(&report);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    for name in ["boolector", "boolector-unsat"] {
        let promised = workloads.get(name).unwrap();
        let theirs: Vec<_> = runs
            .iter()
            .filter(|r| r["module"]["name"] == name)
            .collect();
        assert_eq!(theirs.len(), 3, "{name}: cold, cached, nocache");
        for run in theirs {
            let program = &run["program"];
            assert_eq!(program["workload"], name);
            for sample in program["samples"].as_array().unwrap() {
                assert_eq!(
                    sample["exit_code"],
                    serde_json::to_value(promised.expect_exit).unwrap()
                );
                assert_eq!(
                    sample["stdout_sha256"].as_str(),
                    promised.stdout_sha256.as_deref(),
                    "{name} {}",
                    run["path"]
                );
            }
        }
    }
}

#[test]
fn an_unknown_workload_is_one_line_naming_the_known_ones() {
    let out = run(&repo_root(), &["phases", "--workload", "nope"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(
            "error: there is no workload `nope` in corpora/workloads.toml (there are: workload, \
             boolector"
        ),
        "{stderr}"
    );
}

#[test]
fn guest_options_with_only_a_workload_are_refused() {
    let out = run(
        &repo_root(),
        &["phases", "--workload", "workload", "--", "2"],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        error_lines(&stderr)[0].contains("a workload brings its own"),
        "{stderr}"
    );
}

#[test]
fn mistakes_in_the_workloads_file_are_one_line_and_exit_1() {
    let head = "[[workload]]\nname = \"w\"\nmodule = \"embedded\"\n";
    for (file, says) in [
        ("[[workload]\nname = \"w\"\n", "corpora/workloads.toml:1:"),
        (
            &format!("{head}kind = \"command\"\ncolor = 1\n") as &str,
            "corpora/workloads.toml:5:1: unknown field `color`",
        ),
        (
            &format!("{head}kind = \"reactor\"\n"),
            "corpora/workloads.toml: workload `w`: kind = \"reactor\" needs `invoke`",
        ),
        (
            &format!("{head}kind = \"command\"\nexpect_exit = \"never\"\n"),
            "corpora/workloads.toml:5:15: expected an exit code or \"any\"",
        ),
        (
            &format!("{head}kind = \"command\"\nstdin = \"missing.txt\"\n"),
            "workload w: cannot read",
        ),
        (
            &format!("{head}kind = \"command\"\ndirs = [\"absent::/x\"]\n"),
            "workload w: the directory",
        ),
        (
            "[[workload]]\nname = \"w\"\nmodule = \"nothing.wasm\"\nkind = \"command\"\n",
            "workload w: its module `nothing.wasm` is neither `embedded`",
        ),
        (
            &format!("{head}kind = \"server\"\ntcplisten = [\"localhost:8080\"]\n"),
            "workload `w`: tcplisten: `localhost:8080`: expected HOST:PORT",
        ),
        (
            // The embedded workload never accepts a connection: it exits first.
            &format!("{head}kind = \"server\"\ntcplisten = [\"127.0.0.1:0\"]\n"),
            "exited with code 0 before it answered",
        ),
    ] {
        let dir = project(file);
        let out = run(dir.path(), &["phases", "--workload", "w", "--runs", "1"]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        let errors = error_lines(&stderr);
        assert_eq!(errors.len(), 1, "{file}: {stderr}");
        assert!(errors[0].starts_with("error: "), "{stderr}");
        assert!(errors[0].contains(says), "{file}: {stderr}");
    }
}

#[test]
fn a_workload_whose_stdout_is_not_the_promised_one_fails_naming_it() {
    let dir = project(&format!(
        "[[workload]]\nname = \"w\"\nmodule = \"embedded\"\nkind = \"command\"\n\
         stdout_sha256 = \"{}\"\n",
        "0".repeat(64)
    ));
    let out = run(
        dir.path(),
        &[
            "phases",
            "--workload",
            "w",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--paths",
            "nocache",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(
            "error: workload w (the embedded workload): its stdout on the nocache path \
             (sample 1) has sha256 3e7d4621"
        ),
        "{stderr}"
    );
}

#[test]
fn corpus_runs_every_workload_and_only_instantiates_the_other_modules() {
    let root = repo_root();
    let manifest = Manifest::load(&root).unwrap();
    if manifest
        .modules
        .iter()
        .any(|m| corpus_module(&m.name).is_none())
    {
        return;
    }
    let workloads = Workloads::load(&root).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("corpus.json");
    let out = run(
        &root,
        &[
            "phases",
            "--corpus",
            "--paths",
            "nocache",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--export-json",
            report.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report = json(&report);
    let runs = report["runs"].as_array().unwrap();
    for workload in &workloads.workloads {
        let run = runs
            .iter()
            .find(|r| r["module"]["name"] == workload.name.as_str())
            .unwrap_or_else(|| panic!("no run of the workload {}", workload.name));
        assert_eq!(run["program"]["workload"], workload.name.as_str());
        assert!(run["phases"].get("execute").is_some(), "{}", workload.name);
    }
    let mut instantiated_only = 0;
    for module in &manifest.modules {
        if workloads.workloads.iter().any(|w| w.module == module.name) {
            continue;
        }
        instantiated_only += 1;
        let run = runs
            .iter()
            .find(|r| r["module"]["name"] == module.name.as_str())
            .unwrap_or_else(|| panic!("no run of {}", module.name));
        assert!(run.get("program").is_none(), "{}", module.name);
        assert!(run["phases"].get("execute").is_none(), "{}", module.name);
        assert!(
            run["phases"].get("instantiate").is_some(),
            "{}",
            module.name
        );
        assert!(
            stdout.contains(&format!(
                "compiled and instantiated only: {} is a {} (",
                module.name, module.kind
            )),
            "{}: {stdout}",
            module.name
        );
    }
    assert!(
        instantiated_only >= 6,
        "the JS-host modules have no workload"
    );
    assert_eq!(
        runs.len(),
        workloads.workloads.len() + instantiated_only,
        "one nocache run each"
    );
}
