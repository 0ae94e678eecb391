//! End-to-end tests of `tapir experiment` on small generated datasets: two conditions, three
//! traffic types, background and concurrent captures in one condition only.

mod common;

use common::{tapir, temp_dir};
use std::fs;
use std::path::Path;
use std::process::Output;

/// xorshift, so traces differ from file to file but every run is the same.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Packets of one application: voip (small packets every 20 ms), bulk (full-size runs down,
/// ACKs up, pauses), web (mixed sizes, random gaps). `extra` grows every size, as a tunnel's
/// header would.
fn packets(class: &str, seed: u64, n: usize, extra: i64) -> Vec<(f64, i64)> {
    let mut rng = Rng(0x9e37_79b9 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
    let mut t = 0.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (dt, size): (f64, i64) = match class {
            "voip" => {
                let up = i % 2 == 0;
                let s = 120 + rng.below(80) as i64;
                (
                    if up { 0.020 } else { 0.0 } + rng.below(2000) as f64 * 1e-6,
                    if up { s } else { -s },
                )
            }
            "bulk" => {
                if i % 8 == 7 {
                    (rng.below(400) as f64 * 1e-6, 52)
                } else {
                    (
                        rng.below(200) as f64 * 1e-6 + if i % 64 == 0 { 0.2 } else { 0.0 },
                        -1500,
                    )
                }
            }
            _ => (
                rng.below(20_000) as f64 * 1e-6,
                [-1500, -900, -300, 400, 90][rng.below(5) as usize],
            ),
        };
        t += dt;
        let s = size.signum() * (size.abs() + extra).min(1600);
        out.push((t, s));
    }
    out
}

fn write_trace(path: &Path, pk: &[(f64, i64)]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut s = String::from("# generated for tests\n");
    for (t, size) in pk {
        s.push_str(&format!("{t:.6} {size}\n"));
    }
    fs::write(path, s).unwrap();
}

/// `root/{plain,ipsec}/{voip,bulk,web}/*.trace`; plain also has `background/` and
/// `multi/bulk+voip/`.
fn write_dataset(root: &Path) {
    for (cond, extra) in [("plain", 0), ("ipsec", 73)] {
        for (k, class) in ["voip", "bulk", "web"].iter().enumerate() {
            for t in 0..5u64 {
                let pk = packets(class, t * 31 + k as u64 + extra as u64, 1100, extra);
                write_trace(&root.join(format!("{cond}/{class}/{class}-{t}.trace")), &pk);
            }
        }
    }
    for b in 0..2u64 {
        let pk = packets("web", 900 + b, 1500, 0);
        write_trace(&root.join(format!("plain/background/bg-{b}.trace")), &pk);
    }
    for m in 0..3u64 {
        let mut pk = packets("bulk", 700 + m, 700, 0);
        pk.extend(packets("voip", 800 + m, 700, 0));
        pk.sort_by(|a, b| a.0.total_cmp(&b.0));
        write_trace(
            &root.join(format!("plain/multi/bulk+voip/m-{m}.trace")),
            &pk,
        );
    }
}

const QUICK: &[&str] = &[
    "--window",
    "256",
    "--seeds",
    "1,2",
    "--trees",
    "20",
    "--rates",
    "0,300",
    "--window-sizes",
    "128,256",
    "--mixes",
    "3",
];

/// `tapir experiment ROOT --out OUT EXTRA… QUICK…`: the quick settings every test here uses.
fn quick_experiment(root: &str, out: &str, extra: &[&str]) -> Output {
    let mut args = vec!["experiment", root, "--out", out];
    args.extend_from_slice(extra);
    args.extend_from_slice(QUICK);
    tapir(&args)
}

