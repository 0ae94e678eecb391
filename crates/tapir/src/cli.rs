//! Raw command-line flags. Validated into settings by `settings.rs`; library crates never see
//! these types.

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::fmt;
use std::path::PathBuf;
use tapir_analysis::{GraphFormat, Metric};
use tapir_features::FeatureSpace;
use tapir_flow::Unit;
use tapir_learn::ModelKind;

/// A library enum whose values are spelled by the library's own names (`FeatureSpace::name`):
/// taken as [`Named`], clap lists them in `--help` and refuses any other value (exit 2), and
/// no second list of spellings exists in this crate.
pub trait LibraryNames: Copy + fmt::Debug + Send + Sync + 'static {
    /// Every value, in the order `--help` lists them.
    const VALUES: &'static [Named<Self>];
    /// The value's name on the command line.
    fn name(self) -> &'static str;
    /// Further spellings accepted, as earlier versions did.
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }
}

/// A flag value of a library type (see [`LibraryNames`]); `.0` is the library's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Named<T>(pub T);

impl<T: LibraryNames> ValueEnum for Named<T> {
    fn value_variants<'a>() -> &'a [Self] {
        T::VALUES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.name()).aliases(self.0.aliases().iter().copied()))
    }
}

impl LibraryNames for Unit {
    const VALUES: &'static [Named<Self>] = &[
        Named(Unit::ALL[0]),
        Named(Unit::ALL[1]),
        Named(Unit::ALL[2]),
    ];
    fn name(self) -> &'static str {
        Unit::name(self)
    }
}

impl LibraryNames for FeatureSpace {
    const VALUES: &'static [Named<Self>] = &[
        Named(FeatureSpace::ALL[0]),
        Named(FeatureSpace::ALL[1]),
        Named(FeatureSpace::ALL[2]),
    ];
    fn name(self) -> &'static str {
        FeatureSpace::name(self)
    }
    fn aliases(self) -> &'static [&'static str] {
        match self {
            FeatureSpace::SizeIat => &["size_iat"],
            _ => &[],
        }
    }
}

impl LibraryNames for ModelKind {
    const VALUES: &'static [Named<Self>] = &[
        Named(ModelKind::ALL[0]),
        Named(ModelKind::ALL[1]),
        Named(ModelKind::ALL[2]),
    ];
    fn name(self) -> &'static str {
        ModelKind::name(self)
    }
}

impl LibraryNames for GraphFormat {
    const VALUES: &'static [Named<Self>] = &[
        Named(GraphFormat::ALL[0]),
        Named(GraphFormat::ALL[1]),
        Named(GraphFormat::ALL[2]),
    ];
    fn name(self) -> &'static str {
        GraphFormat::name(self)
    }
}

