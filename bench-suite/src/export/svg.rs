//! SVG charts with plotters' SVG backend (text is written as `<text>` elements, so no font
//! files are needed).
//!
//! Phases: one chart per module. Its heading gives each path's total and how many times faster
//! the cached path is than the cold one; a log-scale panel draws each path's total, so a 0.4 ms
//! hit and a 400 ms compile are both readable; a second panel draws each path as 100% of its
//! own time, split by phase. Each phase has one colour in every chart, and the legend has a
//! band of its own. Hashes: throughput at the largest size, and throughput against size.

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use wasm_prof_runtime::phases::Phase;

use crate::{
    export::{Exporter, GATE_FORMATS},
    model::{HashesReport, PathKind, PhasesReport, Report, Run, WASM_PROF_ENGINE},
    render::phases::load_ns,
    units::{format_bytes, format_ns, format_rate},
};

/// Draws a report as one SVG document (the charts of every module, one under the other).
pub struct SvgExporter;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

const WIDTH: u32 = 1000;
const FONT: &str = "sans-serif";
/// Left margin for row labels.
const LABEL_WIDTH: i32 = 190;
const ROW: i32 = 30;
const HEADING: i32 = 86;
const LEGEND_ROW: i32 = 22;
const LEGEND_ITEM: i32 = 160;

/// One colour per phase, by its place in [`Phase::ALL`]: the same phase has the same colour
/// in every chart.
const PHASE_COLOURS: [RGBColor; 20] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xa0, 0xcb, 0xe8),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xff, 0xbe, 0x7d),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0x8c, 0xd1, 0x7d),
    RGBColor(0xb6, 0x99, 0x2d),
    RGBColor(0xf1, 0xce, 0x63),
    RGBColor(0x49, 0x98, 0x94),
    RGBColor(0x86, 0xbc, 0xb6),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0xff, 0x9d, 0x9a),
    RGBColor(0x79, 0x70, 0x6e),
    RGBColor(0xba, 0xb0, 0xac),
    RGBColor(0xd3, 0x72, 0xa9),
    RGBColor(0xfa, 0xbf, 0xd2),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xd4, 0xa6, 0xc8),
    RGBColor(0x9d, 0x76, 0x60),
    RGBColor(0xd7, 0xb5, 0xa6),
];

/// One colour per cache path in the totals panel.
fn path_colour(path: PathKind) -> RGBColor {
    match path {
        PathKind::Cold => RGBColor(0x4e, 0x79, 0xa7),
        PathKind::Cached => RGBColor(0x59, 0xa1, 0x4f),
        PathKind::Nocache => RGBColor(0x79, 0x70, 0x6e),
        PathKind::Remote => RGBColor(0xf2, 0x8e, 0x2b),
    }
}

/// The fixed colour of `phase`.
pub fn phase_colour(phase: Phase) -> RGBColor {
    let index = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0);
    PHASE_COLOURS[index % PHASE_COLOURS.len()]
}

/// Black or white, whichever reads better on `fill`.
fn text_colour(fill: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(fill.0) + 0.587 * f64::from(fill.1) + 0.114 * f64::from(fill.2);
    if luma > 150.0 { BLACK } else { WHITE }
}

/// Rough width in pixels of `text` at `size` px in a sans-serif font.
fn text_width(text: &str, size: i32) -> i32 {
    (text.chars().count() as f64 * f64::from(size) * 0.56).ceil() as i32
}

/// The time a run's phases add up to (milestones excluded: they are moments, not spans).
fn stacked_ns(run: &Run) -> f64 {
    run.phases
        .iter()
        .filter(|(p, _)| !p.is_milestone())
        .map(|(_, s)| s.median_ns)
        .sum()
}

/// A run's label inside its module's chart: the module name left out.
fn row_label(run: &Run) -> String {
    if run.engine == WASM_PROF_ENGINE {
        format!("{} · {}", run.path, run.hash)
    } else {
        format!("{} · {} · {}", run.engine, run.path, run.hash)
    }
}

