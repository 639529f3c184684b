//! SVG charts with plotters' SVG backend (text is written as `<text>` elements, so no font
//! files are needed). Phases: a stacked horizontal bar of phase medians per run. Hashes: a
//! throughput bar per algorithm and, with several sizes, throughput against size.

use plotters::{coord::Shift, prelude::*};
use wasm_prof_runtime::phases::Phase;

use crate::{
    export::Exporter,
    model::{HashesReport, PhasesReport, Report},
    units::format_bytes,
};

/// Draws a report as an SVG chart.
pub struct SvgExporter;

const WIDTH: u32 = 1000;
const FONT: &str = "sans-serif";

fn colour(index: usize) -> RGBColor {
    let c = Palette99::pick(index).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

fn phases_chart(report: &PhasesReport) -> anyhow::Result<String> {
    let runs = &report.runs;
    let labels: Vec<String> = runs.iter().map(|r| r.label()).collect();
    let present: Vec<Phase> = Phase::ALL
        .into_iter()
        .filter(|p| runs.iter().any(|r| r.phases.contains_key(p)))
        .collect();
    // Phases stack into a bar; milestones (`ready`, `first_response`) are moments measured
    // from the process's start, drawn as marks across the bar.
    let (milestones, stacked): (Vec<Phase>, Vec<Phase>) =
        present.iter().partition(|p| p.is_milestone());
    let stacked_ms = |run: &crate::model::Run, below: Option<Phase>| {
        run.phases
            .iter()
            .filter(|(p, _)| !p.is_milestone() && below.is_none_or(|b| **p < b))
            .map(|(_, s)| s.median_ns)
            .sum::<f64>()
            / 1e6
    };
    let longest = runs
        .iter()
        .flat_map(|r| {
            let marks = milestones
                .iter()
                .filter_map(|m| r.phases.get(m))
                .map(|s| s.median_ns / 1e6);
            marks.chain([stacked_ms(r, None)])
        })
        .fold(0.0, f64::max);
    // Room on the right for the legend, so it covers no bar.
    let x_max = if longest > 0.0 { longest * 1.6 } else { 1.0 };
    let height = 120 + (40 * runs.len() as u32).max(22 * present.len() as u32 + 20);
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(8) as u32 * 7 + 20;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = runs.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption("where start-up time goes (median per phase)", (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..x_max, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    labels.get(*i).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .x_desc("milliseconds")
            .label_style((FONT, 13))
            .draw()?;
        for (colour_index, phase) in stacked.iter().enumerate() {
            let fill = colour(colour_index);
            let bars = runs.iter().enumerate().filter_map(|(i, run)| {
                let stats = run.phases.get(phase)?;
                let before = stacked_ms(run, Some(*phase));
                let after = before + stats.median_ns / 1e6;
                let mut bar = Rectangle::new(
                    [
                        (before, SegmentValue::Exact(i)),
                        (after, SegmentValue::Exact(i + 1)),
                    ],
                    fill.filled(),
                );
                bar.set_margin(6, 6, 0, 0);
                Some(bar)
            });
            chart
                .draw_series(bars)?
                .label(phase.name())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], fill.filled()));
        }
        for (mark_index, milestone) in milestones.iter().enumerate() {
            // The first mark drawn wider, so a later one at nearly the same moment (first_response
            // just after ready) leaves it visible on both sides.
            let stroke = if mark_index == 0 {
                BLACK.stroke_width(6)
            } else {
                RED.stroke_width(2)
            };
            let marks = runs.iter().enumerate().filter_map(|(i, run)| {
                let at = run.phases.get(milestone)?.median_ns / 1e6;
                Some(PathElement::new(
                    vec![
                        (at, SegmentValue::Exact(i)),
                        (at, SegmentValue::Exact(i + 1)),
                    ],
                    stroke,
                ))
            });
            chart
                .draw_series(marks)?
                .label(format!("{} (from process start)", milestone.name()))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x + 6, y - 6), (x + 6, y + 6)], stroke)
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((FONT, 13))
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

