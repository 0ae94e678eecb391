//! Any bytes as an mbox: the reader and the header parser report broken messages, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapir_mail::{to_item_with, Mbox, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        max_message: 1 << 20,
        max_headers: 64,
    };
    let mut mbox = Mbox::new(data, "fuzz.mbox", &opts);
    let mut n = 0usize;
    while let Ok(Some(next)) = mbox.next_raw() {
        if let Ok(raw) = next {
            let _ = to_item_with(raw, &opts);
        }
        n += 1;
        assert!(n <= data.len() + 1);
    }
});