/// The heading's second line: every path's total, and what the cache saves.
fn summary(runs: &[&Run]) -> String {
    let own = |path| {
        runs.iter()
            .find(|r| r.engine == WASM_PROF_ENGINE && r.path == path)
            .copied()
    };
    let mut parts: Vec<String> = [PathKind::Cold, PathKind::Cached, PathKind::Nocache]
        .into_iter()
        .filter_map(|path| own(path).map(|r| format!("{path} {}", format_ns(r.total.median_ns))))
        .collect();
    if let (Some(cold), Some(cached)) = (own(PathKind::Cold), own(PathKind::Cached))
        && cached.total.median_ns > 0.0
    {
        let ratio = cold.total.median_ns / cached.total.median_ns;
        let saved = 1.0 - cached.total.median_ns / cold.total.median_ns;
        let digits = if saved >= 0.9995 { 2 } else { 1 };
        parts.push(format!(
            "a cache hit is {} faster than a cold start (saves {:.digits$}%)",
            format_ratio(ratio),
            saved * 100.0
        ));
    }
    parts.join(" · ")
}

/// The heading's third line: the time to a loaded module on the cold and cached paths.
fn load_summary(runs: &[&Run]) -> Option<String> {
    let own = |path| {
        runs.iter()
            .find(|r| r.engine == WASM_PROF_ENGINE && r.path == path)
            .copied()
    };
    let cold = load_ns(own(PathKind::Cold)?)?;
    let cached = load_ns(own(PathKind::Cached)?)?;
    (cached > 0.0).then(|| {
        format!(
            "loading the module (every phase before instantiate): cold {} · cached {} · {} \
             faster from the cache",
            format_ns(cold),
            format_ns(cached),
            format_ratio(cold / cached)
        )
    })
}

/// `1,234x`, `56x`, `3.4x`.
fn format_ratio(ratio: f64) -> String {
    if ratio >= 1000.0 {
        let whole = format!("{ratio:.0}");
        let mut out = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        format!("{out}×")
    } else if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else {
        format!("{ratio:.1}×")
    }
}

/// The phases (not milestones) any of `runs` recorded, in [`Phase::ALL`] order.
fn phases_of(runs: &[&Run]) -> Vec<Phase> {
    Phase::ALL
        .into_iter()
        .filter(|p| !p.is_milestone() && runs.iter().any(|r| r.phases.contains_key(p)))
        .collect()
}

/// The height of one module's chart.
fn module_height(runs: &[&Run]) -> u32 {
    let rows = runs.len() as i32;
    let per_row = ((WIDTH as i32 - 40) / LEGEND_ITEM) as usize;
    let legend_rows = phases_of(runs).len().div_ceil(per_row) as i32;
    (HEADING + 24 + rows * ROW + 40 + 30 + rows * ROW + 20 + legend_rows * LEGEND_ROW + 20) as u32
}

/// The least distance in pixels between the centres of two tick labels on the totals axis.
const MIN_TICK_LABEL_GAP: i32 = 64;

/// Tick values on a log axis from `low` to `high`: 1, 2 and 5 times each power of ten.
fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(low.log10().floor());
    while decade <= high {
        for step in [1.0, 2.0, 5.0] {
            let tick = decade * step;
            if tick >= low && tick <= high {
                ticks.push(tick);
            }
        }
        decade *= 10.0;
    }
    ticks
}