#[test]
fn experiment_writes_tables_json_and_a_self_contained_report() {
    let dir = temp_dir("full");
    let root = dir.join("data");
    write_dataset(&root);
    let out = dir.join("report");
    let o = quick_experiment(root.to_str().unwrap(), out.to_str().unwrap(), &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");

    // Text: the paper's Table I beside ours, the skipped background of ipsec, the report path.
    assert!(
        stdout.contains("== plain: 15 traces, 2 background, 3 concurrent"),
        "{stdout}"
    );
    assert!(stdout.contains("paper Table I") && stdout.contains("paper Table II"));
    assert!(
        stdout.contains("99.09%"),
        "paper's Table I figures are shown: {stdout}"
    );
    assert!(stdout.contains("skipped: ipsec / background: no background captures"));
    assert!(stdout.contains("report: ") && stdout.contains("index.html"));

    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("results.json")).unwrap()).unwrap();
    let conds = json["conditions"].as_array().unwrap();
    let names: Vec<&str> = conds
        .iter()
        .map(|c| c["condition"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["plain", "ipsec"]);
    let plain = &conds[0];
    assert_eq!(plain["classes"], serde_json::json!(["bulk", "voip", "web"]));
    let cells = plain["table"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 9);
    for c in cells {
        for split in ["trace_split", "window_split"] {
            let runs = c[split]["runs"].as_array().unwrap();
            assert_eq!(runs.len(), 2, "one run per seed");
            assert!(runs
                .iter()
                .all(|a| (0.0..=1.0).contains(&a.as_f64().unwrap())));
        }
    }
    // Voice, bulk and web differ grossly: the forest on combined features gets them.
    let rf = cells
        .iter()
        .find(|c| c["features"] == "combined" && c["model"] == "rf")
        .unwrap();
    assert!(rf["trace_split"]["mean"].as_f64().unwrap() >= 0.9, "{rf}");
    assert_eq!(rf["paper"].as_f64(), Some(0.9909));

    // Background mixes in packets, so the same test traces give more windows at 300/s.
    let bg = &plain["background"];
    assert_eq!(bg["rates"], serde_json::json!([0.0, 300.0]));
    assert_eq!(bg["series"].as_array().unwrap().len(), 6);
    let tw = bg["test_windows"].as_array().unwrap();
    assert!(tw[1].as_u64().unwrap() > tw[0].as_u64().unwrap(), "{tw:?}");
    assert!(conds[1]["background"].is_null());

    // Multi-label: single, interleaved and concurrent windows all scored, 1..3 labels.
    let ml = &plain["multi_label"];
    assert_eq!(ml["rows"].as_array().unwrap().len(), 3);
    let origins = ml["rows"][2]["by_origin"].as_object().unwrap();
    for k in ["single", "synthetic", "lab"] {
        assert!(origins.contains_key(k), "{origins:?}");
    }
    // Leave one concurrent capture out: every window of the three captures (1,400 packets,
    // five 256-packet windows each) is a test window.
    assert_eq!(origins["lab"]["windows"], 15, "{origins:?}");
    let card = ml["test_by_cardinality"].as_array().unwrap();
    assert!(card[0].as_u64().unwrap() > 0 && card[2].as_u64().unwrap() > 0);
    let hl = ml["rows"][2]["all"]["hamming_loss"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&hl));

    // Window sizes and transfer.
    assert_eq!(
        plain["window_sweep"]["sizes"],
        serde_json::json!([128, 256])
    );
    let t = &json["transfer"];
    assert_eq!(t["conditions"], serde_json::json!(["plain", "ipsec"]));
    assert_eq!(t["accuracy"].as_array().unwrap().len(), 2);

    // The report: every figure inline as SVG with its PNG beside it, nothing fetched.
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    let figures = html.matches("<figure class=\"fig\"").count();
    let pngs = fs::read_dir(out.join("figures")).unwrap().count();
    assert!(figures >= 10, "{figures} figures");
    assert_eq!(figures, pngs);
    assert_eq!(
        html.matches("<figure").count(),
        html.matches("<svg").count()
    );
    for id in [
        "background-plain",
        "confusion-plain",
        "window-size",
        "transfer",
        "splits",
    ] {
        assert!(html.contains(&format!("href=\"figures/{id}.png\"")), "{id}");
        let png = fs::read(out.join(format!("figures/{id}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
    assert!(!html.contains("<script") && !html.contains(" src=") && !html.contains("<link"));
    // Folders without a manifest have no column to hold out; the report says what that means.
    assert_eq!(json["hold_out_columns"], serde_json::json!([]));
    assert!(html.contains("no manifest column to hold out"));
    assert!(html.contains("Table IV") && html.contains("87.5%"));
    fs::remove_dir_all(&dir).unwrap();
}

/// The dataset of [`write_dataset`] with a lab-style `manifest.csv`: condition, group and a
/// `wan_profile` column (`lan` for traces 0–2, `mobile` for 3–4).
fn write_manifest(root: &Path) {
    let mut csv = String::from("path,label,condition,group,wan_profile\n");
    for cond in ["plain", "ipsec"] {
        for class in ["voip", "bulk", "web"] {
            for t in 0..5u64 {
                let profile = if t < 3 { "lan" } else { "mobile" };
                csv.push_str(&format!(
                    "{cond}/{class}/{class}-{t}.trace,{class},{cond},{cond}-{class}-{t},{profile}\n"
                ));
            }
        }
    }
    for b in 0..2 {
        csv.push_str(&format!(
            "plain/background/bg-{b}.trace,background,plain,bg-{b},lan\n"
        ));
    }
    for m in 0..3 {
        csv.push_str(&format!(
            "plain/multi/bulk+voip/m-{m}.trace,bulk+voip,plain,m-{m},mobile\n"
        ));
    }
    fs::write(root.join("manifest.csv"), csv).unwrap();
}

#[test]
fn experiment_report_leads_with_the_held_out_profiles() {
    let dir = temp_dir("holdout");
    let root = dir.join("data");
    write_dataset(&root);
    write_manifest(&root);
    let out = dir.join("report");
    let o = quick_experiment(root.to_str().unwrap(), out.to_str().unwrap(), &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The terminal shows the held-out table first, then the per-condition tables.
    assert!(
        stdout.starts_with(
            "== what to expect on a network tapir has not trained on: hold out each wan_profile =="
        ),
        "{stdout}"
    );
    let held = stdout.find("held out").unwrap();
    assert!(held < stdout.find("== plain:").unwrap());
    assert!(stdout.contains("expect the held-out figure"), "{stdout}");
    assert!(stdout.contains("paired, plain: combined rf − size-iat rf"));

    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["hold_out_columns"], serde_json::json!(["wan_profile"]));
    for c in json["conditions"].as_array().unwrap() {
        let h = &c["hold_out"][0];
        assert_eq!(h["column"], "wan_profile");
        let values = h["values"].as_array().unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(values[0]["value"], "lan");
        // 3 of 5 traces per class are lan: 9 traces, 2 × 3 mobile = 6; every trace tested once.
        assert_eq!(values[0]["traces"], 9);
        assert_eq!(values[1]["traces"], 6);
        let cells = h["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 9);
        for cell in cells {
            let m = cell["mean"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&m), "{cell}");
            assert_eq!(cell["per_value"].as_array().unwrap().len(), 2);
        }
        assert_eq!(c["comparisons"].as_array().unwrap().len(), 2);
    }

    // The report's first table is the held-out one, with the within-lab split and the paper
    // beside it, and the figure to expect said in words.
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    let first = html.find("<caption>").unwrap();
    assert!(
        html[first..].starts_with("<caption>Accuracy with each wan_profile held out, beside"),
        "{}",
        &html[first..first + 120]
    );
    let header = &html[first..html[first..].find("</tr>").unwrap() + first];
    for col in ["trace split (within lab)", "window split (paper", "paper"] {
        assert!(header.contains(col), "{col} in {header}");
    }
    assert!(html.find("expect the held-out figure").unwrap() < first);
    assert!(html.contains("href=\"figures/hold-out-wan_profile.png\""));
    assert!(out.join("figures/hold-out-wan_profile.png").exists());

    // A column no trace has is an error naming it.
    let o = tapir(&[
        "experiment",
        root.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--hold-out",
        "program",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no trace has a program column"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn experiment_json_single_condition_and_errors() {
    let dir = temp_dir("one");
    let root = dir.join("data");
    write_dataset(&root);
    // A folder of label folders is one condition, named after the folder.
    let ipsec = root.join("ipsec");
    let out = dir.join("r");
    let o = quick_experiment(ipsec.to_str().unwrap(), out.to_str().unwrap(), &["--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["conditions"][0]["condition"], "ipsec");
    assert!(json["transfer"].is_null());
    let skipped = json["skipped"].to_string();
    assert!(
        skipped.contains("transfer") && skipped.contains("background"),
        "{skipped}"
    );

    // Usage errors exit 2, a missing dataset 1.
    assert_eq!(
        tapir(&["experiment", "--trees", "0"]).status.code(),
        Some(2)
    );
    assert_eq!(
        tapir(&["experiment", "--rates", "-5"]).status.code(),
        Some(2)
    );
    assert_eq!(
        tapir(&["experiment", "--window", "1"]).status.code(),
        Some(2)
    );
    let missing = dir.join("nowhere");
    let o = tapir(&["experiment", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nowhere"));
    // One class only: nothing to learn, an error naming why.
    let lone = dir.join("lone");
    write_trace(&lone.join("voip/a.trace"), &packets("voip", 1, 600, 0));
    let o = tapir(&[
        "experiment",
        lone.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("class"));
    fs::remove_dir_all(&dir).unwrap();
}

/// `--defenses`: the classifier matrix and the metadata attacks, in the text, in
/// `results.json` and as a report section with a frontier plot per attack.
#[test]
fn experiment_defenses_adds_the_matrix_and_its_frontiers_to_the_report() {
    let dir = temp_dir("defenses");
    let root = dir.join("data");
    write_dataset(&root);
    let out = dir.join("report");
    let o = quick_experiment(
        root.to_str().unwrap(),
        out.to_str().unwrap(),
        &[
            "--defenses=plain",
            "--defense-trees",
            "5",
            "--defense-trials",
            "1",
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("metadata attacks against defences (1 trials per row"));
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["defenses"][0]["condition"], "plain");
    let rows = json["defense_attacks"]["rows"].as_array().unwrap();
    for attack in ["volume", "sequence", "watch"] {
        let mine: Vec<_> = rows.iter().filter(|r| r["attack"] == attack).collect();
        assert!(mine.len() >= 4, "{attack}: {mine:?}");
        // Undefended, every metadata attack finds what was planted.
        assert_eq!(mine[0]["spec"], "none");
        assert_eq!(mine[0]["naive"].as_f64(), Some(1.0), "{attack}");
    }
    let cv = rows
        .iter()
        .find(|r| r["attack"] == "volume" && r["spec"].as_str().unwrap().starts_with("constant"))
        .unwrap();
    assert_eq!(
        cv["naive"].as_f64(),
        Some(0.0),
        "constant volume hides the surge: {cv}"
    );
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("Countermeasures and their price"));
    assert!(html.contains("Toward an Efficient Website Fingerprinting Defense"));
    assert!(html.contains("Walkie-Talkie"));
    for id in ["classifier", "volume", "sequence", "watch"] {
        for x in ["bytes", "time"] {
            let png = fs::read(out.join(format!("figures/defense-{id}-{x}.png"))).unwrap();
            assert_eq!(&png[1..4], b"PNG");
            assert!(html.contains(&format!("href=\"figures/defense-{id}-{x}.png\"")));
        }
    }
}

/// The exit-code rule: an unreadable file is reported, the experiment runs on the others and
/// writes its report, and the run ends with exit code 1.
#[test]
fn experiment_with_an_unreadable_file_reports_and_exits_1() {
    let dir = temp_dir("unreadable");
    let root = dir.join("data");
    write_dataset(&root);
    let ipsec = root.join("ipsec");
    fs::write(ipsec.join("web/broken.pcap"), b"\x00\x01 not a capture").unwrap();
    let out = dir.join("r");
    let o = quick_experiment(ipsec.to_str().unwrap(), out.to_str().unwrap(), &["--json"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.pcap"), "{stderr}");
    assert!(stderr.contains("1 input could not be read"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["conditions"][0]["condition"], "ipsec");
    assert!(out.join("index.html").is_file() && out.join("results.json").is_file());
    fs::remove_dir_all(&dir).unwrap();
}

/// The exit-code rule for a file with no label (directly in a condition folder): nothing in it
/// is used, so it is reported by name like an unreadable file, the experiment runs on the
/// others, and the run ends with exit code 1.
#[test]
fn experiment_with_an_unlabelled_file_reports_it_and_exits_1() {
    let dir = temp_dir("unlabelled");
    let root = dir.join("data");
    write_dataset(&root);
    let ipsec = root.join("ipsec");
    fs::copy(ipsec.join("web/web-0.trace"), ipsec.join("stray.trace")).unwrap();
    let out = dir.join("r");
    let o = quick_experiment(ipsec.to_str().unwrap(), out.to_str().unwrap(), &["--json"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stray.trace: no label") && stderr.contains("label folder"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 input could not be read or used"),
        "{stderr}"
    );
    assert!(out.join("index.html").is_file() && out.join("results.json").is_file());
    fs::remove_dir_all(&dir).unwrap();
}

/// The limit on windows held: an experiment whose traces, cut at the smallest window size,
/// give more windows than `--max-windows` is refused before it runs (exit 1, no report).
#[test]
fn experiment_over_the_window_limit_is_refused_before_it_runs() {
    let dir = temp_dir("max-windows");
    let root = dir.join("data");
    write_dataset(&root);
    let out = dir.join("r");
    let o = quick_experiment(
        root.to_str().unwrap(),
        out.to_str().unwrap(),
        &["--max-windows", "100"],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    // 35 traces of 1100 to 1500 packets (more where large packets are split at the MTU), cut
    // at the smallest window size, 128 packets: at least 8 windows each.
    let windows: usize = stderr
        .split("the traces hold ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the count of windows: {stderr}"));
    assert!(windows >= 35 * 8, "{stderr}");
    assert!(
        stderr.contains("windows of 128 packets")
            && stderr.contains("more than the 100")
            && stderr.contains("--max-windows"),
        "{stderr}"
    );
    assert!(!out.exists());
    fs::remove_dir_all(&dir).unwrap();
}
