//! The plots decode, have the advertised size, and carry their text.

use tapir_capture::{Direction, Timestamp, TracePacket};
use tapir_features::{EdgeUnit, Extractor, FeatureConfig, FeatureSpace, Hist2D};
use tapir_report::{histogram_png, histogram_svg};

/// A VoIP-like window: small packets both ways every 10 ms with jitter, a few bigger ones.
fn window() -> Vec<TracePacket> {
    let mut t = 0i64;
    (0..1024i64)
        .map(|i| {
            t += 10_000_000 + (i * 7919 % 3000) * 1000;
            let dir = if i % 2 == 0 {
                Direction::Up
            } else {
                Direction::Down
            };
            let size = if i % 50 == 0 {
                1300
            } else {
                150 + (i % 7) as u32 * 10
            };
            TracePacket::new(Timestamp(t), size, dir)
        })
        .collect()
}

fn hists() -> Vec<Hist2D> {
    Extractor::new(&FeatureConfig::default())
        .unwrap()
        .histograms(FeatureSpace::Combined, &window())
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_decodes_with_expected_size_and_colours() {
    let h = &hists()[0];
    let bytes = histogram_png(
        h,
        "Size-IAT, VoIP",
        "packet size (bytes)",
        "inter-arrival time",
    )
    .unwrap();
    let (w, ht, px) = decode(&bytes);
    assert_eq!((w, ht), (800, 580));
    assert_eq!(px.len(), 800 * 580 * 3);
    // The brightest colour of the scale (the fullest bin) is present, as are black text
    // pixels in the title band.
    let has = |rgb: [u8; 3], rows: std::ops::Range<usize>| {
        px.chunks_exact(3)
            .enumerate()
            .any(|(i, p)| rows.contains(&(i / 800)) && p == rgb)
    };
    assert!(has([253, 231, 37], 52..500), "yellow max bin");
    assert!(has([0, 0, 0], 10..34), "title text");
    if let Ok(dir) = std::env::var("TAPIR_PLOT_DIR") {
        std::fs::write(format!("{dir}/size-iat.png"), &bytes).unwrap();
        let b = histogram_png(
            &hists()[1],
            "Burst, VoIP",
            "burst size (bytes)",
            "surge period",
        )
        .unwrap();
        std::fs::write(format!("{dir}/burst.png"), b).unwrap();
        std::fs::write(
            format!("{dir}/size-iat.svg"),
            histogram_svg(
                h,
                "Size-IAT, VoIP",
                "packet size (bytes)",
                "inter-arrival time",
            ),
        )
        .unwrap();
    }
}

#[test]
fn title_is_drawn_as_text_pixels() {
    // Same histogram, different titles: only the title band differs.
    let h = &hists()[1];
    let (_, _, a) = decode(&histogram_png(h, "A", "x", "y").unwrap());
    let (_, _, b) = decode(&histogram_png(h, "WWWWWWWW", "x", "y").unwrap());
    let differing_rows: Vec<usize> = a
        .chunks_exact(800 * 3)
        .zip(b.chunks_exact(800 * 3))
        .enumerate()
        .filter(|(_, (ra, rb))| ra != rb)
        .map(|(i, _)| i)
        .collect();
    assert!(!differing_rows.is_empty());
    assert!(
        differing_rows.iter().all(|&r| (14..30).contains(&r)),
        "{differing_rows:?}"
    );
}

#[test]
fn svg_is_well_formed_and_labelled() {
    let h = &hists()[0];
    let svg = histogram_svg(h, "Skype <window> & co", "size", "iat");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("Skype &lt;window&gt; &amp; co"));
    assert!(svg.contains(">-1536<"), "x tick label");
    assert!(svg.contains(">1ms<"), "y tick label");
    // XML-ish: every element opened is closed, tags balance.
    let opens = svg.matches("<text").count();
    assert_eq!(opens, svg.matches("</text>").count());
    let mut depth = 0i32;
    for tag in svg.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap();
        if tag.starts_with('/') {
            depth -= 1;
        } else if !tag.ends_with('/') {
            depth += 1;
        }
        assert!(depth >= 0);
    }
    assert_eq!(depth, 0);
    // One rectangle per non-empty bin at least.
    let nonzero = h.counts.iter().filter(|&&c| c > 0).count();
    assert!(svg.matches("<rect").count() > nonzero);
}

#[test]
fn degenerate_histograms_do_not_panic() {
    let empty = Hist2D {
        name: "x".into(),
        x_edges: vec![],
        y_edges: vec![0.0],
        x_unit: EdgeUnit::Bytes,
        y_unit: EdgeUnit::Seconds,
        counts: vec![],
    };
    let (w, h, _) = decode(&histogram_png(&empty, "", "", "").unwrap());
    assert_eq!((w, h), (800, 580));
    assert!(histogram_svg(&empty, "t", "", "").contains(">t<"));
    // Counts shorter than the edges say, huge counts, non-finite edges.
    let odd = Hist2D {
        name: "x".into(),
        x_edges: vec![f64::NEG_INFINITY, 0.0, f64::NAN],
        y_edges: vec![0.0, 1e300, 1e301],
        x_unit: EdgeUnit::Seconds,
        y_unit: EdgeUnit::Bytes,
        counts: vec![u32::MAX],
    };
    assert!(histogram_png(&odd, "ünïcödé ✓", "x", "y").is_ok());
    assert!(!histogram_svg(&odd, "t", "x", "y").is_empty());
}
