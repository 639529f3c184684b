//! The same tables the terminal shows, as markdown.

use crate::{export::Exporter, model::Report, render};

/// Writes every table of the report as a markdown table.
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        let tables: Vec<String> = render::tables(report)
            .iter()
            .map(|t| t.to_markdown())
            .collect();
        Ok(tables.join("\n").into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures;

    #[test]
    fn has_one_row_per_phase_and_a_total() {
        let md = String::from_utf8(
            MarkdownExporter
                .serialize(&fixtures::phases_report())
                .unwrap(),
        )
        .unwrap();
        assert!(md.starts_with("### demo"), "{md}");
        assert!(md.contains("| phase | cold | cached | nocache |"), "{md}");
        assert!(md.contains("| codegen |"));
        assert!(md.contains("| total |"));
        assert!(md.contains("where the time goes"));
        let md = String::from_utf8(
            MarkdownExporter
                .serialize(&fixtures::hashes_report())
                .unwrap(),
        )
        .unwrap();
        assert!(md.contains("| blake3 | yes |"), "{md}");
        assert!(md.contains("skipped meowhash"));
    }
}
