//! The comparison at a glance: throughput and server CPU per operation as
//! grouped bars (one group per workload, one bar per server), and latency
//! percentiles per workload as lines on a log scale (one line per server).
//!
//! SVG is always attempted; PNG is drawn into a pixel buffer by plotters'
//! bitmap backend and encoded with `png`. Both need a TTF font for text
//! metrics: DejaVu Sans is looked for where distributions put it, or
//! `SHOAL_BENCH_FONT` names one. Without a font no plot is drawn, and the
//! caller says so; the tables do not depend on it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::error::{BenchError, Result};

/// Where a sans-serif TTF font is looked for, in order.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];
/// Plot size in pixels.
const WIDTH_PX: u32 = 1280;
const HEIGHT_PX: u32 = 820;
const SERIES_COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// What the plot shows; `[workload][server]` indexing throughout.
#[derive(Debug, Clone)]
pub struct PlotData {
    /// The figure's title.
    pub title: String,
    /// Server names, in legend order.
    pub servers: Vec<String>,
    /// Workload names.
    pub workloads: Vec<String>,
    /// Median ops/sec.
    pub ops_per_sec: Vec<Vec<Option<f64>>>,
    /// Median server CPU microseconds per operation.
    pub cpu_us_per_op: Vec<Vec<Option<f64>>>,
    /// Percentile labels (`p50`, `p99.9`, `max`).
    pub percentiles: Vec<String>,
    /// Median latency in ms, `[workload][server][percentile]`.
    pub latency_ms: Vec<Vec<Vec<f64>>>,
}

/// The files written.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The SVG, if drawn.
    pub svg: Option<PathBuf>,
    /// The PNG, if drawn.
    pub png: Option<PathBuf>,
    /// Why something was not drawn.
    pub notes: Vec<String>,
}

/// Draws `data` to `stem.svg` and `stem.png`.
pub fn write(data: &PlotData, stem: &Path) -> Written {
    let mut written = Written::default();
    if let Err(note) = ensure_font() {
        written.notes.push(note);
        return written;
    }
    let svg_path = stem.with_extension("svg");
    let svg = {
        let root = SVGBackend::new(&svg_path, (WIDTH_PX, HEIGHT_PX)).into_drawing_area();
        draw(&root, data).and_then(|()| root.present().map_err(plot_error))
    };
    match svg {
        Ok(()) => written.svg = Some(svg_path),
        Err(error) => written.notes.push(format!("SVG not drawn: {error}")),
    }
    let png_path = stem.with_extension("png");
    match draw_png(data, &png_path) {
        Ok(()) => written.png = Some(png_path),
        Err(error) => written.notes.push(format!("PNG not drawn: {error}")),
    }
    written
}

fn draw_png(data: &PlotData, path: &Path) -> Result<()> {
    let mut pixels = vec![0u8; (WIDTH_PX * HEIGHT_PX * 3) as usize];
    {
        let root =
            BitMapBackend::with_buffer(&mut pixels, (WIDTH_PX, HEIGHT_PX)).into_drawing_area();
        draw(&root, data)?;
        root.present().map_err(plot_error)?;
    }
    let file = std::fs::File::create(path)
        .map_err(|e| BenchError::io(format!("creating {}", path.display()), e))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), WIDTH_PX, HEIGHT_PX);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder
        .write_header()
        .map_err(|e| BenchError::protocol(format!("encoding {}: {e}", path.display())))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| BenchError::protocol(format!("encoding {}: {e}", path.display())))
}

/// Registers a TTF font as `sans-serif`, once.
fn ensure_font() -> std::result::Result<(), String> {
    static FONT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let from_env = std::env::var("SHOAL_BENCH_FONT").ok();
        let candidates = from_env
            .iter()
            .map(String::as_str)
            .chain(FONT_CANDIDATES.iter().copied());
        for path in candidates {
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            // plotters keeps fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return Ok(());
            }
        }
        Err(
            "no TTF font found (install fonts-dejavu-core or set SHOAL_BENCH_FONT): no plot drawn"
                .into(),
        )
    })
    .clone()
}

fn plot_error(error: impl std::fmt::Display) -> BenchError {
    BenchError::protocol(format!("plotting: {error}"))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &PlotData) -> Result<()> {
    root.fill(&WHITE).map_err(plot_error)?;
    let root = root
        .titled(&data.title, ("sans-serif", 22))
        .map_err(plot_error)?;
    let (top, bottom) = root.split_vertically(HEIGHT_PX / 2 - 20);
    let (left, right) = top.split_horizontally(WIDTH_PX / 2);
    bars(
        &left,
        "Throughput (higher is better)",
        "ops/sec",
        data,
        &data.ops_per_sec,
    )?;
    bars(
        &right,
        "Server CPU per operation (lower is better)",
        "µs CPU / op",
        data,
        &data.cpu_us_per_op,
    )?;
    let panels = bottom.split_evenly((1, data.workloads.len().max(1)));
    for (index, panel) in panels.iter().enumerate() {
        latency(panel, data, index)?;
    }
    Ok(())
}

fn color(series: usize) -> RGBColor {
    SERIES_COLORS[series % SERIES_COLORS.len()]
}

