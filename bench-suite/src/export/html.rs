//! One self-contained HTML page: the report's tables and its charts (inline SVG), styled by
//! an inline style sheet, with no script and nothing fetched from the network.

use std::fmt::Write as _;

use crate::{
    export::{Exporter, svg},
    model::Report,
    render::{self, table::Table},
};

/// Writes a report as one HTML page readable offline.
pub struct HtmlExporter;

const STYLE: &str = "\
body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}\
th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}\
th:first-child,td:first-child{text-align:left}\
th{background:#f3f3f3}tr:hover td{background:#fafafa}\
p.note{color:#555;font-size:.85em;margin:.2em 0}\
figure{margin:1em 0}svg{max-width:100%;height:auto}\
td.regressed{color:#b00;font-weight:bold}";

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table_html(table: &Table, out: &mut String) {
    let _ = write!(out, "<h2>{}</h2>\n<table>\n<tr>", escape(&table.title));
    for cell in &table.header {
        let _ = write!(out, "<th>{}</th>", escape(cell));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if cell == "REGRESSED" {
                " class=\"regressed\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    for note in &table.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(note));
    }
}

fn title(report: &Report) -> &'static str {
    match report {
        Report::Phases(_) => "wasm-prof: where start-up time goes",
        Report::Hashes(_) => "wasm-prof: cache-key hash throughput",
        Report::Gate(_) => "wasm-prof: regression gate",
    }
}

impl Exporter for HtmlExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{0}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{0}</h1>\n",
            escape(title(report))
        );
        for chart in svg::charts(report)? {
            let _ = write!(out, "<figure>\n{chart}\n</figure>\n");
        }
        for table in render::tables(report) {
            table_html(&table, &mut out);
        }
        out.push_str("</body>\n</html>\n");
        Ok(out.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures;

    fn page(report: &Report) -> String {
        String::from_utf8(HtmlExporter.serialize(report).unwrap()).unwrap()
    }

    #[test]
    fn a_page_holds_its_charts_and_tables_and_fetches_nothing() {
        for report in [
            fixtures::phases_report(),
            fixtures::hashes_report(),
            fixtures::gate_report(),
        ] {
            let html = page(&report);
            assert!(html.starts_with("<!DOCTYPE html>"));
            assert!(html.contains("<table>") && html.contains("<style>"));
            for remote in ["http://", "https://", "<script", "<link", "src="] {
                let outside_svg_namespace = html.replace("http://www.w3.org/2000/svg", "");
                assert!(
                    !outside_svg_namespace.contains(remote),
                    "the page refers to {remote}"
                );
            }
        }
        let phases = page(&fixtures::phases_report());
        assert!(phases.matches("<svg").count() >= 1, "a chart per module");
        assert!(phases.contains("<td>codegen</td>"));
        let gate = page(&fixtures::gate_report());
        assert!(gate.contains("<td class=\"regressed\">REGRESSED</td>"));
    }

    #[test]
    fn text_is_escaped() {
        let mut out = String::new();
        table_html(
            &Table {
                title: "a < b".into(),
                header: vec!["x&y".into()],
                rows: vec![vec!["<script>".into()]],
                notes: vec![],
            },
            &mut out,
        );
        assert!(out.contains("a &lt; b") && out.contains("x&amp;y"));
        assert!(!out.contains("<script>"));
    }
}
