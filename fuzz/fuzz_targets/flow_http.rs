//! `flow_http`: `flow::inspect` over TCP on bytes that begin with a method.
//!
//! Properties:
//! 1. no panic;
//! 2. when `httparse` (used directly, as the reference) reads a complete
//!    head, `inspect` gives its method and target, and the host: the
//!    `CONNECT` target, an absolute-form target's authority, or Host; the
//!    URL is Host + target for an origin-form target;
//! 3. a prefix asks for more truthfully (flow_common.rs).
#![no_main]

#[path = "flow_common.rs"]
mod common;

use indset::flow::{self, Detail, Inspection, Scratch, Transport};
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 4] = ["GET ", "CONNECT ", "POST ", "OPTIONS "];

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, rest)) = input.split_first() else {
        return;
    };
    let mut bytes = METHODS[usize::from(knobs & 3)].as_bytes().to_vec();
    bytes.extend_from_slice(rest);
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut req = httparse::Request::new(&mut headers);
    let complete = matches!(req.parse(&bytes), Ok(httparse::Status::Complete(_)));
    let mut scratch = Scratch::new();
    let seen = flow::inspect(&bytes, Transport::Tcp, &mut scratch);
    if complete {
        let (method, target) = (req.method.unwrap(), req.path.unwrap());
        let host = req
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("host"))
            .map(|h| h.value.trim_ascii());
        match seen {
            Inspection::Name {
                host: got,
                url,
                detail:
                    Detail::Http {
                        method: m,
                        target: t,
                    },
                ..
            } => {
                assert_eq!((m, t), (method.as_bytes(), target.as_bytes()));
                if method == "CONNECT" {
                    assert_eq!(got, target.as_bytes());
                } else if target.starts_with('/') {
                    let host = host.unwrap();
                    assert_eq!(got, host);
                    let mut want = b"http://".to_vec();
                    want.extend_from_slice(host);
                    want.extend_from_slice(target.as_bytes());
                    assert_eq!(url, Some(&want[..]));
                } else if target.split_once("://").is_some_and(|(scheme, _)| {
                    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                        && scheme
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                }) {
                    assert_eq!(url, Some(target.as_bytes()));
                    assert!(target.as_bytes().windows(got.len()).any(|w| w == got));
                } else {
                    assert_eq!(Some(got), host);
                }
            }
            Inspection::NoName { .. } => {
                // No Host, or an absolute-form target without a host.
                assert!(
                    method != "CONNECT"
                        && (host.is_none_or(|h| h.is_empty()) || target.contains("://")),
                    "{seen:?}"
                );
            }
            Inspection::NotRecognised => {}
            other => panic!("httparse reads a whole head, inspect says {other:?}"),
        }
    }
    common::check_prefixes(&bytes, Transport::Tcp, usize::from(knobs) * 2);
});
