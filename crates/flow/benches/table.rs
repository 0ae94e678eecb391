//! FlowTable throughput: packets per second on one core, the figure issue 5 asks for
//! (≥ 3 M packets/s). Packets are decoded `IpInfo`s made up front, so only the table is timed:
//! 20,000 concurrent flows (TCP and UDP, IPv4), 1 µs apart, with FIN closes, idle timeouts and
//! sweeps happening as in a capture.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use tapir_capture::{Fragment, IpInfo, Timestamp};
use tapir_flow::{FlowTable, FlowTableConfig};

fn packets(n: usize, flows: u32) -> Vec<(Timestamp, IpInfo)> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = (x % flows as u64) as u32;
            let up = x & 0x100 != 0;
            let client = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (f >> 4)));
            let server = IpAddr::V4(Ipv4Addr::from(0xc633_6400 | (f & 0xff)));
            let cport = 20_000 + (f % 40_000) as u16;
            let tcp = f % 3 != 0;
            let (src, dst, sp, dp) = if up {
                (client, server, cport, 443)
            } else {
                (server, client, 443, cport)
            };
            let flags = if !tcp {
                0
            } else if x % 997 == 0 {
                0x11
            } else {
                0x10
            };
            let len = 40 + (x >> 20) as u32 % 1460;
            let ip = IpInfo {
                src,
                dst,
                proto: if tcp { 6 } else { 17 },
                ip_len: len,
                tos: 0,
                ttl: 64,
                src_port: sp,
                dst_port: dp,
                tcp_flags: flags,
                payload_len: len - 28,
                payload_offset: 28,
                spi: None,
                fragment: Fragment::None,
            };
            (Timestamp(1_700_000_000_000_000_000 + i as i64 * 1000), ip)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pk = packets(1_000_000, 20_000);
    let mut g = c.benchmark_group("flow_table");
    g.throughput(Throughput::Elements(pk.len() as u64));
    g.sample_size(10);
    g.bench_function("push_1M_packets_20k_flows", |b| {
        b.iter(|| {
            let mut t = FlowTable::new(FlowTableConfig::default()).unwrap();
            let mut n = 0usize;
            for (ts, ip) in &pk {
                t.push(*ts, ip);
                n += t.take_ended().len();
            }
            n += t.finish().len();
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
