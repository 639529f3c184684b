//! Tables for the terminal and for markdown, built from reports.

pub mod gate;
pub mod hashes;
pub mod peers;
pub mod phases;
pub mod table;

use crate::{model::Report, render::table::Table};

/// The tables that show `report`, in order.
pub fn tables(report: &Report) -> Vec<Table> {
    match report {
        Report::Phases(r) => phases::tables(r),
        Report::Hashes(r) => vec![hashes::table(r)],
        Report::Gate(r) => vec![gate::report_table(r)],
    }
}