/// Compact numbers for bar labels: 1.23M, 456k, 0.52.
fn short_number(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if value >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// Grouped bars: one group per workload, one bar per server.
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    data: &PlotData,
    values: &[Vec<Option<f64>>],
) -> Result<()> {
    let groups = data.workloads.len();
    let top = values
        .iter()
        .flatten()
        .flatten()
        .fold(0.0f64, |a, &b| a.max(b));
    let top = if top > 0.0 { top * 1.18 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..(groups as f64 - 0.5), 0f64..top)
        .map_err(plot_error)?;
    let workloads = &data.workloads;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups)
        .x_label_formatter(&|x| group_name(workloads, *x))
        .y_label_formatter(&|y| short_number(*y))
        .y_desc(y_desc)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(plot_error)?;
    let count = data.servers.len().max(1) as f64;
    let width = 0.8 / count;
    for (series, server) in data.servers.iter().enumerate() {
        let fill = color(series);
        let x0 = |group: usize| group as f64 - 0.4 + series as f64 * width;
        let bars = values.iter().enumerate().filter_map(|(group, row)| {
            let value = row.get(series).copied().flatten()?;
            Some(Rectangle::new(
                [
                    (x0(group) + width * 0.05, 0.0),
                    (x0(group) + width * 0.95, value),
                ],
                fill.filled(),
            ))
        });
        chart
            .draw_series(bars)
            .map_err(plot_error)?
            .label(server.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], fill.filled()));
        let labels = values.iter().enumerate().filter_map(|(group, row)| {
            let value = row.get(series).copied().flatten()?;
            let style = TextStyle::from(("sans-serif", 12).into_font())
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            Some(Text::new(
                short_number(value),
                (x0(group) + width / 2.0, value),
                style,
            ))
        });
        chart.draw_series(labels).map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// A number without trailing zeros: 0.1, 1, 10.
fn trimmed(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The name of the group whose centre is `x`, blank between groups.
fn group_name(names: &[String], x: f64) -> String {
    let index = x.round();
    if (x - index).abs() > 1e-6 || index < 0.0 {
        return String::new();
    }
    names.get(index as usize).cloned().unwrap_or_default()
}

/// Latency percentiles of one workload, a line per server, log scale.
fn latency<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &PlotData,
    workload: usize,
) -> Result<()> {
    let Some(per_server) = data.latency_ms.get(workload) else {
        return Ok(());
    };
    let all = per_server.iter().flatten().copied().filter(|v| *v > 0.0);
    let (low, high) = all.fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    // Whole decades: plotters labels a log axis only from the first power
    // of ten inside it (the lower one nudged down so rounding keeps it in).
    let (low, high) = if high > 0.0 {
        (
            10f64.powf(low.log10().floor()) * 0.999,
            10f64.powf((high * 1.2).log10().ceil()),
        )
    } else {
        (0.001, 1.0)
    };
    let points = data.percentiles.len();
    let title = format!(
        "Latency, {} (ms, log scale)",
        data.workloads.get(workload).map_or("", String::as_str)
    );
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5f64..(points as f64 - 0.5), (low..high).log_scale())
        .map_err(plot_error)?;
    let labels = &data.percentiles;
    chart
        .configure_mesh()
        .x_labels(points)
        .x_label_formatter(&|x| group_name(labels, *x))
        .y_label_formatter(&|y| trimmed(*y))
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(plot_error)?;
    for (series, values) in per_server.iter().enumerate() {
        let stroke = color(series);
        let line: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0.0)
            .map(|(x, v)| (x as f64, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(line.clone(), stroke.stroke_width(2)))
            .map_err(plot_error)?
            .label(data.servers.get(series).map_or("", String::as_str))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], stroke.stroke_width(2))
            });
        chart
            .draw_series(
                line.into_iter()
                    .map(|point| Circle::new(point, 3, stroke.filled())),
            )
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> PlotData {
        PlotData {
            title: "test".into(),
            servers: vec!["shoal".into(), "redis".into()],
            workloads: vec!["get P1".into(), "get P16".into()],
            ops_per_sec: vec![
                vec![Some(100_000.0), Some(90_000.0)],
                vec![Some(1e6), Some(8e5)],
            ],
            cpu_us_per_op: vec![vec![Some(5.0), Some(6.0)], vec![Some(1.0), None]],
            percentiles: vec!["p50".into(), "p99".into(), "max".into()],
            latency_ms: vec![
                vec![vec![0.2, 0.5, 3.0], vec![0.25, 0.6, 4.0]],
                vec![vec![0.5, 1.0, 5.0], vec![0.6, 1.5, 9.0]],
            ],
        }
    }

    #[test]
    fn group_names_sit_on_integer_positions_only() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert_eq!(group_name(&names, 1.0), "b");
        assert_eq!(group_name(&names, 0.5), "");
        assert_eq!(group_name(&names, 2.0), "");
    }

    #[test]
    fn svg_and_png_are_written_where_a_font_exists() {
        let dir = std::env::temp_dir().join(format!("shoal-bench-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let written = write(&data(), &dir.join("plot"));
        if ensure_font().is_err() {
            assert!(written.svg.is_none() && !written.notes.is_empty());
            return;
        }
        assert!(written.notes.is_empty(), "{:?}", written.notes);
        let svg = std::fs::read_to_string(written.svg.unwrap()).unwrap();
        assert!(svg.contains("<svg") && svg.contains("shoal") && svg.contains("get P16"));
        let png = std::fs::read(written.png.unwrap()).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