impl LibraryNames for Metric {
    const VALUES: &'static [Named<Self>] = &[
        Named(Metric::ALL[0]),
        Named(Metric::ALL[1]),
        Named(Metric::ALL[2]),
        Named(Metric::ALL[3]),
    ];
    fn name(self) -> &'static str {
        Metric::name(self)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "tapir",
    version,
    about = "Traffic analysis of encrypted traffic: what leaks from packet sizes and timing.",
    long_about = None,
    after_help = "Examples:\n  tapir eval data/sample/ipsec\n  tapir train data/sample/ipsec -o ipsec.tapir\n  tapir classify -m ipsec.tapir data/sample/ipsec/voip/voip-6b8a7de5.pcap.zst\n  tapir inspect crates/capture/tests/data/lo-http.pcapng"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// What is in a capture: packets, span, link types, flows, tunnels recognised.
    #[command(after_help = "Example:\n  tapir inspect data/sample/ipsec/web/*.pcap.gz --top 5")]
    Inspect(InspectArgs),
    /// Windows of features, one row per window, with label and group.
    #[command(
        after_help = "Examples:\n  tapir extract data/sample/plain -o features.csv\n  tapir extract data/sample/plain/voip --plots plots/ --limit 1 -o voip.csv\n  tapir extract --live eth0 --by flow --format jsonl   # a build with --features live"
    )]
    Extract(ExtractArgs),
    /// Train a model on a labelled dataset and write it to one file.
    #[command(
        after_help = "Example:\n  tapir train data/sample/ipsec --model rf --features combined -o ipsec.tapir"
    )]
    Train(TrainArgs),
    /// Accuracy of every feature space × model on a labelled dataset (the paper's Tables I–III).
    #[command(
        after_help = "Examples:\n  tapir eval data/sample/ipsec --split trace --seed 1 --json results.json\n  tapir eval data/sample/tor --folds 5\n  tapir eval data/sample/ipsec --hold-out profile --compare size-iat:rf combined:rf"
    )]
    Eval(EvalArgs),
    /// Every table and figure of the paper on a dataset, ours beside the paper's, led by the
    /// accuracy with each network profile (or program) held out; and beyond: background
    /// traffic, multi-label windows, window size, splits, transfer. Writes a report.
    #[command(
        after_help = "Examples:\n  tapir experiment\n  tapir experiment data/sample --out report --seeds 1,2,3,4,5\n  tapir experiment --hold-out profile,condition"
    )]
    Experiment(crate::cmd::experiment::ExperimentArgs),
    /// Run a capture or trace through countermeasures (padding, constant volume, cover traffic,
    /// decoys, delays, mixes; several inputs are aggregated into one tunnel) and print the cost.
    #[command(
        after_help = "Examples:\n  tapir defend data/sample/ipsec/web/web-04265a45.pcap.gz -d pad-bucket:514 -o padded.trace\n  tapir defend data/sample/plain/voip/voip-0401faf9.trace.zst \\\n      -d constant:rate=50,size=1500,min=10s -o cv.pcap\n  tapir defend data/sample/plain/voip/voip-1*.trace.zst -d delay:mean=20ms -d pad-mtu \\\n      -o tunnel.trace --json\n  tapir defend crates/mail/tests/data/list.mbox -d mix:batch=10 -o mixed.mbox\n  tapir defend crates/mail/tests/data/list.mbox -d delay:mean=600s -d broadcast:group=20 \\\n      -o broadcast.mbox\n  tapir defend crates/analysis/tests/data/list-mail.jsonl -d delay:mean=600s -o delayed.jsonl"
    )]
    Defend(DefendArgs),
    /// Label new traffic with a trained model, window by window (JSON lines).
    #[command(
        after_help = "Examples:\n  tapir classify data/sample/tor/web/web-069250ed.pcap.gz\n  tapir classify -m crates/tapir/models/default.tapir data/sample/openvpn/voip --by flow \\\n      --summary\n  tapir classify --live eth0 --by flow --qos web=AF21,voip=EF,video=AF41,p2p=CS1 \\\n      # a build with --features live"
    )]
    Classify(ClassifyArgs),
    /// Bidirectional flow records (NetFlow fields, both directions, tunnel kind) from captures,
    /// NetFlow/IPFIX exports inside them, or a UDP collector.
    #[command(
        after_help = "Examples:\n  tapir flows data/sample/plain/multi/video_voip_web-0eb2055e.pcap.zst\n  tapir flows data/sample/plain/multi/*.pcap.zst --format csv -o flows.csv\n  tapir flows --listen 127.0.0.1:2055 --json\n  tapir flows data/sample/plain/multi/*.pcap.zst --format parquet -o flows/   # --features parquet\n  tapir flows --live eth0 --json | jq 'select(.tunnel != null)'   # --features live"
    )]
    Flows(crate::cmd::flows::FlowsArgs),
    /// Source/destination analysis: watchlist hits, new peers of sensitive hosts, who talks to whom.
    #[command(
        after_help = "Examples:\n  tapir flows data/sample/plain/background/*.pcap.zst data/sample/plain/multi/*.pcap.zst --json \\\n      -o flows.jsonl\n  tapir watch flows.jsonl --watchlist crates/analysis/tests/data/watchlist.txt \\\n      --sensitive 10.77.11.1 --baseline 10m --graph dot talk.dot --top 5"
    )]
    Watch(crate::cmd::watch::WatchArgs),
    /// Volume analysis: counts per entity per interval, robust baseline, surges and silences.
    #[command(
        after_help = "Example:\n  tapir volume data/sample/plain/multi/*.pcap.zst --group prefix/24 --metric flows --interval 5m \\\n      --plot volume.svg"
    )]
    Volume(crate::cmd::volume::VolumeArgs),
    /// Sequence analysis: one message in, k similar copies out within Δt → inferred groups.
    #[command(
        after_help = "Example:\n  tapir sequence crates/analysis/tests/data/list-mail.jsonl --within 2m --fanout 3 --epsilon 0.1"
    )]
    Sequence(crate::cmd::sequence::SequenceArgs),
    /// Everything about one entity (flows, mail, hits, new peers, surges, silences, groups) in time order.
    #[command(
        after_help = "Example:\n  tapir timeline 10.77.11.1 data/sample/plain/background/background-485dfb1a.pcap.zst \\\n      --watchlist crates/analysis/tests/data/watchlist.txt --interval 5m"
    )]
    Timeline(crate::cmd::timeline::TimelineArgs),
    /// What an SMTP relay sees of each message, even encrypted: headers, Received chain, size,
    /// time, apparent encryption; then what it learns from all of them, and who writes to whom.
    #[command(
        after_help = "Examples:\n  tapir mail crates/mail/tests/data/list.mbox\n  tapir mail crates/mail/tests/data/maildir/ --json --events mail.jsonl --graph dot talk.dot\n  tapir mail crates/mail/tests/data/eml/*.eml --summary-only --anonymize \"shared secret\""
    )]
    Mail(crate::cmd::mail::MailArgs),
}

