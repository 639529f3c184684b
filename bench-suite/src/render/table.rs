//! A titled table with notes, rendered aligned for the terminal or as markdown.

use std::fmt::Write as _;

/// A table: a title, a header, rows of cells, and notes printed under it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// What the table shows.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows; each has as many cells as the header.
    pub rows: Vec<Vec<String>>,
    /// Lines of text under the table.
    pub notes: Vec<String>,
}

impl Table {
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        widths
    }

    fn line(cells: &[String], widths: &[usize]) -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, &w))| {
                if i == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    }

    /// Aligned plain text: first column left-aligned, the others right-aligned.
    pub fn to_text(&self) -> String {
        let widths = self.widths();
        let mut out = format!("{}\n", self.title);
        let _ = writeln!(out, "  {}", Self::line(&self.header, &widths));
        let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
        let _ = writeln!(out, "  {}", rule.join("  "));
        for row in &self.rows {
            let _ = writeln!(out, "  {}", Self::line(row, &widths));
        }
        for note in &self.notes {
            let _ = writeln!(out, "  {note}");
        }
        out
    }

    /// A GitHub-flavoured markdown table with the title as a heading and notes as a list.
    pub fn to_markdown(&self) -> String {
        let escape = |cell: &String| cell.replace('|', "\\|");
        let mut out = format!("### {}\n\n", self.title);
        let header: Vec<String> = self.header.iter().map(escape).collect();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let align: Vec<&str> = (0..self.header.len())
            .map(|i| if i == 0 { ":--" } else { "--:" })
            .collect();
        let _ = writeln!(out, "|{}|", align.join("|"));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(escape).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        Table {
            title: "t".into(),
            header: vec!["phase".into(), "cold".into()],
            rows: vec![
                vec!["read".into(), "1 ms".into()],
                vec!["codegen".into(), "120 ms".into()],
            ],
            notes: vec!["a | note".into()],
        }
    }

    #[test]
    fn text_is_aligned() {
        let text = sample().to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "  phase      cold");
        assert_eq!(lines[3], "  read       1 ms");
        assert_eq!(lines[4], "  codegen  120 ms");
    }

    #[test]
    fn markdown_has_header_separator_and_escapes_pipes() {
        let md = sample().to_markdown();
        assert!(
            md.contains("| phase | cold |\n|:--|--:|\n| read | 1 ms |"),
            "{md}"
        );
        assert!(md.contains("- a | note"));
    }
}