fn throughput_bars(
    area: &DrawingArea<SVGBackend, Shift>,
    report: &HashesReport,
) -> anyhow::Result<()> {
    let size = report
        .results
        .iter()
        .map(|r| r.size_bytes)
        .max()
        .unwrap_or(0);
    let results: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.size_bytes == size)
        .collect();
    let names: Vec<String> = results.iter().map(|r| r.algo.clone()).collect();
    let top = results
        .iter()
        .map(|r| r.bytes_per_s / 1e9)
        .fold(0.0, f64::max)
        * 1.15;
    let n = results.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "hash throughput at {} (GB/s, higher is better)",
                format_bytes(size)
            ),
            (FONT, 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..top.max(0.001))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                names.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .y_desc("GB/s")
        .label_style((FONT, 13))
        .draw()?;
    chart.draw_series(results.iter().enumerate().map(|(i, r)| {
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), r.bytes_per_s / 1e9),
            ],
            colour(i).filled(),
        );
        bar.set_margin(0, 0, 10, 10);
        bar
    }))?;
    Ok(())
}

fn scaling_lines(
    area: &DrawingArea<SVGBackend, Shift>,
    report: &HashesReport,
) -> anyhow::Result<()> {
    let min = report
        .results
        .iter()
        .map(|r| r.size_bytes)
        .min()
        .unwrap_or(1) as f64;
    let max = report
        .results
        .iter()
        .map(|r| r.size_bytes)
        .max()
        .unwrap_or(2) as f64;
    let top = report
        .results
        .iter()
        .map(|r| r.bytes_per_s / 1e9)
        .fold(0.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption("throughput against buffer size", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((min * 0.8..max * 1.25).log_scale(), 0.0..top.max(0.001))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| format_bytes(*v as u64))
        .x_desc("buffer size")
        .y_desc("GB/s")
        .label_style((FONT, 13))
        .draw()?;
    let mut algos: Vec<&str> = Vec::new();
    for r in &report.results {
        if !algos.contains(&r.algo.as_str()) {
            algos.push(&r.algo);
        }
    }
    for (i, algo) in algos.into_iter().enumerate() {
        let mut points: Vec<(f64, f64)> = report
            .results
            .iter()
            .filter(|r| r.algo == algo)
            .map(|r| (r.size_bytes as f64, r.bytes_per_s / 1e9))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let line = colour(i);
        chart
            .draw_series(LineSeries::new(points.clone(), line.stroke_width(2)))?
            .label(algo)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], line.stroke_width(2))
            });
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, line.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()?;
    Ok(())
}

fn hashes_chart(report: &HashesReport) -> anyhow::Result<String> {
    let mut sizes: Vec<u64> = report.results.iter().map(|r| r.size_bytes).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let several = sizes.len() > 1;
    let height = if several { 900 } else { 450 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        if several {
            let (upper, lower) = root.split_vertically(450);
            throughput_bars(&upper, report)?;
            scaling_lines(&lower, report)?;
        } else {
            throughput_bars(&root, report)?;
        }
        root.present()?;
    }
    Ok(svg)
}

impl Exporter for SvgExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        let svg = match report {
            Report::Phases(r) => phases_chart(r)?,
            Report::Hashes(r) => hashes_chart(r)?,
            Report::Gate(_) => anyhow::bail!("gate reports have no chart; export them as JSON, markdown, BMF, GitHub benchmark data or HTML"),
        };
        Ok(svg.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::fixtures;

    fn render(report: &Report) -> String {
        String::from_utf8(SvgExporter.serialize(report).unwrap()).unwrap()
    }

    #[test]
    fn phases_chart_labels_every_run_and_phase_as_text() {
        let svg = render(&fixtures::phases_report());
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("<text"), "labels are text elements");
        for label in [
            "demo · cold · blake3",
            "demo · cached · blake3",
            "demo · nocache · none",
        ] {
            assert!(svg.contains(label), "missing {label}");
        }
        for phase in ["cache_load", "codegen", "instantiate"] {
            assert!(
                svg.contains(&format!(">{phase}<")) || svg.contains(phase),
                "missing {phase}"
            );
        }
    }

    #[test]
    fn hashes_chart_has_bars_and_a_scaling_curve() {
        let svg = render(&fixtures::hashes_report());
        assert!(svg.contains("hash throughput at 1 MiB"));
        assert!(svg.contains("throughput against buffer size"));
        for algo in ["sha256", "blake3", "xxh3"] {
            assert!(svg.contains(algo), "missing {algo}");
        }
        assert!(svg.contains("<polyline"), "a line per algorithm");
    }
}
