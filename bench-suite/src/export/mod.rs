//! Report exports: one [`Exporter`] per format, and an [`ExportManager`] that owns the targets
//! and does all the writing.

mod bmf;
mod github_benchmark;
mod html;
mod json;
mod markdown;
mod svg;
mod trace;

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use anyhow::{Context, ensure};
use clap::Args;

pub use self::{
    bmf::BmfExporter, github_benchmark::GithubBenchmarkExporter, html::HtmlExporter,
    json::JsonExporter, markdown::MarkdownExporter, svg::SvgExporter, trace::TraceExporter,
};
use crate::model::Report;

/// Turns a report into the bytes of one file format.
pub trait Exporter {
    /// Serializes `report`.
    ///
    /// # Errors
    /// When the format cannot represent the report.
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>>;
}

/// The export flags shared by the commands that produce reports. `-` writes to stdout.
#[derive(Debug, Clone, Default, Args)]
pub struct ExportArgs {
    /// Write the full report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Write an SVG chart to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_svg: Option<PathBuf>,
    /// Write a Chrome trace (chrome://tracing, Perfetto) to FILE (phases reports only).
    #[arg(long, value_name = "FILE")]
    pub export_trace: Option<PathBuf>,
    /// Write the result tables as markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Write one self-contained HTML page (tables and charts, no network needed) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_html: Option<PathBuf>,
    /// Write the results in Bencher Metric Format (for `bencher run --adapter json`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_bmf: Option<PathBuf>,
    /// Write the results as github-action-benchmark `customSmallerIsBetter` JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_github_benchmark: Option<PathBuf>,
}

enum Target {
    Stdout,
    File(PathBuf),
}

/// Owns every export target and writes the report to each.
pub struct ExportManager {
    targets: Vec<(Target, Box<dyn Exporter>)>,
}

/// Why a gate report cannot be a chart or a trace, and what it can be.
pub const GATE_FORMATS: &str = "a gate report has no chart and no timeline: export it as JSON, \
     markdown, HTML, BMF or GitHub benchmark data";

impl ExportManager {
    /// The targets named by `args`, for a gate report: refused before anything is measured
    /// when they ask for a chart or a trace.
    ///
    /// # Errors
    /// When `args` asks for SVG or a trace, or more than one export goes to stdout.
    pub fn for_gate(args: &ExportArgs) -> anyhow::Result<Self> {
        ensure!(
            args.export_svg.is_none() && args.export_trace.is_none(),
            "{GATE_FORMATS}"
        );
        Self::new(args)
    }

    /// The targets named by `args`.
    ///
    /// # Errors
    /// When more than one export goes to stdout.
    pub fn new(args: &ExportArgs) -> anyhow::Result<Self> {
        let requested: [(&Option<PathBuf>, Box<dyn Exporter>); 7] = [
            (&args.export_json, Box::new(JsonExporter)),
            (&args.export_svg, Box::new(SvgExporter)),
            (&args.export_trace, Box::new(TraceExporter)),
            (&args.export_markdown, Box::new(MarkdownExporter)),
            (&args.export_html, Box::new(HtmlExporter)),
            (&args.export_bmf, Box::new(BmfExporter)),
            (
                &args.export_github_benchmark,
                Box::new(GithubBenchmarkExporter),
            ),
        ];
        let targets: Vec<(Target, Box<dyn Exporter>)> = requested
            .into_iter()
            .filter_map(|(path, exporter)| {
                let target = match path.as_deref()? {
                    p if p == Path::new("-") => Target::Stdout,
                    p => Target::File(p.to_path_buf()),
                };
                Some((target, exporter))
            })
            .collect();
        let to_stdout = targets
            .iter()
            .filter(|(t, _)| matches!(t, Target::Stdout))
            .count();
        ensure!(
            to_stdout <= 1,
            "only one export can go to stdout (`-`); give the others a file name"
        );
        Ok(Self { targets })
    }

    /// Whether an export writes to stdout, in which case tables belong on stderr.
    pub fn uses_stdout(&self) -> bool {
        self.targets
            .iter()
            .any(|(t, _)| matches!(t, Target::Stdout))
    }

    /// Rewrites every file target from what has been collected so far, so that a crash later
    /// keeps the results. Stdout targets wait for [`ExportManager::finish`].
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn checkpoint(&self, report: &Report) -> anyhow::Result<()> {
        for (target, exporter) in &self.targets {
            if let Target::File(path) = target {
                write_file(path, &exporter.serialize(report)?)?;
            }
        }
        Ok(())
    }

    /// Writes every target, files and stdout, from the final report.
    ///
    /// # Errors
    /// When a target cannot be written.
    pub fn finish(&self, report: &Report) -> anyhow::Result<()> {
        self.checkpoint(report)?;
        for (target, exporter) in &self.targets {
            if let Target::Stdout = target {
                let bytes = exporter.serialize(report)?;
                std::io::stdout()
                    .lock()
                    .write_all(&bytes)
                    .context("cannot write to stdout")?;
            }
        }
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename,
/// so a reader never sees half a report.
///
/// # Errors
/// When the directory cannot be created or the file cannot be written.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
pub mod fixtures;
