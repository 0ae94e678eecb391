//! Read + decode throughput on an in-memory pcap of about a million Ethernet/IPv4 packets.
//!
//! `cargo bench -p tapir-capture --bench read`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use etherparse::PacketBuilder;
use std::hint::black_box;
use tapir_capture::{pcap_file_header, pcap_record_header, CaptureReader, LinkType};

/// Builds a little-endian microsecond pcap: `count` packets alternating TCP and UDP, sizes
/// cycling from ACK-sized to MTU-sized, each cut to `snaplen` bytes as `tcpdump -s` would.
fn capture(count: usize, snaplen: usize) -> Vec<u8> {
    let sizes = [0usize, 40, 160, 512, 1200, 1460];
    let mut templates = Vec::new();
    for (i, &payload) in sizes.iter().enumerate() {
        let mut frame = Vec::new();
        let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]).ipv4(
            [10, 0, 0, 1],
            [10, 0, 0, 2],
            64,
        );
        if i % 2 == 0 {
            b.tcp(40000, 443, 1, 1000)
                .ack(1)
                .write(&mut frame, &vec![0; payload])
                .unwrap();
        } else {
            b.udp(40000, 4500)
                .write(&mut frame, &vec![1; payload])
                .unwrap();
        }
        templates.push(frame);
    }
    let mut out = pcap_file_header(LinkType::ETHERNET, 262_144).to_vec();
    let mut t_us = 1_700_000_000_000_000u64;
    for i in 0..count {
        let frame = &templates[i % templates.len()];
        let caplen = frame.len().min(snaplen);
        t_us += 137;
        out.extend_from_slice(&pcap_record_header(t_us, caplen as u32, frame.len() as u32));
        out.extend_from_slice(&frame[..caplen]);
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("capture");
    group.sample_size(10);
    for (name, count, snaplen) in [
        ("snap96", 1_000_000usize, 96usize),
        ("full", 250_000, 262_144),
    ] {
        let bytes = capture(count, snaplen);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function(format!("read/{name}"), |b| {
            b.iter(|| {
                let mut reader = CaptureReader::new(black_box(&bytes[..])).unwrap();
                let mut total = 0u64;
                while let Some(p) = reader.next_packet() {
                    total += u64::from(p.unwrap().orig_len);
                }
                total
            })
        });
        group.bench_function(format!("read+decode/{name}"), |b| {
            b.iter(|| {
                let mut reader = CaptureReader::new(black_box(&bytes[..])).unwrap();
                let (mut total, mut ports) = (0u64, 0u64);
                while let Some(p) = reader.next_packet() {
                    let info = p.unwrap().decode().unwrap();
                    total += u64::from(info.ip_len);
                    ports += u64::from(info.dst_port);
                }
                (total, ports)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