/// `extract --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExtractFormat {
    Csv,
    #[value(alias = "json")]
    Jsonl,
}

/// `eval --split`: how test data is held out. (No doc comments on the values: one would turn
/// the whole `--help` into its long form.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Split {
    // Whole traces on one side: no trace has windows in both.
    Trace,
    // The paper's random split of windows (leaky: neighbouring windows of one trace fall on
    // both sides).
    Window,
}

/// Flags shared by every command that reads traffic.
#[derive(Args, Debug, Clone)]
pub struct TrafficArgs {
    /// Unit of analysis: one trace per capture, per flow (5-tuple) or per host pair.
    #[arg(long = "by", value_name = "UNIT", default_value = "capture")]
    pub by: Named<Unit>,
    /// Addresses in this prefix are the client (upstream = from them). Repeatable.
    #[arg(long, value_name = "CIDR")]
    pub client: Vec<String>,
    /// Units with fewer packets give no windows.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_packets: u64,
    /// Stop at the first unreadable file or line instead of reporting it and going on.
    #[arg(long)]
    pub strict: bool,
}

/// Window and feature flags.
#[derive(Args, Debug, Clone)]
pub struct WindowArgs {
    /// Packets per window (the paper: 1024).
    #[arg(long, value_name = "N", default_value_t = tapir_features::DEFAULT_WINDOW)]
    pub window: usize,
    /// Packets between window starts (default: the window size, no overlap).
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// Feature configuration (bins, ACK size, surge gap) as JSON; see docs/features.md.
    #[arg(long, value_name = "FILE")]
    pub feature_config: Option<PathBuf>,
    /// Windows held in memory at most by train and eval (augmented copies included); more ends
    /// the run with an error before memory runs out (docs/limits.md). extract writes windows
    /// as they come and holds none, so it has no such limit.
    #[arg(long, value_name = "N", default_value_t = tapir_dataset::DEFAULT_MAX_WINDOWS)]
    pub max_windows: usize,
    /// Units (flows, host pairs) live at once at most, per file; past it the least recently
    /// seen end early and are counted on stderr. Flows also end after 60 s idle (180 s for
    /// IPsec NAT-T and WireGuard ports) and 1800 s active (docs/limits.md).
    #[arg(long, value_name = "N", default_value_t = tapir_dataset::DEFAULT_MAX_UNITS)]
    pub max_units: usize,
    /// Packets the window buffers of a file's live units hold together at most (at least four
    /// windows); past it the partial windows of the least recently seen units are given up and
    /// counted on stderr (docs/limits.md).
    #[arg(long, value_name = "N", default_value_t = tapir_dataset::DEFAULT_MAX_HELD_PACKETS)]
    pub max_held_packets: usize,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Capture (pcap, pcapng) or trace files, plain, gzip or zstd; `-` for standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// How many of the largest flows to list per file.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Flat JSON lines instead of tables: a line per file, then one per tunnel kind and per
    /// listed flow, `type` saying which (docs/datasets.md).
    #[arg(long)]
    pub json: bool,
    /// Replace addresses by prefix-preserving pseudonyms (Crypto-PAn) under this key: 64 hex
    /// digits, or a passphrase.
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
    #[command(flatten)]
    pub traffic: TrafficArgs,
}

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// Dataset folders, manifest CSVs, or capture/trace files (plain, gzip or zstd; `-` for
    /// standard input).
    #[arg(required_unless_present = "live", value_name = "DATASET")]
    pub inputs: Vec<PathBuf>,
    /// Output file (default: stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows as CSV or as JSON lines.
    #[arg(long, value_name = "FORMAT", default_value = "csv")]
    pub format: ExtractFormat,
    /// Feature space (docs/features.md).
    #[arg(
        long,
        value_name = "SPACE",
        default_value = "combined",
        ignore_case = true
    )]
    pub features: Named<FeatureSpace>,
    /// Draw the histograms of windows as PNG and SVG into this folder.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// With --plots: draw at most this many windows per file.
    #[arg(long, default_value_t = 1)]
    pub limit: usize,
    /// Write every trace (unit) as a `.trace` file into this folder, one subfolder per label.
    #[arg(long, value_name = "DIR")]
    pub traces: Option<PathBuf>,
    /// Replace the addresses in the `unit` column (and `--traces` headers) by prefix-preserving
    /// pseudonyms (Crypto-PAn) under this key, those of `tapir flows --anonymize`: 64 hex
    /// digits, or a passphrase.
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
    /// Windows of this network interface's traffic, a row as each completes, instead of files
    /// (a build with `--features live`; needs root or CAP_NET_RAW). Ctrl-C ends with a
    /// summary.
    #[arg(long, value_name = "IFACE", conflicts_with_all = ["inputs", "plots", "traces"])]
    pub live: Option<String>,
    #[command(flatten)]
    pub traffic: TrafficArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    // Last: its help heading holds for the flags after it.
    #[command(flatten)]
    pub capture: LiveArgs,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Labelled dataset: folder per label, or manifest CSV.
    #[arg(required = true, value_name = "DATASET")]
    pub inputs: Vec<PathBuf>,
    /// Model file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Naive Bayes, logistic regression or random forest.
    #[arg(long, value_name = "MODEL", default_value = "rf", ignore_case = true)]
    pub model: Named<ModelKind>,
    /// Feature space (docs/features.md).
    #[arg(
        long,
        value_name = "SPACE",
        default_value = "combined",
        ignore_case = true
    )]
    pub features: Named<FeatureSpace>,
    /// Seed for the random forest.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Trees in the random forest.
    #[arg(long, default_value_t = 100)]
    pub trees: usize,
    #[command(flatten)]
    pub forest: ForestArgs,
    /// Augmentation of training windows: default, none, or e.g. scale:0.1-10,offset:0-80
    /// (see docs/features.md).
    #[arg(long, value_name = "SPEC", default_value = "default")]
    pub augment: String,
    /// Augmented copies per training window.
    #[arg(long, value_name = "K", default_value_t = 4)]
    pub augment_copies: u32,
    /// Share of correctly labelled held-out windows that must keep their label; sets the
    /// "unknown" threshold stored in the model (0 = no threshold).
    #[arg(long, value_name = "SHARE", default_value_t = 0.95)]
    pub unknown_share: f64,
    /// Write the training report (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Train the dataset's background captures (DNS, NTP, updates, polls) as a class of their
    /// own, which `classify` reports as `unknown`.
    #[arg(long)]
    pub background_class: bool,
    #[command(flatten)]
    pub traffic: TrafficArgs,
    #[command(flatten)]
    pub window: WindowArgs,
}

