//! Reading datasets for the commands: discovery, parallel extraction with a progress bar,
//! warnings on stderr, and labelled datasets for the models.

use crate::progress;
use std::path::PathBuf;
use tapir_dataset::{discover, extract_all, DatasetError, ExtractSettings, FileWindows, Source};
pub use tapir_eval::{Labelled, SetAside, BACKGROUND};

pub struct Loaded {
    pub sources: Vec<Source>,
    /// Per source: its windows, or `None` when it could not be read (already reported).
    pub files: Vec<Option<FileWindows>>,
    /// `--strict`: the first input that gives nothing to use is the error.
    pub strict: bool,
}

pub fn warn(msg: impl std::fmt::Display) {
    eprintln!("tapir: warning: {msg}");
}

/// Inputs skipped so far because they could not be read.
static SKIPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An input that could not be read, or that held nothing the command reads: reported now, the
/// command goes on with the others, and the run ends with exit code 1 (see `main`).
pub fn skipped(msg: impl std::fmt::Display) {
    warn(msg);
    SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Counts `n` inputs already reported as unreadable by a library (its warnings printed).
pub fn count_skipped(n: usize) {
    SKIPPED.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
}

/// How many inputs [`skipped`] reported.
pub fn skipped_inputs() -> usize {
    SKIPPED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Finds and reads every file of `inputs`. Unreadable files are reported on stderr and skipped
/// (with `strict`, the first one is the error).
pub fn load(inputs: &[PathBuf], settings: &ExtractSettings) -> anyhow::Result<Loaded> {
    let sources = discover(inputs)?;
    let pb = progress::bar(sources.len() as u64, "reading");
    let results = extract_all(&sources, settings, &|_, _| pb.inc(1)).map_err(|e| match e {
        DatasetError::TooManyWindows { limit } => anyhow::anyhow!(
            "{e}: give fewer inputs, a larger --window or --stride or fewer --augment-copies, \
             or raise --max-windows (now {limit}; a window holds {} features of 4 bytes)",
            tapir_features::dim(settings.space, &settings.features)
        ),
        e => e.into(),
    })?;
    pb.finish_and_clear();
    let mut files = Vec::with_capacity(sources.len());
    for r in results {
        match r.result {
            Ok(f) => {
                for w in &f.warnings {
                    warn(w);
                }
                if f.packets == 0 {
                    skipped(format!(
                        "{}: no packets in it; file skipped",
                        sources[r.source].path.display()
                    ));
                }
                if f.skipped > 0 {
                    if let Some(first) = &f.first_skip {
                        warn(format!("{} frames skipped (first: {first})", f.skipped));
                    }
                }
                files.push(Some(f));
            }
            Err(e) => {
                skipped(format!("{e}; file skipped"));
                files.push(None);
            }
        }
    }
    Ok(Loaded {
        sources,
        files,
        strict: settings.strict,
    })
}

/// The labelled dataset of `loaded` (see [`tapir_eval::labelled`]), with a line on stderr for
/// each kind of source set aside.
pub fn labelled_with(
    loaded: &Loaded,
    cols: std::ops::Range<usize>,
    background_class: bool,
) -> anyhow::Result<Labelled> {
    let lab = tapir_eval::labelled(&loaded.sources, &loaded.files, cols, background_class)?;
    let SetAside {
        unlabelled,
        background,
        multi_label,
    } = lab.set_aside;
    if unlabelled > 0 {
        // Nothing in them is used: under the exit-code rule they count as inputs not read.
        for (src, _) in loaded
            .sources
            .iter()
            .zip(&loaded.files)
            .filter(|(s, f)| f.is_some() && s.labels.is_empty())
        {
            let msg = format!(
                "{}: no label (a dataset is a folder per label or a manifest CSV; put the file \
                 in a label folder such as web/)",
                src.path.display()
            );
            if loaded.strict {
                anyhow::bail!("{msg}");
            }
            skipped(format!("{msg}; file left out"));
        }
    }
    if background > 0 {
        eprintln!(
            "tapir: note: {background} background captures set aside (background traffic is mixed into windows by `tapir experiment`, not a class)"
        );
    }
    if multi_label > 0 {
        eprintln!("tapir: note: {multi_label} multi-label captures set aside (single-label models; `tapir experiment` uses them)");
    }
    Ok(lab)
}

pub fn labelled(loaded: &Loaded, cols: std::ops::Range<usize>) -> anyhow::Result<Labelled> {
    labelled_with(loaded, cols, false)
}
