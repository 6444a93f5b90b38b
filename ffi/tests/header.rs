//! `include/indset.h` is what cbindgen makes of `src/lib.rs` today.
//!
//! Run with `INDSET_BLESS=1` to write the header instead of comparing.

use std::path::Path;

#[test]
fn the_committed_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads src/lib.rs")
        .write(&mut generated);
    let path = dir.join("include/indset.h");
    if std::env::var_os("INDSET_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/indset.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ffi/include/indset.h is out of date with ffi/src/lib.rs: regenerate it with \
         `INDSET_BLESS=1 cargo test -p indset-ffi --test header` and commit it"
    );
}