/// How far the random forest's trees grow (both unlimited by default: each tree grows until
/// its leaves are pure).
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct ForestArgs {
    /// Fewest distinct training windows in a leaf of the random forest (default 1).
    #[arg(long, value_name = "N")]
    pub min_leaf: Option<usize>,
    /// Deepest level of the random forest's trees (default: no limit).
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Labelled dataset: folder per label, or manifest CSV.
    #[arg(required = true, value_name = "DATASET")]
    pub inputs: Vec<PathBuf>,
    /// trace: whole traces on one side; window: the paper's random window split (leaky).
    #[arg(long, value_name = "SPLIT", default_value = "trace")]
    pub split: Split,
    /// Grouped k-fold cross-validation instead of one 80/20 split.
    #[arg(long, value_name = "K")]
    pub folds: Option<usize>,
    /// Fraction of traces (or windows) held out for testing.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Seed for the split and the random forest.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Models to run (comma-separated).
    #[arg(
        long,
        value_name = "MODEL[,MODEL]",
        default_value = "nb,lr,rf",
        value_delimiter = ',',
        ignore_case = true
    )]
    pub models: Vec<Named<ModelKind>>,
    /// Feature spaces to run (comma-separated).
    #[arg(
        long,
        value_name = "SPACE[,SPACE]",
        default_value = "size-iat,burst,combined",
        value_delimiter = ',',
        ignore_case = true
    )]
    pub features: Vec<Named<FeatureSpace>>,
    /// Trees in the random forest.
    #[arg(long, default_value_t = 100)]
    pub trees: usize,
    #[command(flatten)]
    pub forest: ForestArgs,
    /// Leave one value of a manifest column out per fold (program, profile = wan_profile,
    /// condition, or any column): the accuracy to expect on traffic of a kind never trained on.
    #[arg(long, value_name = "COLUMN")]
    pub hold_out: Option<String>,
    /// Paired bootstrap of two cells (SPACE:MODEL) on the same test traces: B minus A with a 95%
    /// interval over traces (on the hold-out folds with --hold-out).
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    pub compare: Vec<String>,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Augmentation of training windows (test windows never): none, default, or a SPEC as for
    /// `train`.
    #[arg(long, value_name = "SPEC", default_value = "none")]
    pub augment: String,
    /// Augmented copies per training window.
    #[arg(long, value_name = "K", default_value_t = 4)]
    pub augment_copies: u32,
    /// Weight training windows so that every value of this manifest column (e.g. program)
    /// counts the same inside its class; `none` for no weighting (see docs/evaluation.md).
    #[arg(long, value_name = "COLUMN", default_value = "none")]
    pub balance: String,
    #[command(flatten)]
    pub traffic: TrafficArgs,
    #[command(flatten)]
    pub window: WindowArgs,
}

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// Model file written by `tapir train` (default: the model shipped with tapir).
    #[arg(short, long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Refuse a model file larger than this many bytes (a hostile or wrong file cannot exhaust
    /// memory).
    #[arg(long, value_name = "BYTES", default_value_t = tapir_learn::MAX_MODEL_FILE)]
    pub max_model_size: u64,
    /// Label a window `unknown` when its highest probability is below P (default: the
    /// model's calibrated threshold; 0 turns "unknown" off).
    #[arg(long, value_name = "P")]
    pub unknown_threshold: Option<f64>,
    /// Only the summary line of each unit (majority label, share, mean probability).
    #[arg(long)]
    pub summary: bool,
    /// Capture or trace files (plain, gzip or zstd; `-` for standard input), or dataset folders.
    #[arg(required_unless_present = "live", value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// Output file (default: stdout), JSON lines.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Packets between window starts (default: the model's window, no overlap).
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// DiffServ class of each label in the JSON lines (`qos`, `dscp`), e.g.
    /// web=AF21,voip=EF,video=AF41,p2p=CS1; labels left out get DF (best effort).
    #[arg(long, value_name = "MAP")]
    pub qos: Option<String>,
    /// Replace the addresses in the `unit` column by prefix-preserving pseudonyms (Crypto-PAn)
    /// under this key, those of `tapir flows --anonymize`: 64 hex digits, or a passphrase.
    #[arg(long, value_name = "KEY")]
    pub anonymize: Option<String>,
    /// Classify the traffic of this network interface as it comes, instead of files (a build
    /// with `--features live`; needs root or CAP_NET_RAW). Ctrl-C ends with a summary.
    #[arg(long, value_name = "IFACE", conflicts_with = "inputs")]
    pub live: Option<String>,
    #[command(flatten)]
    pub traffic: TrafficArgs,
    // Last: its help heading holds for the flags after it.
    #[command(flatten)]
    pub capture: LiveArgs,
}

