//! The dataset of an experiment: every trace of every condition, read once into memory as
//! packets, so that windows can be re-cut at any size and mixed with background traffic.

use crate::{ExperimentError, Result};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use tapir_capture::TracePacket;
use tapir_dataset::{
    discover, split_labels, visit_packets, ExtractSettings, Source, UnitEvent, Visit,
};

/// The four conditions of the lab, in the order the report shows them (the paper's order,
/// WireGuard added).
pub const CONDITIONS: [&str; 4] = ["plain", "ipsec", "wireguard", "tor"];

/// What a trace is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// One application: trains and tests the single-label models.
    Single,
    /// Background traffic, mixed into other traces' windows.
    Background,
    /// Several applications captured at once (the lab's concurrent captures).
    Multi,
}

/// One trace held in memory.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The file it came from.
    pub path: PathBuf,
    /// `plain`, `ipsec`, `wireguard`, `tor` or the dataset folder's own name.
    pub condition: String,
    /// Sorted labels (empty for background).
    pub labels: Vec<String>,
    /// Windows of one group stay on one side of a split.
    pub group: String,
    /// What the trace is for.
    pub role: Role,
    /// The manifest's other columns for this trace (`wan_profile`, `program`, …), by name;
    /// windows reach them through their trace index.
    pub extra: BTreeMap<String, String>,
    /// Every packet, in capture order, direction seen from the client.
    pub packets: Vec<TracePacket>,
}

