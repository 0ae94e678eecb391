//! Any text as a watchlist or site map: parsing reports the line, never panics; what parses can
//! be looked up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tapir_analysis::PatternSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match PatternSet::parse(text, "fuzz.txt") {
        Ok(set) => {
            let _ = set.lookup("10.1.2.3", Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))));
            let _ = set.lookup("2001:db8::1", Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
            let _ = set.lookup("alice@mail.example.org", None);
        }
        Err(e) => assert!(e.to_string().contains("fuzz.txt"), "{e}"),
    }
});