/// Flags of a live capture (`--live IFACE`).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Live capture (--live)")]
pub struct LiveArgs {
    /// Capture only what this BPF filter (tcpdump syntax) passes, e.g. "esp or udp port 4500".
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Kernel capture buffer in MiB: what absorbs bursts [default: 64].
    #[arg(long, value_name = "MIB")]
    pub buffer_size: Option<u32>,
    /// Bytes kept of each frame; tapir reads headers only, sizes come from the IP header
    /// [default: 256].
    #[arg(long, value_name = "BYTES")]
    pub snaplen: Option<u32>,
    /// Hand packets over one by one as they arrive (lowest latency) instead of in blocks the
    /// kernel releases when full or after 100 ms.
    #[arg(long)]
    pub immediate: bool,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    pub no_promisc: bool,
    /// Stop after this many frames.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Run as this user once the interface is open, when started as root (default: nobody;
    /// `--user root` keeps root).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// A `stats` line (packets, kernel drops) at most this often, 0: only the final summary;
    /// classify writes it between decisions, flows and extract on stderr [default: 10].
    #[arg(long, value_name = "SECS")]
    pub stats_every: Option<f64>,
}

impl LiveArgs {
    /// The first of these flags given, to refuse it without `--live`.
    pub fn first_given(&self) -> Option<&'static str> {
        [
            (self.filter.is_some(), "--filter"),
            (self.buffer_size.is_some(), "--buffer-size"),
            (self.snaplen.is_some(), "--snaplen"),
            (self.immediate, "--immediate"),
            (self.no_promisc, "--no-promisc"),
            (self.count.is_some(), "--count"),
            (self.duration.is_some(), "--duration"),
            (self.user.is_some(), "--user"),
            (self.stats_every.is_some(), "--stats-every"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
}

#[derive(Args, Debug)]
pub struct DefendArgs {
    /// Capture or trace files (several are merged into one tunnel first: aggregation), or one
    /// mbox / Maildir / `.eml` folder, or one JSON-lines event file (flow records, mail events).
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
    /// Defence spec; repeat to chain (applied in order). `-d help` lists them.
    #[arg(short = 'd', long = "defense", value_name = "SPEC", required = true)]
    pub defences: Vec<String>,
    /// Output: a `.pcap` (raw IPv4 headers, tshark reads it) or a `.trace` (default: stdout, trace);
    /// for mail an mbox, for events JSON lines in the input's shape.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Seed of the defences' random draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The costs as one JSON object on stderr instead of a sentence.
    #[arg(long)]
    pub json: bool,
    /// Addresses in this prefix are the client (upstream = from them). Repeatable.
    #[arg(long, value_name = "CIDR")]
    pub client: Vec<String>,
    /// Stop at the first unreadable record instead of reporting it and going on.
    #[arg(long)]
    pub strict: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }

    fn same<T: LibraryNames + PartialEq>(all: &[T]) {
        let offered: Vec<T> = T::VALUES.iter().map(|n| n.0).collect();
        assert_eq!(
            offered, all,
            "the flag offers every value, in the library's order"
        );
    }

    #[test]
    fn library_values_are_offered_whole() {
        same(&Unit::ALL);
        same(&FeatureSpace::ALL);
        same(&ModelKind::ALL);
        same(&Metric::ALL);
        same(&GraphFormat::ALL);
    }

    /// `--graph FORMAT FILE` takes two values, so clap cannot list FORMAT's: its help does.
    #[test]
    fn graph_help_names_every_format() {
        help_names::<Named<GraphFormat>>("mail", "graph");
        help_names::<Named<GraphFormat>>("watch", "graph");
    }

    fn help_names<T: ValueEnum>(command: &str, flag: &str) {
        let cli = Cli::command();
        let help = cli
            .find_subcommand(command)
            .and_then(|c| c.get_arguments().find(|a| a.get_id() == flag))
            .and_then(|a| a.get_help())
            .map(|h| h.to_string())
            .unwrap_or_else(|| panic!("{command} --{flag} has no help"));
        for v in T::value_variants() {
            let name = v.to_possible_value().unwrap().get_name().to_string();
            assert!(
                help.contains(&name),
                "{command} --{flag}: {help:?} lacks {name}"
            );
        }
    }
}