impl Trace {
    /// The trace's value in manifest column `column` (case-insensitive; `group` is the group;
    /// `profile` means `wan_profile` when there is no `profile` column); `None` when empty or
    /// missing.
    pub fn column(&self, column: &str) -> Option<&str> {
        let get = |name: &str| {
            if name.eq_ignore_ascii_case("group") {
                return Some(self.group.as_str());
            }
            self.extra
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        get(column)
            .or_else(|| {
                column
                    .eq_ignore_ascii_case("profile")
                    .then(|| get("wan_profile"))
                    .flatten()
            })
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// Every readable trace under a root, and what could not be read.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Traces, sorted by condition then path.
    pub traces: Vec<Trace>,
    /// One line per file that could not be read or was left out, for the report.
    pub warnings: Vec<String>,
    /// How many of the warnings are files that could not be read (or held no packet), as
    /// opposed to files left out on purpose.
    pub unreadable: usize,
    /// How many of the warnings are readable files with no label (not below a label folder,
    /// or with an empty label in the manifest): nothing in them is used.
    pub unlabelled: usize,
}

impl Corpus {
    /// Conditions present, the lab's four first in their order, then others by name.
    pub fn conditions(&self) -> Vec<String> {
        let present: BTreeSet<&str> = self.traces.iter().map(|t| t.condition.as_str()).collect();
        let mut out: Vec<String> = CONDITIONS
            .iter()
            .filter(|c| present.contains(*c))
            .map(|c| c.to_string())
            .collect();
        out.extend(
            present
                .iter()
                .filter(|c| !CONDITIONS.contains(c))
                .map(|c| c.to_string()),
        );
        out
    }

    /// Indices of the traces of `condition` with `role`.
    pub fn select(&self, condition: &str, role: Role) -> Vec<usize> {
        self.traces
            .iter()
            .enumerate()
            .filter(|(_, t)| t.condition == condition && t.role == role)
            .map(|(i, _)| i)
            .collect()
    }

    /// Total packets held.
    pub fn packets(&self) -> usize {
        self.traces.iter().map(|t| t.packets.len()).sum()
    }
}

/// Labels that mark background captures rather than an application.
fn is_background_label(l: &str) -> bool {
    matches!(l, "background" | "bg")
}

/// Finds the traces under `root`:
///
/// * `root/manifest.csv` (the lab's): labels, groups and the `condition` column from it (when the
///   column is missing, the first folder of the path names the condition);
/// * otherwise each subfolder holding label subfolders is a condition (`root/ipsec/web/…`), and
///   `root` itself is one condition named after it when its subfolders hold files directly.
///
/// In both, files below a `background/` folder or labelled `background` are background, and
/// files below `multi/` (labels from the manifest or from `multi/web+voip/`) or with several
/// labels are multi-label.
pub fn discover_traces(root: &Path) -> Result<Vec<(Source, String, Role)>> {
    let mut out = Vec::new();
    if root.join("manifest.csv").is_file() || root.extension().is_some_and(|e| e == "csv") {
        let base = if root.is_dir() {
            root.to_path_buf()
        } else {
            root.parent().unwrap_or(Path::new(".")).to_path_buf()
        };
        for s in discover(&[root.to_path_buf()])? {
            let rel = s.path.strip_prefix(&base).unwrap_or(&s.path).to_path_buf();
            let cond = s
                .extra
                .get("condition")
                .filter(|c| !c.is_empty())
                .cloned()
                .or_else(|| first_component(&rel))
                .unwrap_or_else(|| folder_name(&base));
            let role = role_of(&rel, &s.labels);
            out.push((s, cond, role));
        }
        return Ok(out);
    }
    let subdirs = subdirs(root)?;
    let nested: Vec<&PathBuf> = subdirs
        .iter()
        .filter(|d| subdirs_of(d).is_ok_and(|s| !s.is_empty()))
        .collect();
    // Conditions hold label folders; label folders hold files. A root is a set of conditions
    // when a subfolder is named like one, or when every subfolder holds folders itself.
    let is_condition_root = subdirs
        .iter()
        .any(|d| CONDITIONS.contains(&folder_name(d).as_str()))
        || (!subdirs.is_empty() && nested.len() == subdirs.len());
    if is_condition_root {
        for d in nested {
            if folder_name(d) == "background" || folder_name(d) == "multi" {
                continue;
            }
            discover_condition(d, &folder_name(d), &mut out)?;
        }
    } else {
        discover_condition(root, &folder_name(root), &mut out)?;
    }
    if out.is_empty() {
        return Err(ExperimentError::NoData(format!(
            "no capture or trace files under {}",
            root.display()
        )));
    }
    Ok(out)
}

fn discover_condition(dir: &Path, cond: &str, out: &mut Vec<(Source, String, Role)>) -> Result<()> {
    for s in discover(&[dir.to_path_buf()])? {
        let rel = s.path.strip_prefix(dir).unwrap_or(&s.path).to_path_buf();
        let mut s = s;
        let mut comps = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string());
        if comps.next().as_deref() == Some("multi") {
            // `multi/web+voip/x.pcap`: the labels are the next folder's name.
            let rest: Vec<String> = comps.collect();
            s.labels = if rest.len() >= 2 {
                split_labels(&rest[0])
            } else {
                Vec::new()
            };
        }
        let role = role_of(&rel, &s.labels);
        out.push((s, cond.to_string(), role));
    }
    Ok(())
}

fn role_of(rel: &Path, labels: &[String]) -> Role {
    let under = |name: &str| rel.components().any(|c| c.as_os_str() == name);
    if under("background") || labels.iter().any(|l| is_background_label(l)) {
        Role::Background
    } else if under("multi") || labels.len() > 1 {
        Role::Multi
    } else {
        Role::Single
    }
}

fn first_component(rel: &Path) -> Option<String> {
    let mut c = rel.components();
    let first = c.next()?;
    // A bare file name has no condition folder.
    c.next()?;
    Some(first.as_os_str().to_string_lossy().to_string())
}

fn folder_name(p: &Path) -> String {
    p.canonicalize()
        .ok()
        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_else(|| "dataset".to_string())
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    subdirs_of(dir).map_err(|e| ExperimentError::io(dir, e))
}

fn subdirs_of(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Reads every trace found by [`discover_traces`] in parallel, each file once, the whole
/// capture as one trace (direction from the capture's own host, as `tapir eval` does by
/// default). `progress` is called once per file. Unreadable or empty files become warnings.
pub fn load_corpus(root: &Path, progress: &(dyn Fn() + Sync)) -> Result<Corpus> {
    let found = discover_traces(root)?;
    let settings = ExtractSettings::default();
    let read: Vec<std::result::Result<Trace, String>> = found
        .into_par_iter()
        .map(|(s, condition, role)| {
            let mut packets = Vec::new();
            let r = visit_packets(&s.path, &settings, &mut |ev| {
                if let UnitEvent::Packet { packet, .. } = ev {
                    packets.push(packet);
                }
                Ok(Visit::Continue)
            });
            progress();
            match r {
                Err(e) => Err(format!("{e}; file left out")),
                Ok(_) if packets.is_empty() => {
                    Err(format!("{}: no packets; file left out", s.path.display()))
                }
                // Time going backwards is handled by the reader (a packet is taken at its
                // predecessor's time), as for every command: packets stay in file order.
                Ok(_) => Ok(Trace {
                    labels: if role == Role::Background {
                        Vec::new()
                    } else {
                        s.labels.clone()
                    },
                    path: s.path,
                    condition,
                    group: s.group,
                    role,
                    extra: s.extra,
                    packets,
                }),
            }
        })
        .collect();
    let mut corpus = Corpus::default();
    for r in read {
        match r {
            Ok(t) if t.role != Role::Background && t.labels.is_empty() => {
                corpus.unlabelled += 1;
                corpus.warnings.push(format!(
                    "{}: no label (put it in a label folder such as web/, or give it a label \
                     in the manifest); file left out",
                    t.path.display()
                ));
            }
            Ok(t) => corpus.traces.push(t),
            Err(w) => {
                corpus.unreadable += 1;
                corpus.warnings.push(w);
            }
        }
    }
    corpus
        .traces
        .sort_by(|a, b| (&a.condition, &a.path).cmp(&(&b.condition, &b.path)));
    if corpus.traces.is_empty() {
        return Err(ExperimentError::NoData(format!(
            "no readable, labelled traces under {}",
            root.display()
        )));
    }
    Ok(corpus)
}