/// The totals panel: one bar per run on a log-scale time axis, its total written at its end.
fn totals_panel(area: &Area, runs: &[&Run]) -> anyhow::Result<()> {
    let (width, _) = area.dim_in_pixel();
    let width = width as i32;
    let caption = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    area.draw(&Text::new(
        "total per path (log scale: every bar readable, each step right 10× slower)",
        (width / 2, 0),
        caption,
    ))?;
    let totals: Vec<f64> = runs.iter().map(|r| r.total.median_ns.max(1.0)).collect();
    let low = 10f64.powf(
        (totals.iter().copied().fold(f64::INFINITY, f64::min) / 2.0)
            .log10()
            .floor(),
    );
    let high = totals.iter().copied().fold(0.0, f64::max) * 3.0;
    let (x0, x1) = (LABEL_WIDTH, width - 20);
    let x_of = |ns: f64| {
        x0 + ((ns.log10() - low.log10()) / (high.log10() - low.log10()) * f64::from(x1 - x0))
            .round() as i32
    };
    let (top, bottom) = (24, 24 + runs.len() as i32 * ROW);
    let grid = RGBColor(0xdd, 0xdd, 0xdd);
    let tick_label = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    // Every tick gets its grid line; a label only where it clears the previous one, so the
    // labels of a wide range (microseconds to seconds) never run into each other.
    let mut last_label: Option<i32> = None;
    for tick in log_ticks(low, high) {
        let x = x_of(tick);
        area.draw(&PathElement::new(vec![(x, top), (x, bottom)], grid))?;
        if last_label.is_some_and(|last| x - last < MIN_TICK_LABEL_GAP) {
            continue;
        }
        area.draw(&Text::new(
            format_ns(tick),
            (x, bottom + 4),
            tick_label.clone(),
        ))?;
        last_label = Some(x);
    }
    area.draw(&PathElement::new(vec![(x0, top), (x0, bottom)], BLACK))?;
    let label = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    let value = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (run, &total)) in runs.iter().zip(&totals).enumerate() {
        let row_top = top + i as i32 * ROW;
        let middle = row_top + ROW / 2;
        area.draw(&Text::new(row_label(run), (x0 - 8, middle), label.clone()))?;
        let end = x_of(total).max(x0 + 1);
        area.draw(&Rectangle::new(
            [(x0, row_top + 5), (end, row_top + ROW - 5)],
            path_colour(run.path).filled(),
        ))?;
        area.draw(&Text::new(
            format_ns(total),
            (end + 6, middle),
            value.clone(),
        ))?;
    }
    Ok(())
}

/// The composition panel: each run as 100% of its own total, split by phase, the phase's name
/// written on every segment wide enough to hold it.
fn shares_panel(area: &Area, runs: &[&Run]) -> anyhow::Result<()> {
    let caption = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    let (width, _) = area.dim_in_pixel();
    let width = width as i32;
    area.draw(&Text::new(
        "where each path's time goes (every bar is 100% of its own total)",
        (width / 2, 0),
        caption,
    ))?;
    let label = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    let (x0, x1) = (LABEL_WIDTH, width - 20);
    for (i, run) in runs.iter().enumerate() {
        let top = 24 + i as i32 * ROW;
        let middle = top + ROW / 2;
        area.draw(&Text::new(row_label(run), (x0 - 8, middle), label.clone()))?;
        let total = stacked_ns(run);
        if total <= 0.0 {
            continue;
        }
        let mut at = 0.0;
        for (phase, stats) in run.phases.iter().filter(|(p, _)| !p.is_milestone()) {
            let left = x0 + ((x1 - x0) as f64 * at / total).round() as i32;
            at += stats.median_ns;
            let right = x0 + ((x1 - x0) as f64 * at / total).round() as i32;
            let fill = phase_colour(*phase);
            area.draw(&Rectangle::new(
                [(left, top + 4), (right, top + ROW - 4)],
                fill.filled(),
            ))?;
            let share = stats.median_ns / total * 100.0;
            let name = format!("{} {share:.0}%", phase.name());
            let text = if text_width(&name, 12) + 6 <= right - left {
                Some(name)
            } else if text_width(phase.name(), 12) + 6 <= right - left {
                Some(phase.name().to_string())
            } else {
                None
            };
            if let Some(text) = text {
                let ink = text_colour(fill);
                let style = TextStyle::from((FONT, 12).into_font())
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                area.draw(&Text::new(text, ((left + right) / 2, middle), style))?;
            }
        }
    }
    Ok(())
}

