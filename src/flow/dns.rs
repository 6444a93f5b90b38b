//! DNS queries (RFC 1035): the question of a query over UDP or TCP (with
//! its 2-byte length prefix), and the blocking answer a DNS-level blocker
//! sends back instead of forwarding the query.

use std::fmt;

use super::Transport;

/// A DNS query's id and its (first) question's type and class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Question {
    /// The query id, echoed in the answer.
    pub id: u16,
    /// The question type: 1 = A, 28 = AAAA, 65 = HTTPS, ...
    pub qtype: u16,
    /// The question class, 1 = IN.
    pub qclass: u16,
}

/// What [`write_block_answer`] answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BlockAnswer {
    /// `NXDOMAIN`: the name does not exist.
    #[default]
    NxDomain,
    /// `0.0.0.0` for an A question, `::` for AAAA (TTL 60 s), and an
    /// empty `NOERROR` answer (NODATA) for every other type.
    Unspecified,
}

/// Why [`write_block_answer`] wrote nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DnsError {
    /// The bytes are not a complete DNS query with one question.
    NotAQuery,
    /// `out` is shorter than the answer: give at least `need` bytes.
    BufferTooSmall {
        /// The answer's length.
        need: usize,
    },
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::NotAQuery => f.write_str(
                "not a complete DNS query with one question: pass the query's bytes \
                 (with the 2-byte length prefix over TCP)",
            ),
            DnsError::BufferTooSmall { need } => {
                write!(
                    f,
                    "the output buffer is too small: the answer needs {need} bytes"
                )
            }
        }
    }
}

impl std::error::Error for DnsError {}

/// Writes into `out` the answer that blocks `query`: the same id and
/// question, with the recursion flags copied, and `answer`'s rcode and
/// records. Over [`Transport::Tcp`] the query starts with its 2-byte
/// length prefix and so does the answer. Returns the answer's length.
///
/// The answer is at most the query's length + 28 bytes. Never allocates,
/// never panics; a query that [`inspect`](super::inspect) would not name
/// is [`DnsError::NotAQuery`].
pub fn write_block_answer(
    query: &[u8],
    transport: Transport,
    answer: BlockAnswer,
    out: &mut [u8],
) -> Result<usize, DnsError> {
    // TEMPORARY: written in the next commits.
    let _ = (query, transport, answer, out);
    Err(DnsError::NotAQuery)
}
