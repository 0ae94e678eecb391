//! Finding the files of a dataset and their labels.

use crate::DatasetError;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use tapir_capture::kind_from_name;

/// One input file of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    /// Empty for unlabelled input; several for multi-label captures (`web+voip`).
    pub labels: Vec<String>,
    /// Windows of one group never straddle a train/test split. Default: the file itself.
    pub group: String,
    /// Extra manifest columns (condition, WAN profile, …), by column name.
    pub extra: BTreeMap<String, String>,
}

/// The manifest columns of a list of sources as one table, so that a window needs only its
/// source index to know its trace's condition, network profile, program or any other column.
/// Each distinct string is stored once; a cell is an index into that pool. Ids follow the
/// strings' sorted order, so anything ordered by id is ordered by name.
///
/// The columns are every extra manifest column (all but `path` and `label`) and `group`.
/// Folders without a manifest have only `group`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    names: Vec<String>,
    strings: Vec<String>,
    /// `cells[source * names.len() + column]`; `None` for an empty or missing value.
    cells: Vec<Option<u32>>,
}

impl Columns {
    /// The table of `sources`' columns.
    pub fn new(sources: &[Source]) -> Self {
        let mut names: std::collections::BTreeSet<&str> = sources
            .iter()
            .flat_map(|s| s.extra.keys().map(String::as_str))
            .collect();
        names.insert("group");
        let names: Vec<String> = names.into_iter().map(str::to_string).collect();
        let value = |s: &Source, name: &str| -> Option<String> {
            let v = if name == "group" {
                Some(s.group.as_str())
            } else {
                s.extra.get(name).map(String::as_str)
            };
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let pool: std::collections::BTreeSet<String> = sources
            .iter()
            .flat_map(|s| names.iter().filter_map(move |n| value(s, n)))
            .collect();
        let strings: Vec<String> = pool.into_iter().collect();
        let mut cells = Vec::with_capacity(sources.len() * names.len());
        for s in sources {
            for n in &names {
                cells.push(value(s, n).and_then(|v| {
                    strings
                        .binary_search(&v)
                        .ok()
                        .and_then(|i| u32::try_from(i).ok())
                }));
            }
        }
        Columns {
            names,
            strings,
            cells,
        }
    }

    /// Column names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column called `name` (case-insensitive). `profile` is an alias of `wan_profile`, the
    /// lab's column for the emulated network, when no column is called `profile` itself.
    pub fn find(&self, name: &str) -> Option<usize> {
        let pos = |n: &str| self.names.iter().position(|c| c.eq_ignore_ascii_case(n));
        pos(name).or_else(|| {
            name.eq_ignore_ascii_case("profile")
                .then(|| pos("wan_profile"))
                .flatten()
        })
    }

    /// The column's name as stored.
    pub fn name(&self, column: usize) -> &str {
        self.names.get(column).map_or("", String::as_str)
    }

    /// Id of source `source`'s value in column `column`; `None` when it is empty or missing.
    pub fn id(&self, source: usize, column: usize) -> Option<u32> {
        if column >= self.names.len() {
            return None;
        }
        self.cells
            .get(source.checked_mul(self.names.len())?.checked_add(column)?)
            .copied()
            .flatten()
    }

    /// Source `source`'s value in column `column`.
    pub fn get(&self, source: usize, column: usize) -> Option<&str> {
        self.id(source, column).map(|i| self.string(i))
    }

    /// The string of a value id ("" for an unknown id).
    pub fn string(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", String::as_str)
    }

    /// Distinct values of column `column` over all sources, as sorted ids.
    pub fn values(&self, column: usize) -> Vec<u32> {
        let n = self.cells.len() / self.names.len().max(1);
        let set: std::collections::BTreeSet<u32> =
            (0..n).filter_map(|s| self.id(s, column)).collect();
        set.into_iter().collect()
    }
}

/// Whether tapir reads a file it meets walking a folder: `.pcap`, `.pcapng`, `.cap`, `.trace`,
/// `.txt`, each plain or with `.gz` / `.zst` after it (see [`tapir_capture::kind_from_name`]).
fn is_input_file(p: &Path) -> bool {
    let hidden = p
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    !hidden && kind_from_name(p).is_some()
}

/// `-`: standard input.
fn is_stdin(p: &Path) -> bool {
    p == Path::new("-")
}

/// Finds the sources named by `inputs`:
///
/// * a `.csv` file, or a folder holding `manifest.csv`: a manifest with a header row naming at
///   least `path` and `label` (optional `group`; other columns are kept as extras). Paths are
///   relative to the manifest's folder; several labels are joined by `+`. A listed file that
///   is not there but has a compressed copy beside it (`x.pcap` → `x.pcap.gz` or `x.pcap.zst`)
///   is read from that copy, so a dataset can be compressed in place.
/// * a folder without a manifest: one subfolder per label (`web/`, `voip/`, …; `web+voip/` for
///   multi-label), files found recursively below each; files directly in the folder are
///   unlabelled.
/// * a capture or trace file (gzip and zstd too), a pipe, or `-` for standard input:
///   unlabelled.
///
/// Sources come back sorted by path so that every run sees the same order.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<Source>, DatasetError> {
    let mut out = Vec::new();
    for input in inputs {
        if is_stdin(input) {
            out.push(Source {
                path: input.clone(),
                labels: Vec::new(),
                group: "-".to_string(),
                extra: BTreeMap::new(),
            });
            continue;
        }
        let meta = fs::metadata(input).map_err(|e| DatasetError::io(input, e))?;
        if meta.is_dir() {
            let manifest = input.join("manifest.csv");
            if manifest.is_file() {
                out.extend(read_manifest(&manifest)?);
            } else if let Some(rows) = enclosing_manifest(input)? {
                out.extend(rows);
            } else {
                walk_labelled(input, &mut out)?;
            }
        } else if input.extension().and_then(|e| e.to_str()) == Some("csv") {
            out.extend(read_manifest(input)?);
        } else {
            out.push(Source {
                path: input.clone(),
                labels: Vec::new(),
                group: input.display().to_string(),
                extra: BTreeMap::new(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    if out.is_empty() {
        return Err(DatasetError::Empty {
            inputs: inputs.to_vec(),
        });
    }
    Ok(out)
}

/// A folder inside a dataset that has a manifest higher up (`data/sample/ipsec` inside
/// `data/sample/manifest.csv`): the manifest's rows for files below the folder, so labels and
/// groups come from the manifest (multi-label folders included). `None` when no manifest within
/// three levels up lists any file below the folder.
fn enclosing_manifest(dir: &Path) -> Result<Option<Vec<Source>>, DatasetError> {
    let Ok(dir) = dir.canonicalize() else {
        return Ok(None);
    };
    for up in dir.ancestors().skip(1).take(3) {
        let manifest = up.join("manifest.csv");
        if !manifest.is_file() {
            continue;
        }
        let rows: Vec<Source> = read_manifest(&manifest)?
            .into_iter()
            .filter(|s| s.path.canonicalize().is_ok_and(|p| p.starts_with(&dir)))
            .collect();
        if !rows.is_empty() {
            return Ok(Some(rows));
        }
    }
    Ok(None)
}

fn walk_labelled(root: &Path, out: &mut Vec<Source>) -> Result<(), DatasetError> {
    for entry in read_dir_sorted(root)? {
        if entry.is_dir() {
            let name = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if name.starts_with('.') {
                continue;
            }
            let labels = split_labels(&name);
            let mut files = Vec::new();
            walk_files(&entry, &mut files)?;
            for f in files {
                out.push(Source {
                    group: f.display().to_string(),
                    path: f,
                    labels: labels.clone(),
                    extra: BTreeMap::new(),
                });
            }
        } else if is_input_file(&entry) {
            out.push(Source {
                group: entry.display().to_string(),
                path: entry,
                labels: Vec::new(),
                extra: BTreeMap::new(),
            });
        }
    }
    Ok(())
}

/// The files `inputs` name, for commands that read captures and traces without labels
/// (`inspect`, `flows`): a file or `-` stays as given, a folder gives every capture or trace
/// file below it (recursively, sorted by path, hidden files left out). A folder with none is an
/// error naming it, as is a path that does not exist.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, DatasetError> {
    let mut out = Vec::new();
    for input in inputs {
        if is_stdin(input) {
            out.push(input.clone());
            continue;
        }
        let meta = fs::metadata(input).map_err(|e| DatasetError::io(input, e))?;
        if meta.is_dir() {
            let before = out.len();
            walk_files(input, &mut out)?;
            if out.len() == before {
                return Err(DatasetError::Empty {
                    inputs: vec![input.clone()],
                });
            }
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

fn walk_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DatasetError> {
    for entry in read_dir_sorted(dir)? {
        if entry.is_dir() {
            walk_files(&entry, out)?;
        } else if is_input_file(&entry) {
            out.push(entry);
        }
    }
    Ok(())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| DatasetError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// `web+voip` → `["voip", "web"]`: sorted and deduplicated so that label sets compare equal.
pub fn split_labels(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .split('+')
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Reads a manifest CSV (see [`discover`]). Quoted fields with commas are supported; a bad row is
/// an error naming the line.
pub fn read_manifest(path: &Path) -> Result<Vec<Source>, DatasetError> {
    let text = fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(DatasetError::manifest(
            path,
            1,
            "empty manifest: expected a header row path,label[,group]",
        ));
    };
    let header = split_csv(header);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(pc), Some(lc)) = (col("path"), col("label").or_else(|| col("labels"))) else {
        return Err(DatasetError::manifest(
            path,
            1,
            "the header row must name the columns path and label (e.g. path,label,group)",
        ));
    };
    let gc = col("group");
    let mut out = Vec::new();
    for (i, line) in lines {
        let fields = split_csv(line);
        if fields.len() != header.len() {
            return Err(DatasetError::manifest(
                path,
                i + 1,
                &format!(
                    "{} fields where the header has {} (put a field holding a comma in \
                     double quotes)",
                    fields.len(),
                    header.len()
                ),
            ));
        }
        let rel = fields[pc].trim();
        if rel.is_empty() {
            return Err(DatasetError::manifest(
                path,
                i + 1,
                "empty path (each row names a capture or trace file, relative to the manifest)",
            ));
        }
        let listed = base.join(rel);
        // The group stays the listed name, so that compressing a file does not change it.
        let group = match gc.map(|g| fields[g].trim()) {
            Some(g) if !g.is_empty() => g.to_string(),
            _ => listed.display().to_string(),
        };
        let file = compressed_copy(&listed).unwrap_or(listed);
        let extra = header
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != pc && *j != lc && Some(*j) != gc)
            .map(|(j, h)| (h.trim().to_string(), fields[j].trim().to_string()))
            .collect();
        out.push(Source {
            path: file,
            labels: split_labels(&fields[lc]),
            group,
            extra,
        });
    }
    Ok(out)
}

/// `x.gz` or `x.zst` when `x` itself is missing and one of them is there.
fn compressed_copy(listed: &Path) -> Option<PathBuf> {
    if listed.exists() {
        return None;
    }
    ["gz", "zst"].iter().find_map(|ext| {
        let mut name = listed.as_os_str().to_os_string();
        name.push(".");
        name.push(ext);
        let p = PathBuf::from(name);
        p.is_file().then_some(p)
    })
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes() {
        assert_eq!(split_csv(r#"a,"b,c","d""e""#), vec!["a", "b,c", "d\"e"]);
        assert_eq!(split_csv("a,,"), vec!["a", "", ""]);
    }

    #[test]
    fn labels_sorted() {
        assert_eq!(split_labels("web+voip+web"), vec!["voip", "web"]);
        assert!(split_labels("").is_empty());
    }

    #[test]
    fn columns_intern_values_and_alias_profile() {
        let src = |group: &str, extra: &[(&str, &str)]| Source {
            path: PathBuf::from(group),
            labels: vec!["web".into()],
            group: group.into(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let sources = [
            src("a", &[("wan_profile", "mobile"), ("program", "curl")]),
            src("b", &[("wan_profile", "lan"), ("program", " ")]),
            src("c", &[("wan_profile", "mobile")]),
        ];
        let cols = Columns::new(&sources);
        assert_eq!(cols.names(), ["group", "program", "wan_profile"]);
        let p = cols.find("profile").unwrap();
        assert_eq!(cols.name(p), "wan_profile");
        assert_eq!(cols.get(0, p), Some("mobile"));
        // One string per distinct value: both "mobile" cells share an id.
        assert_eq!(cols.id(0, p), cols.id(2, p));
        assert_eq!(cols.values(p).len(), 2);
        assert!(cols.string(cols.values(p)[0]) < cols.string(cols.values(p)[1]));
        let prog = cols.find("PROGRAM").unwrap();
        assert_eq!(cols.get(1, prog), None, "blank is no value");
        assert_eq!(cols.get(2, prog), None, "missing is no value");
        assert_eq!(cols.get(9, prog), None);
        assert_eq!(cols.get(0, 99), None);
    }

    #[test]
    fn folder_and_manifest() {
        let dir = std::env::temp_dir().join(format!("tapir-ds-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("web/sub")).unwrap();
        fs::create_dir_all(dir.join("voip")).unwrap();
        fs::write(dir.join("web/sub/a.trace"), "0 100\n").unwrap();
        fs::write(dir.join("web/notes.md"), "x").unwrap();
        fs::write(dir.join("voip/b.pcap"), "x").unwrap();
        fs::write(dir.join("loose.trace"), "0 1\n").unwrap();
        let s = discover(std::slice::from_ref(&dir)).unwrap();
        let names: Vec<(String, Vec<String>)> = s
            .iter()
            .map(|s| {
                (
                    s.path.strip_prefix(&dir).unwrap().display().to_string(),
                    s.labels.clone(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("loose.trace".to_string(), vec![]),
                ("voip/b.pcap".to_string(), vec!["voip".to_string()]),
                ("web/sub/a.trace".to_string(), vec!["web".to_string()]),
            ]
        );
        fs::write(
            dir.join("manifest.csv"),
            "path,label,group,condition\nweb/sub/a.trace,web+p2p,g1,plain\n",
        )
        .unwrap();
        let s = discover(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].labels, vec!["p2p", "web"]);
        assert_eq!(s[0].group, "g1");
        assert_eq!(
            s[0].extra.get("condition").map(String::as_str),
            Some("plain")
        );
        let cols = Columns::new(&s);
        assert_eq!(cols.names(), ["condition", "group"]);
        let c = cols.find("Condition").unwrap();
        assert_eq!(cols.get(0, c), Some("plain"));
        assert_eq!(cols.get(0, cols.find("group").unwrap()), Some("g1"));
        assert!(cols.find("profile").is_none());
        assert_eq!(cols.get(1, c), None);
        // A folder inside the dataset takes its rows from the manifest above it.
        let s = discover(&[dir.join("web")]).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].labels, vec!["p2p", "web"]);
        fs::write(dir.join("manifest.csv"), "path,label\nweb/sub/a.trace\n").unwrap();
        let e = discover(std::slice::from_ref(&dir))
            .unwrap_err()
            .to_string();
        assert!(e.contains("manifest.csv") && e.contains("line 2"), "{e}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
