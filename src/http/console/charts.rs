//! Charts as inline SVG, rendered on the server: grouped bars and lines with
//! axes, ticks, labels and a legend. Colours come from the stylesheet
//! (`.s0`, `.s1`, …), so the markup carries no style.

use super::html::Html;

/// Bar charts sit in half-width cards, line charts across the page.
const BAR_WIDTH: f64 = 640.0;
const LINE_WIDTH: f64 = 1280.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 44.0;

/// One named series of values, one per label.
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Values.
    pub values: Vec<f64>,
}

const CLASSES: [&str; 4] = ["s0", "s1", "s2", "s3"];

fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// The y axis: a round tick step (1, 2, 2.5 or 5 times a power of ten, at
/// least `min_step`) and the top, a whole number of steps at or above `max`.
fn scale(max: f64, min_step: f64) -> (f64, u32) {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let rough = max / 4.0;
    let p = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|v| *v >= rough)
        .unwrap_or(10.0 * p)
        .max(min_step);
    let ticks = (max / step).ceil().max(1.0) as u32;
    (step, ticks)
}

/// Frame, y ticks and legend shared by both kinds; returns the y scale maximum.
fn frame(svg: &mut Html, width: f64, title: &str, series: &[Series], min_step: f64, fmt: &dyn Fn(f64) -> String) -> f64 {
    let max = series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max);
    let (step, ticks) = scale(max, min_step);
    let top = step * f64::from(ticks);
    svg.elem("title", &[], title);
    let bottom = HEIGHT - BOTTOM;
    for i in 0..=ticks {
        let v = step * f64::from(i);
        let y = bottom - (bottom - TOP) * f64::from(i) / f64::from(ticks);
        svg.void(
            "line",
            &[
                ("class", "gridline"),
                ("x1", &n(LEFT)),
                ("x2", &n(width - RIGHT)),
                ("y1", &n(y)),
                ("y2", &n(y)),
            ],
        );
        svg.elem(
            "text",
            &[("class", "tick"), ("x", &n(LEFT - 6.0)), ("y", &n(y + 4.0)), ("text-anchor", "end")],
            &fmt(v),
        );
    }
    svg.void(
        "line",
        &[
            ("class", "axis"),
            ("x1", &n(LEFT)),
            ("x2", &n(LEFT)),
            ("y1", &n(TOP)),
            ("y2", &n(bottom)),
        ],
    );
    svg.void(
        "line",
        &[
            ("class", "axis"),
            ("x1", &n(LEFT)),
            ("x2", &n(width - RIGHT)),
            ("y1", &n(bottom)),
            ("y2", &n(bottom)),
        ],
    );
    let mut x = LEFT;
    for (i, s) in series.iter().enumerate() {
        let class = CLASSES[i % CLASSES.len()];
        let key = format!("{class} key");
        svg.void(
            "rect",
            &[("class", &key), ("x", &n(x)), ("y", "8"), ("width", "10"), ("height", "10")],
        );
        svg.elem("text", &[("class", "legend"), ("x", &n(x + 14.0)), ("y", "17")], s.name);
        x += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
    top
}

fn open_svg(svg: &mut Html, width: f64, title: &str) {
    svg.open(
        "svg",
        &[
            ("class", "chart"),
            ("viewBox", &format!("0 0 {width} {HEIGHT}")),
            ("role", "img"),
            ("aria-label", title),
            ("xmlns", "http://www.w3.org/2000/svg"),
        ],
    );
}

fn x_label(svg: &mut Html, x: f64, label: &str) {
    svg.elem(
        "text",
        &[
            ("class", "tick"),
            ("x", &n(x)),
            ("y", &n(HEIGHT - BOTTOM + 16.0)),
            ("text-anchor", "middle"),
        ],
        label,
    );
}

fn empty(title: &str) -> Html {
    let mut h = Html::new();
    h.open("p", &[("class", "empty")]).text(title).raw(": no data yet").close("p");
    h
}