/// The phase legend, in rows of its own under the panels.
fn legend(area: &Area, phases: &[Phase]) -> anyhow::Result<()> {
    let (width, _) = area.dim_in_pixel();
    let per_row = ((width as i32 - 40) / LEGEND_ITEM).max(1) as usize;
    let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, phase) in phases.iter().enumerate() {
        let x = 20 + (i % per_row) as i32 * LEGEND_ITEM;
        let y = (i / per_row) as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        area.draw(&Rectangle::new(
            [(x, y - 6), (x + 14, y + 6)],
            phase_colour(*phase).filled(),
        ))?;
        area.draw(&Text::new(phase.name(), (x + 20, y), style.clone()))?;
    }
    Ok(())
}

/// One module's chart: heading, totals panel, shares panel, legend.
fn module_chart(area: &Area, module: &str, runs: &[&Run]) -> anyhow::Result<()> {
    area.fill(&WHITE)?;
    let bytes = runs.first().map_or(0, |r| r.module.bytes);
    let title = TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    area.draw(&Text::new(
        format!(
            "{module} ({}): where start-up time goes",
            format_bytes(bytes)
        ),
        (20, 10),
        title,
    ))?;
    let line = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    area.draw(&Text::new(summary(runs), (20, 38), line.clone()))?;
    if let Some(load) = load_summary(runs) {
        area.draw(&Text::new(load, (20, 58), line))?;
    }
    let rows = runs.len() as i32;
    let (_, rest) = area.split_vertically(HEADING);
    let (totals, rest) = rest.split_vertically(24 + rows * ROW + 40);
    totals_panel(&totals, runs)?;
    let (shares, rest) = rest.split_vertically(30 + rows * ROW + 20);
    shares_panel(&shares, runs)?;
    legend(&rest, &phases_of(runs))?;
    Ok(())
}

/// The runs of `report`, grouped by module in report order.
fn by_module(report: &PhasesReport) -> Vec<(String, Vec<&Run>)> {
    let mut groups: Vec<(String, Vec<&Run>)> = Vec::new();
    for run in &report.runs {
        match groups.iter_mut().find(|(m, _)| *m == run.module.name) {
            Some((_, runs)) => runs.push(run),
            None => groups.push((run.module.name.clone(), vec![run])),
        }
    }
    groups
}

/// One SVG document per module.
fn module_charts(report: &PhasesReport) -> anyhow::Result<Vec<String>> {
    by_module(report)
        .into_iter()
        .map(|(module, runs)| {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (WIDTH, module_height(&runs)))
                    .into_drawing_area();
                module_chart(&root, &module, &runs)?;
                root.present()?;
            }
            Ok(svg)
        })
        .collect()
}

/// Every module's chart in one SVG document, one under the other.
fn phases_document(report: &PhasesReport) -> anyhow::Result<String> {
    let groups = by_module(report);
    let heights: Vec<u32> = groups.iter().map(|(_, runs)| module_height(runs)).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, heights.iter().sum::<u32>().max(1)))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let mut rest = root.clone();
        for ((module, runs), height) in groups.iter().zip(&heights) {
            let (this, below) = rest.split_vertically(*height);
            module_chart(&this, module, runs)?;
            rest = below;
        }
        root.present()?;
    }
    Ok(svg)
}

/// The colour of hash algorithm number `index` in a report's order of first appearance.
fn algo_colour(index: usize) -> RGBColor {
    PHASE_COLOURS[(index * 2) % PHASE_COLOURS.len()]
}

/// The algorithms of a report, in order of first appearance.
fn algos(report: &HashesReport) -> Vec<&str> {
    let mut algos: Vec<&str> = Vec::new();
    for r in &report.results {
        if !algos.contains(&r.algo.as_str()) {
            algos.push(&r.algo);
        }
    }
    algos
}

