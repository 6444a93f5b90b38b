//! The `indset` command line.
fn main() {}
