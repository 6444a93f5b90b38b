//! How a tunnel engine embeds indset: compile (or receive) a set, open it
//! by memory map, answer lookups, and swap in a new set while lookups run.
//!
//! Run it with `cargo run --example embed`.

use std::error::Error;
use std::sync::Arc;
use std::thread;

use indset::{
    AppConfig, Compiler, Decision, Format, IndicatorSet, Mode, Options, SharedSet, Timestamp,
};

fn main() -> Result<(), Box<dyn Error>> {
    let now = Timestamp(1_780_000_000);
    let dir = std::env::temp_dir().join(format!("indset-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // 1. The portal side: compile indicators into a file. The report says
    //    what became of every row.
    let path = dir.join("v1.indset");
    let mut compiler = Compiler::new(Options::at(now));
    compiler.add_reader(
        "v1.txt",
        "block example.com\nallow partner.example.com\n".as_bytes(),
        Format::Text,
    )?;
    let compiled = compiler.finish();
    println!("v1: {}", compiled.report);
    std::fs::write(&path, &compiled.bytes)?;

    // 2. The device side: the mode from the managed app configuration (an
    //    unsupervised device sees host names only), then map and verify the
    //    file once, share it between the packet threads.
    let mode = AppConfig::from_json(r#"{"issupervised": "false"}"#)?.mode();
    assert_eq!(mode, Mode::Domain);
    let shared = Arc::new(SharedSet::new(IndicatorSet::open(&path)?));

    let worker = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            // Per flow: load the current set (no lock) and ask.
            let set = shared.load();
            let v = set.check_at("https://www.example.com/", Mode::Full, now);
            let p = set.check_at("partner.example.com:443", mode, now);
            (v.decision, p.decision)
        })
    };
    let (www, partner) = worker.join().expect("worker");
    println!(
        "www.example.com: {}, partner.example.com: {}",
        www.as_str(),
        partner.as_str()
    );
    assert_eq!((www, partner), (Decision::Block, Decision::Allow));

    // 3. An update arrives: write the new file beside the old one, open it,
    //    swap it in. Lookups in flight finish on the old set, which this
    //    thread then unmaps (not a lookup thread).
    let path2 = dir.join("v2.indset");
    let mut compiler = Compiler::new(Options::at(now));
    compiler.add_reader("v2.txt", "warn example.com\n".as_bytes(), Format::Text)?;
    std::fs::write(&path2, compiler.finish().bytes)?;
    let patience = std::time::Duration::from_millis(100);
    if let Err(old) = shared.replace(IndicatorSet::open(&path2)?, patience) {
        drop(old); // still held after 100 ms: freed by its last holder
    }

    let now_answer = shared
        .load()
        .check_at("https://example.com/x", Mode::Full, now);
    println!(
        "after the swap, example.com: {}",
        now_answer.decision.as_str()
    );
    assert_eq!(now_answer.decision, Decision::Warn);

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