fn throughput_bars(area: &Area, report: &HashesReport) -> anyhow::Result<()> {
    let size = report
        .results
        .iter()
        .map(|r| r.size_bytes)
        .max()
        .unwrap_or(0);
    let order = algos(report);
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
        * 1.2;
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
        .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0.0..top.max(0.001))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| names.get(i).cloned())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        })
        .y_desc("GB/s")
        .label_style((FONT, 13))
        .draw()?;
    let colour_of = |algo: &str| algo_colour(order.iter().position(|a| *a == algo).unwrap_or(0));
    chart.draw_series(results.iter().zip(0i32..).map(|(r, i)| {
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), r.bytes_per_s / 1e9),
            ],
            colour_of(&r.algo).filled(),
        );
        bar.set_margin(0, 0, 10, 10);
        bar
    }))?;
    let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(results.iter().zip(0i32..).map(|(r, i)| {
        Text::new(
            format_rate(r.bytes_per_s),
            (SegmentValue::CenterOf(i), r.bytes_per_s / 1e9),
            style.clone(),
        )
    }))?;
    Ok(())
}

/// Throughput against buffer size, one line per algorithm, the legend beside the plot.
fn sweep(area: &Area, report: &HashesReport) -> anyhow::Result<()> {
    let sizes = || report.results.iter().map(|r| r.size_bytes as f64);
    let min = sizes().fold(f64::INFINITY, f64::min).max(1.0);
    let max = sizes().fold(0.0, f64::max).max(min * 2.0);
    let top = report
        .results
        .iter()
        .map(|r| r.bytes_per_s / 1e9)
        .fold(0.0, f64::max)
        * 1.15;
    let (width, _) = area.dim_in_pixel();
    let (plot, side) = area.split_horizontally(width as i32 - LEGEND_ITEM);
    let mut chart = ChartBuilder::on(&plot)
        .caption("throughput against buffer size", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((min * 0.8..max * 1.25).log_scale(), 0.0..top.max(0.001))?;
    chart
        .configure_mesh()
        .x_labels(0)
        .x_label_formatter(&|_| String::new())
        .set_tick_mark_size(LabelAreaPosition::Bottom, 0)
        .disable_x_mesh()
        .x_desc("buffer size (log scale; a tick per measured size)")
        .y_desc("GB/s")
        .label_style((FONT, 13))
        .draw()?;
    let mut measured: Vec<u64> = report.results.iter().map(|r| r.size_bytes).collect();
    measured.sort_unstable();
    measured.dedup();
    let (base_x, base_y) = plot.get_base_pixel();
    let tick = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for size in measured {
        let (x, y) = chart.backend_coord(&(size as f64, 0.0));
        let (x, y) = (x - base_x, y - base_y);
        plot.draw(&PathElement::new(vec![(x, y), (x, y + 5)], BLACK))?;
        plot.draw(&Text::new(format_bytes(size), (x, y + 7), tick.clone()))?;
    }
    let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, algo) in algos(report).into_iter().enumerate() {
        let mut points: Vec<(f64, f64)> = report
            .results
            .iter()
            .filter(|r| r.algo == algo)
            .map(|r| (r.size_bytes as f64, r.bytes_per_s / 1e9))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let line = algo_colour(i);
        chart.draw_series(LineSeries::new(points.clone(), line.stroke_width(2)))?;
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, line.filled())))?;
        let y = 60 + i as i32 * LEGEND_ROW;
        side.draw(&PathElement::new(
            vec![(0, y), (18, y)],
            line.stroke_width(3),
        ))?;
        side.draw(&Text::new(algo.to_string(), (24, y), style.clone()))?;
    }
    Ok(())
}

/// The hashes charts: bars at the largest size and, with several sizes, the sweep.
fn hashes_charts(report: &HashesReport) -> anyhow::Result<Vec<String>> {
    let several = {
        let mut sizes: Vec<u64> = report.results.iter().map(|r| r.size_bytes).collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes.len() > 1
    };
    type Draw = fn(&Area, &HashesReport) -> anyhow::Result<()>;
    let mut draws: Vec<Draw> = vec![throughput_bars];
    if several {
        draws.push(sweep);
    }
    draws
        .into_iter()
        .map(|draw| {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (WIDTH, 450)).into_drawing_area();
                root.fill(&WHITE)?;
                draw(&root, report)?;
                root.present()?;
            }
            Ok(svg)
        })
        .collect()
}