/// Grouped bars: one group per label, one bar per series. `fmt` formats
/// values; `min_step` keeps the axis from fractional ticks on counts.
pub fn bars(title: &str, labels: &[String], series: &[Series], min_step: f64, fmt: &dyn Fn(f64) -> String) -> Html {
    if labels.is_empty() {
        return empty(title);
    }
    let mut svg = Html::new();
    let width = BAR_WIDTH;
    open_svg(&mut svg, width, title);
    let top = frame(&mut svg, width, title, series, min_step, fmt);
    let bottom = HEIGHT - BOTTOM;
    let slot = (width - LEFT - RIGHT) / labels.len() as f64;
    let bar = (slot * 0.7 / series.len().max(1) as f64).min(48.0);
    for (i, label) in labels.iter().enumerate() {
        let group_x = LEFT + slot * i as f64 + (slot - bar * series.len() as f64) / 2.0;
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            let h = (bottom - TOP) * v / top;
            let x = group_x + bar * j as f64;
            svg.open(
                "rect",
                &[
                    ("class", CLASSES[j % CLASSES.len()]),
                    ("x", &n(x)),
                    ("y", &n(bottom - h)),
                    ("width", &n(bar - 2.0)),
                    ("height", &n(h)),
                ],
            );
            svg.elem("title", &[], &format!("{label} · {}: {}", s.name, fmt(v))).close("rect");
            svg.elem(
                "text",
                &[
                    ("class", "value"),
                    ("x", &n(x + bar / 2.0 - 1.0)),
                    ("y", &n(bottom - h - 4.0)),
                    ("text-anchor", "middle"),
                ],
                &fmt(v),
            );
        }
        x_label(&mut svg, LEFT + slot * (i as f64 + 0.5), label);
    }
    svg.close("svg");
    svg
}

/// Lines with a point per label. Labels are thinned to about eight on the x axis.
pub fn lines(title: &str, labels: &[String], series: &[Series], min_step: f64, fmt: &dyn Fn(f64) -> String) -> Html {
    if labels.is_empty() {
        return empty(title);
    }
    let mut svg = Html::new();
    let width = LINE_WIDTH;
    open_svg(&mut svg, width, title);
    let top = frame(&mut svg, width, title, series, min_step, fmt);
    let bottom = HEIGHT - BOTTOM;
    let step = (width - LEFT - RIGHT - 20.0) / (labels.len().max(2) - 1) as f64;
    let at = |i: usize, v: f64| (LEFT + 10.0 + step * i as f64, bottom - (bottom - TOP) * v / top);
    for (j, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let (x, y) = at(i, *v);
                format!("{},{}", n(x), n(y))
            })
            .collect();
        let class = format!("line {}", CLASSES[j % CLASSES.len()]);
        svg.void("polyline", &[("class", &class), ("points", &points.join(" "))]);
        for (i, v) in s.values.iter().enumerate() {
            let (x, y) = at(i, *v);
            svg.open(
                "circle",
                &[("class", CLASSES[j % CLASSES.len()]), ("cx", &n(x)), ("cy", &n(y)), ("r", "3")],
            );
            svg.elem("title", &[], &format!("{} · {}: {}", labels[i], s.name, fmt(*v)))
                .close("circle");
        }
    }
    let every = labels.len().div_ceil(16);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        x_label(&mut svg, at(i, 0.0).0, label);
    }
    svg.close("svg");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(scale(0.0, 1.0), (1.0, 1));
        assert_eq!(scale(4.0, 1.0), (1.0, 4));
        assert_eq!(scale(5.0, 1.0), (2.0, 3));
        assert_eq!(scale(1.0, 1.0), (1.0, 1), "counts never get fractional ticks");
        assert_eq!(scale(0.25, 0.0), (0.1, 3));
        assert_eq!(scale(87.0, 0.0), (25.0, 4));
    }

    #[test]
    fn bars_have_one_rect_per_value_and_escaped_labels() {
        let svg = bars(
            "Rejections",
            &["<acme>".to_string(), "northwind".to_string()],
            &[Series {
                name: "rate",
                values: vec![0.5, 0.25],
            }],
            0.0,
            &|v| format!("{:.0}%", v * 100.0),
        )
        .into_string();
        assert_eq!(svg.matches("<rect class=\"s0\" x=").count(), 2, "{svg}");
        assert!(svg.contains("&lt;acme&gt;") && !svg.contains("<acme>"));
        assert!(svg.contains(">50%</text>") && svg.contains(">25%</text>"));
    }
}
