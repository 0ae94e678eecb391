//! The report's section on defences: the classifier matrix, the metadata matrix, the
//! literature's figures, and per attack the privacy/overhead frontier — attack success
//! against bandwidth overhead and against p99 delay, so the defence that buys the most privacy
//! per byte or per millisecond is the one lowest and furthest left.

use super::{AttackMatrix, DefenseMatrix, LITERATURE, WTFPAD_ACCURACY};
use crate::report::Figs;
use crate::run::Results;
use crate::Result;
use tapir_report::chart::{LineChart, Mark, Series};
use tapir_report::html::{Block, Cell, Section, Table};

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0} s", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1} s", v / 1000.0)
    } else {
        format!("{v:.0} ms")
    }
}

/// The family of a setting: the defence's name (`constant`, `front`, …), and for mixes its
/// rule (`mix:batch`, `mix:timed`), whose costs differ in kind.
fn family(spec: &str) -> &str {
    let name = spec.split(':').next().unwrap_or(spec);
    if name == "mix" {
        spec.split('=').next().unwrap_or(spec)
    } else {
        name
    }
}

/// One point per setting: (spec, bandwidth overhead, p99 latency ms, attack success).
type Point = (String, f64, f64, f64);

/// The lower-left hull: points no other point beats on both cost and success.
fn frontier(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = points.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for p in v {
        if out.last().is_none_or(|l| p.1 < l.1) {
            out.push(p);
        }
    }
    out
}

fn chart(
    title: &str,
    x_label: &str,
    points: &[Point],
    by_latency: bool,
    marks: Vec<Mark>,
) -> LineChart {
    // Delays span milliseconds to hours: seconds keep the axis readable.
    let x = |p: &Point| if by_latency { p.2 / 1000.0 } else { p.1 };
    let mut families: Vec<&str> = Vec::new();
    // Undefended traffic is the frontier's first point, not a defence of its own.
    for p in points.iter().filter(|p| p.0 != "none") {
        let f = family(&p.0);
        if !families.contains(&f) {
            families.push(f);
        }
    }
    let mut series: Vec<Series> = families
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut pts: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| family(&p.0) == *f)
                .map(|p| (x(p), p.3))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                name: f.to_string(),
                points: pts,
                // Six colours, then dashed: the last palette colour (black) is the frontier's.
                dashed: i >= 6,
                colour: i % 6,
            }
        })
        .collect();
    let all: Vec<(f64, f64)> = points.iter().map(|p| (x(p), p.3)).collect();
    series.push(Series {
        name: "frontier".into(),
        points: frontier(&all),
        dashed: true,
        colour: 6,
    });
    LineChart {
        title: title.into(),
        x_label: x_label.into(),
        y_label: "attack success".into(),
        series,
        marks,
        y_range: Some((0.0, 1.0)),
        x_log2: false,
        y_percent: true,
    }
}

fn frontier_figures(
    id: &str,
    attack: &str,
    points: &[Point],
    marks: Vec<Mark>,
    figs: &mut Figs<'_>,
) -> Result<Block> {
    let by_bytes = chart(
        &format!("{attack}: privacy per byte"),
        "bandwidth overhead (extra bytes / real bytes)",
        points,
        false,
        marks,
    );
    let by_time = chart(
        &format!("{attack}: privacy per millisecond"),
        "p99 added delay (s)",
        points,
        true,
        Vec::new(),
    );
    Ok(Block::Figures(vec![
        figs.line(
            &format!("defense-{id}-bytes"),
            format!(
                "{attack}: attack success against bandwidth overhead, one line per defence \
                 (its settings), the dashed line the frontier: no setting is both cheaper and \
                 safer than one on it."
            ),
            &by_bytes,
        )?,
        figs.line(
            &format!("defense-{id}-time"),
            format!("{attack}: attack success against the p99 delay each setting adds."),
            &by_time,
        )?,
    ]))
}

fn classifier_table(m: &DefenseMatrix) -> Table {
    Table {
        caption: format!(
            "{}: the random forest against each defence ({} traces, {} trees, seed {})",
            m.condition, m.traces, m.trees, m.seed
        ),
        headers: [
            "defence",
            "naive",
            "retrained",
            "stand-out",
            "overhead",
            "wasted",
            "latency median",
            "latency p99",
        ]
        .map(String::from)
        .to_vec(),
        rows: m
            .rows
            .iter()
            .map(|r| {
                vec![
                    Cell::new(r.spec.clone()),
                    Cell::new(pct(r.naive)),
                    Cell::new(pct(r.retrained)),
                    Cell::new(pct(r.stand_out)),
                    Cell::new(pct(r.overhead_total)),
                    Cell::new(pct(r.wasted_share)),
                    Cell::new(ms(r.latency_median_ms)),
                    Cell::new(ms(r.latency_p99_ms)),
                ]
            })
            .collect(),
    }
}

