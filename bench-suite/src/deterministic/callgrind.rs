//! Running a process under valgrind's callgrind and reading its instruction count.

use std::{
    path::Path,
    process::{Command, Output},
};

use anyhow::{Context, bail};

/// `valgrind --version` (`valgrind-3.19.0`).
///
/// # Errors
/// When valgrind is not installed or does not answer.
pub fn valgrind_version() -> anyhow::Result<String> {
    let out = Command::new("valgrind")
        .arg("--version")
        .output()
        .context("valgrind is missing: run scripts/install-deps.sh (Debian package valgrind)")?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || version.is_empty() {
        bail!("`valgrind --version` failed: is valgrind installed correctly?");
    }
    Ok(version)
}

/// The total `Ir` of a callgrind output file: its `summary:` line, else its `totals:` line.
pub fn total_ir(text: &str) -> Option<u64> {
    ["summary:", "totals:"].into_iter().find_map(|key| {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    })
}

/// Runs `program args` under callgrind, counting only inside the functions whose (demangled)
/// names match the glob `within`, its profile written to `profile`; returns its output and its
/// instruction count.
///
/// # Errors
/// When valgrind cannot start, the program fails (its stderr is quoted), or the profile has
/// no total or a total of zero (no function matched `within`).
pub fn run(
    program: &Path,
    args: &[String],
    within: &str,
    profile: &Path,
) -> anyhow::Result<(Output, u64)> {
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", profile.display()))
        .arg(format!("--toggle-collect={within}"))
        .arg(program)
        .args(args)
        .output()
        .context("cannot start valgrind: run scripts/install-deps.sh")?;
    if !out.status.success() {
        bail!(
            "`{} {}` failed under valgrind ({}): {}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = std::fs::read_to_string(profile)
        .with_context(|| format!("cannot read the callgrind profile {}", profile.display()))?;
    let ir = total_ir(&text).with_context(|| {
        format!(
            "the callgrind profile {} has no summary: or totals: line",
            profile.display()
        )
    })?;
    if ir == 0 {
        bail!(
            "callgrind counted no instruction in `{within}` of {}: is it a wasm-prof build \
             whose sample runs through that function?",
            program.display()
        );
    }
    Ok((out, ir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_is_read_before_the_totals() {
        let text = "version: 1\nevents: Ir\nfn=main\n1 5\nsummary: 516596221\ntotals: 1\n";
        assert_eq!(total_ir(text), Some(516_596_221));
        assert_eq!(total_ir("events: Ir\ntotals: 42\n"), Some(42));
        assert_eq!(total_ir("events: Ir\n"), None);
        assert_eq!(total_ir("summary: many\n"), None);
    }
}