fn hashes_document(report: &HashesReport) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 900)).into_drawing_area();
        root.fill(&WHITE)?;
        let (upper, lower) = root.split_vertically(450);
        throughput_bars(&upper, report)?;
        sweep(&lower, report)?;
        root.present()?;
    }
    Ok(svg)
}

/// The report's charts, each a separate SVG document (for pages that place them one by one):
/// one per module of a phases report; the throughput bars and the size sweep of a hashes
/// report; none for a gate report (its table says it all).
///
/// # Errors
/// When drawing fails.
pub fn charts(report: &Report) -> anyhow::Result<Vec<String>> {
    match report {
        Report::Phases(r) => module_charts(r),
        Report::Hashes(r) => hashes_charts(r),
        Report::Gate(_) => Ok(Vec::new()),
    }
}

impl Exporter for SvgExporter {
    fn serialize(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        let svg = match report {
            Report::Phases(r) => phases_document(r)?,
            Report::Hashes(r)
                if r.results
                    .iter()
                    .any(|x| x.size_bytes != r.results[0].size_bytes) =>
            {
                hashes_document(r)?
            }
            Report::Hashes(r) => hashes_charts(r)?.remove(0),
            Report::Gate(_) => anyhow::bail!("{GATE_FORMATS}"),
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
    fn a_module_chart_writes_every_path_its_total_and_the_saving() {
        let report = fixtures::phases_report();
        let svg = render(&report);
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        for label in ["cold · blake3", "cached · blake3", "nocache · none"] {
            assert!(svg.contains(label), "missing {label}");
        }
        assert!(
            svg.contains("faster than a cold start"),
            "the ratio is written"
        );
        assert!(svg.contains("log scale"));
        for phase in ["cache_load", "codegen", "instantiate"] {
            assert!(
                svg.contains(&format!("\n{phase}\n</text>")),
                "{phase} in the legend"
            );
        }
    }

    #[test]
    fn a_phase_has_the_same_colour_in_every_chart() {
        let codegen = phase_colour(Phase::Codegen);
        assert_ne!(codegen, phase_colour(Phase::Translate));
        let hex = format!("#{:02X}{:02X}{:02X}", codegen.0, codegen.1, codegen.2);
        let svg = render(&fixtures::phases_report());
        assert!(svg.to_uppercase().contains(&hex), "codegen drawn in {hex}");
    }

    #[test]
    fn the_summary_gives_the_cold_to_cached_ratio() {
        let Report::Phases(report) = fixtures::phases_report() else {
            unreachable!()
        };
        let runs: Vec<&Run> = report.runs.iter().collect();
        let line = summary(&runs);
        let (cold, cached) = (&report.runs[0].total, &report.runs[1].total);
        let ratio = format_ratio(cold.median_ns / cached.median_ns);
        assert!(line.contains(&ratio), "{line} lacks {ratio}");
        assert_eq!(format_ratio(1234.4), "1,234×");
        assert_eq!(format_ratio(56.2), "56×");
        assert_eq!(format_ratio(3.42), "3.4×");
    }

    #[test]
    fn hashes_charts_have_bars_and_a_sweep() {
        let svg = render(&fixtures::hashes_report());
        assert!(svg.contains("hash throughput at 1 MiB"));
        assert!(svg.contains("throughput against buffer size"));
        for algo in ["sha256", "blake3", "xxh3"] {
            assert!(svg.contains(algo), "missing {algo}");
        }
        assert!(svg.contains("<polyline"), "a line per algorithm");
        assert_eq!(charts(&fixtures::hashes_report()).unwrap().len(), 2);
    }
}
