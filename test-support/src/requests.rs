//! The real requests in `data/requests-top500-2019.jsonl.gz`: the queries
//! of the benchmarks, the allocation tests and the profiling example.

use std::io::Read;

use crate::data::data_dir;

/// One real request: what a browser would pass to an adblock engine.
#[derive(Clone)]
pub struct Request {
    /// The requested URL.
    pub url: String,
    /// The URL of the frame that made the request.
    pub frame: String,
    /// The content type (`script`, `image`, ...).
    pub cpt: String,
}

/// Every line of the requests file, in file order; lines that are not
/// JSON objects with a `url` are left out.
pub fn all() -> Vec<Request> {
    let gz = std::fs::File::open(data_dir().join("requests-top500-2019.jsonl.gz"))
        .expect("requests file");
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .expect("gzip");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let field = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_string);
            Some(Request {
                url: field("url")?,
                frame: field("frameUrl").unwrap_or_default(),
                cpt: field("cpt").unwrap_or_else(|| "other".to_string()),
            })
        })
        .collect()
}
