//! Throughput of `tapir mail`'s reading path: a generated mbox of realistic messages (a
//! Received chain of three hops, the usual headers, a few hundred bytes to a few kilobytes of
//! body, a quarter of them PGP/MIME) streamed through `Mbox` and parsed to `MailMeta`.
//! The target of the issue is 50,000 messages/s on one core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write;
use tapir_mail::{to_item, Item, Mbox, ReadOptions};

fn message(i: usize, out: &mut String) {
    let users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"];
    let from = users[i % users.len()];
    let to = users[(i * 3 + 1) % users.len()];
    let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
    let _ = write!(
        out,
        "From {from}@example.org Thu Nov 20 {h:02}:{m:02}:{s:02} 2025\n\
Return-Path: <{from}@example.org>\n\
Delivered-To: {to}@example.net\n\
Received: from mx.example.net (mx.example.net [198.51.100.25])\n\tby imap.example.net (Dovecot) with LMTP id {i}\n\tfor <{to}@example.net>; Thu, 20 Nov 2025 {h:02}:{m:02}:{s:02} +0000\n\
Received: from relay.example.org (relay.example.org [203.0.113.7])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby mx.example.net (Postfix) with ESMTPS id 4Dq{i}\n\tfor <{to}@example.net>; Thu, 20 Nov 2025 {h:02}:{m:02}:{s:02} +0000 (UTC)\n\
Received: from [10.0.0.5] (dsl.home.example [192.0.2.200])\n\tby relay.example.org with ESMTPSA id 7J{i}\n\tfor <{to}@example.net>; Thu, 20 Nov 2025 {h:02}:{m:02}:{s:02} +0000\n\
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail;\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; h=From:To:Subject:Date;\n\tb=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR\n\
From: {from} <{from}@example.org>\n\
To: {to} <{to}@example.net>\n\
Cc: team@example.org\n\
Date: Thu, 20 Nov 2025 {h:02}:{m:02}:{s:02} +0000\n\
Subject: Re: status report number {i}\n\
Message-ID: <{i}.{from}@example.org>\n\
In-Reply-To: <{}.{to}@example.net>\n\
User-Agent: Mutt/2.2.12\n\
MIME-Version: 1.0\n",
        i.saturating_sub(1)
    );
    if i % 4 == 0 {
        out.push_str(
            "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\n\n\
--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--b\nContent-Type: application/octet-stream\n\n\
-----BEGIN PGP MESSAGE-----\n\n",
        );
        for _ in 0..(8 + i % 24) {
            out.push_str("hF4DkYWHRk2mvRoSAQdAq1j2m9h9v3gM0Wq5c3Kx9oYkqPq5TtK1K8v5b6d0Zm0w\n");
        }
        out.push_str("-----END PGP MESSAGE-----\n--b--\n\n");
    } else {
        out.push_str("Content-Type: text/plain; charset=utf-8\n\n");
        for l in 0..(5 + i % 40) {
            let _ = writeln!(
                out,
                "Line {l} of the report: numbers went up, and then down again."
            );
        }
        out.push('\n');
    }
}

fn bench(c: &mut Criterion) {
    const N: usize = 20_000;
    let mut mbox = String::new();
    for i in 0..N {
        message(i, &mut mbox);
    }
    let bytes = mbox.into_bytes();
    let mut g = c.benchmark_group("mail");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    let run = || {
        let mut r = Mbox::new(&bytes[..], "bench.mbox", &ReadOptions::default());
        let mut ok = 0usize;
        while let Ok(Some(Ok(raw))) = r.next_raw() {
            if let Item::Message(m) = to_item(raw) {
                ok += m.received.len();
            }
        }
        assert_eq!(ok, 3 * N);
        ok
    };
    g.bench_function("mbox_to_meta", |b| b.iter(run));
    g.finish();
    // Wall-clock figures suffer when other jobs share the cores; the thread's own CPU time
    // does not, so report that too.
    if let Some(t0) = thread_cpu_ns() {
        const PASSES: u64 = 5;
        for _ in 0..PASSES {
            run();
        }
        if let Some(t1) = thread_cpu_ns() {
            let secs = (t1 - t0) as f64 / 1e9;
            eprintln!(
                "mbox of {N} messages, {:.1} MB ({} bytes/message): {:.0} messages/s, {:.0} MB/s of CPU time",
                bytes.len() as f64 / 1e6,
                bytes.len() / N,
                (PASSES as f64 * N as f64) / secs,
                PASSES as f64 * bytes.len() as f64 / 1e6 / secs
            );
        }
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`); `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

criterion_group!(benches, bench);
criterion_main!(benches);
