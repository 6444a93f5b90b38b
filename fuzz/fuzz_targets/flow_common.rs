//! What every `flow_*` target checks of `flow::inspect` besides its
//! reference parser: a message cut short asks for more, truthfully.

use indset::flow::{self, Inspection, MAX_FIRST_BYTES, Scratch, Transport};

/// The answer for `bytes`, as text (it borrows a scratch).
pub fn answer(bytes: &[u8], transport: Transport) -> String {
    let mut scratch = Scratch::new();
    format!("{:?}", flow::inspect(bytes, transport, &mut scratch))
}

/// Cut `bytes` at `cut`: the prefix either answers as the whole does (the
/// message ended before the cut) or asks for `need` more bytes, never past
/// the bound; and feeding it exactly what it asks for, again and again,
/// ends with the whole's answer whenever the whole is a complete answer.
pub fn check_prefixes(bytes: &[u8], transport: Transport, cut: usize) {
    let whole = answer(bytes, transport);
    let whole_needs_more = whole.starts_with("NeedMore");
    let mut at = cut.min(bytes.len());
    if at == 0 {
        return;
    }
    loop {
        let mut scratch = Scratch::new();
        match flow::inspect(&bytes[..at], transport, &mut scratch) {
            Inspection::NeedMore { need, .. } => {
                assert!(need >= 1, "need 0 at {at}");
                assert!(
                    at + need <= MAX_FIRST_BYTES,
                    "need {need} at {at} passes the bound"
                );
                if at + need > bytes.len() {
                    // The whole must not claim an answer the prefix says
                    // it cannot have yet.
                    assert!(
                        whole_needs_more || whole == "NotRecognised",
                        "at {at} need {need} past {} but the whole is {whole}",
                        bytes.len()
                    );
                    return;
                }
                at += need;
            }
            done => {
                let done = format!("{done:?}");
                if whole.starts_with("Name") || whole.starts_with("NoName") {
                    assert_eq!(done, whole, "fed from {cut}, at {at}");
                }
                return;
            }
        }
    }
}