fn attack_table(a: &AttackMatrix) -> Table {
    Table {
        caption: format!(
            "The metadata attacks against the defences ({} trials per row, seed {}; volume \
             timelines from the {} web traces)",
            a.trials, a.seed, a.condition
        ),
        headers: [
            "attack",
            "defence",
            "success (naive)",
            "success (adaptive)",
            "found",
            "overhead",
            "extra",
            "latency median",
            "latency p99",
        ]
        .map(String::from)
        .to_vec(),
        rows: a
            .rows
            .iter()
            .map(|r| {
                vec![
                    Cell::new(r.attack.clone()),
                    Cell::new(r.spec.clone()),
                    Cell::new(pct(r.naive)),
                    Cell::new(r.adaptive.map_or_else(|| "-".into(), pct)),
                    Cell::new(r.detail.clone()),
                    Cell::new(pct(r.overhead)),
                    Cell::new(format!("{} {}", pct(r.extra), r.extra_unit)),
                    Cell::new(ms(r.latency_median_ms)),
                    Cell::new(ms(r.latency_p99_ms)),
                ]
            })
            .collect(),
    }
}

fn literature_table() -> Table {
    Table {
        caption: "The literature's figures (other data, other attacks: beside ours, not \
                  comparable point for point)"
            .into(),
        headers: ["defence", "privacy", "bandwidth", "latency", "source"]
            .map(String::from)
            .to_vec(),
        rows: LITERATURE
            .iter()
            .map(|l| {
                vec![
                    Cell::new(l.defense),
                    Cell::reference(l.privacy),
                    Cell::reference(pct(l.overhead)),
                    Cell::reference(l.latency),
                    Cell::reference(l.source.split_whitespace().collect::<Vec<_>>().join(" ")),
                ]
            })
            .collect(),
    }
}

/// The section, when the run has a defence matrix or metadata attacks.
pub(crate) fn section(r: &Results, figs: &mut Figs<'_>) -> Result<Section> {
    let mut blocks = vec![Block::Text(
        "What each countermeasure of the M3AAWG's list (padding, constant volume, cover \
         traffic, decoy bursts, mixes, tunnels, broadcast) buys against each attack of tapir, \
         and what it costs. Success is the attacker's: accuracy of the traffic-type \
         classifier, the chance that volume's alert is the real surge, the Jaccard \
         similarity of the list sequence analysis recovers with the true one, the share of \
         watched contacts attributed to their host. The naive attacker runs with its \
         defaults (the classifier trained on undefended traffic); the adaptive one knows the \
         defence (retrained; a wider window; timing correlation through the tunnel). The \
         frontier plots use the adaptive attacker."
            .into(),
    )];
    for m in &r.defenses {
        blocks.push(Block::Table(classifier_table(m)));
    }
    if let Some(a) = &r.defense_attacks {
        blocks.push(Block::Table(attack_table(a)));
    }
    blocks.push(Block::Table(literature_table()));
    if let Some(m) = r.defenses.first() {
        let pts: Vec<Point> = m
            .rows
            .iter()
            .map(|x| {
                (
                    x.spec.clone(),
                    x.overhead_total,
                    x.latency_p99_ms,
                    x.retrained,
                )
            })
            .collect();
        let lit = LITERATURE.iter().find(|l| l.defense == "WTF-PAD");
        let marks = lit
            .map(|l| Mark {
                label: "WTF-PAD (k-NN, 2016)".into(),
                x: l.overhead,
                y: WTFPAD_ACCURACY,
            })
            .into_iter()
            .collect();
        blocks.push(frontier_figures(
            "classifier",
            &format!("classifier ({})", m.condition),
            &pts,
            marks,
            figs,
        )?);
    }
    if let Some(a) = &r.defense_attacks {
        for attack in ["volume", "sequence", "watch"] {
            let pts: Vec<Point> = a
                .rows
                .iter()
                .filter(|x| x.attack == attack)
                .map(|x| (x.spec.clone(), x.overhead, x.latency_p99_ms, x.best()))
                .collect();
            if !pts.is_empty() {
                blocks.push(frontier_figures(attack, attack, &pts, Vec::new(), figs)?);
            }
        }
    }
    Ok(Section {
        id: "defenses".into(),
        title: "Countermeasures and their price".into(),
        blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_keeps_only_undominated_points() {
        let f = frontier(&[(0.0, 1.0), (0.5, 0.4), (0.3, 0.9), (1.0, 0.5), (2.0, 0.1)]);
        assert_eq!(f, vec![(0.0, 1.0), (0.3, 0.9), (0.5, 0.4), (2.0, 0.1)]);
    }
}
