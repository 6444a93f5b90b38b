//! A C ABI over `indset`'s lookups, for a tunnel engine written in Swift,
//! Objective-C, C or (through `jni.rs`, feature `jni`) Java.
//!
//! The header `include/indset.h` is generated from this file by cbindgen
//! (`tests/header.rs` regenerates it and fails when the committed one
//! differs). The rules every function follows:
//!
//! - An opaque handle, [`IndsetHandle`], made by `indset_open_path` or
//!   `indset_open_bytes` and released only by `indset_close`. It is the
//!   only thing the library allocates for the caller.
//! - Results are plain data written through caller pointers
//!   ([`IndsetVerdict`], [`IndsetStats`], [`IndsetConfig`]); texts are
//!   copied into caller-owned buffers, NUL-terminated, with the length the
//!   text needs (NUL included) returned in `needed`, so a caller can ask
//!   with a zero-length buffer first.
//! - Every function that can fail returns an [`IndsetStatus`]; the
//!   message of the last failure on the calling thread is
//!   `indset_last_error`'s.
//! - No panic crosses the boundary: every entry runs under
//!   `catch_unwind` and answers `INDSET_STATUS_PANIC`. Null pointers,
//!   lengths past `isize::MAX`, unknown enum values and invalid UTF-8 are
//!   answered with a status, never undefined behaviour on our side.
//! - Checks take no lock and, once a thread has made its first check,
//!   allocate nothing (`tests/alloc.rs` counts).
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::cell::RefCell;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use indset::{AppConfig, Timestamp};

mod engine;
#[cfg(feature = "jni")]
mod jni;

use crate::engine::{Answer, Engine, Failure, Field, Want, Which};

/// An open set and its app configuration. Opaque: made by
/// `indset_open_path` or `indset_open_bytes`, released by `indset_close`.
///
/// Thread safety: every function except `indset_close` may be called on
/// one handle from any number of threads at once, swaps included.
pub struct IndsetHandle {
    engine: Engine,
}

/// What a call returns: `INDSET_STATUS_OK` or why it failed (the message is
/// `indset_last_error`'s).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was null.
    NullPointer = 1,
    /// A text argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// The file could not be read.
    Io = 3,
    /// The bytes are not a valid indicator set (or were written by another
    /// format version): compile the set again.
    Format = 4,
    /// The app configuration JSON could not be used.
    Config = 5,
    /// The caller's buffer is too small; `needed` holds the length to pass.
    BufferTooSmall = 6,
    /// The query matched no indicator of the kind asked for.
    NotFound = 7,
    /// `DefenderExcludeURLInReport` hides the text asked for.
    Hidden = 8,
    /// An argument is out of range (an unknown mode, a length past
    /// `isize::MAX`).
    InvalidArgument = 9,
    /// The library panicked; this is a bug, and the handle remains usable.
    Panic = 10,
}

/// What a check asks the device to do.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetDecision {
    /// Nothing matched (or the query was unparsable, or web protection is
    /// off).
    None = 0,
    /// The most specific deciding indicator allows the connection.
    Allow = 1,
    /// The most specific deciding indicator warns; the user may bypass.
    Warn = 2,
    /// The most specific deciding indicator blocks.
    Block = 3,
    /// Only audit indicators matched: record the hit, let it through.
    Audit = 4,
}

/// What a query is checked as; the functions take it as a `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetMode {
    /// Full mode: the query is a URL; every indicator applies.
    Full = 0,
    /// Domain mode: only the host counts; URL indicators apply only for
    /// the root path.
    Domain = 1,
    /// As the app configuration says: full mode when `issupervised`,
    /// else domain mode.
    Config = 2,
}

/// The kind of a matched indicator, in [`IndsetVerdict`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetKind {
    /// No indicator.
    NoIndicator = 0,
    /// A `DomainName` indicator.
    Domain = 1,
    /// A `Url` indicator.
    Url = 2,
}

/// Which matched indicator a report function describes; taken as a
/// `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetWhich {
    /// The indicator that decided (allow, warn or block).
    Decider = 0,
    /// The audit indicator reported beside the decision.
    Audit = 1,
}

/// Which text of an indicator `indset_indicator_text` copies; taken as a
/// `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetField {
    /// The id to report: the stored id, else `file:line`.
    Id = 0,
    /// The title (empty when the indicator has none).
    Title = 1,
    /// The canonical value (host, or `host/path?query`). Hidden under
    /// `DefenderExcludeURLInReport`.
    Value = 2,
    /// The category (empty when none).
    Category = 3,
}

/// The transport a flow's bytes came over; the flow functions take it as
/// a `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetTransport {
    /// A TCP stream: TLS, HTTP/1.x, or DNS with its 2-byte length prefix.
    Tcp = 0,
    /// UDP datagrams: DNS, or QUIC Initial packets.
    Udp = 1,
}

/// The protocol a flow check read, in [`IndsetVerdict::protocol`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetProtocol {
    /// None recognised (or not a flow check).
    Unknown = 0,
    /// A TLS ClientHello: the name is its server name (SNI).
    Tls = 1,
    /// An HTTP/1.x request head: its Host, or its URL in full mode.
    Http = 2,
    /// A DNS query: its question's name.
    Dns = 3,
    /// QUIC Initial packets: the server name of the ClientHello inside.
    Quic = 4,
}

/// The blocking answer `indset_dns_block_answer` writes; taken as a
/// `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndsetDnsAnswer {
    /// `NXDOMAIN`: the name does not exist.
    Nxdomain = 0,
    /// `0.0.0.0` for an A question, `::` for AAAA (TTL 60 s), an empty
    /// `NOERROR` answer (NODATA) for other types.
    Unspecified = 1,
}

/// [`IndsetVerdict::flags`]: the query could not be parsed.
pub const INDSET_FLAG_INVALID: u32 = 1;
/// [`IndsetVerdict::flags`]: `indicator` and `indicator_kind` are set.
pub const INDSET_FLAG_HAS_INDICATOR: u32 = 2;
/// [`IndsetVerdict::flags`]: `audit` and `audit_kind` are set.
pub const INDSET_FLAG_HAS_AUDIT: u32 = 4;
/// [`IndsetVerdict::flags`]: `WebProtection` is off; the decision is none.
pub const INDSET_FLAG_DISABLED: u32 = 8;
/// [`IndsetVerdict::flags`] (flows): the TLS ClientHello carries ECH; the
/// decision is on the outer (public) name, the real one is hidden.
pub const INDSET_FLAG_ECH: u32 = 16;
/// [`IndsetVerdict::flags`] (flows): the first bytes are a recognised but
/// incomplete message; `need` says how many more bytes at least.
pub const INDSET_FLAG_NEED_MORE: u32 = 32;
/// [`IndsetVerdict::flags`] (flows): a complete message with no name (TLS
/// without SNI, ...): decide by policy.
pub const INDSET_FLAG_NO_NAME: u32 = 64;
/// [`IndsetVerdict::flags`] (flows): not a protocol the library reads.
pub const INDSET_FLAG_NOT_RECOGNISED: u32 = 128;

/// The answer of a check. Plain data; valid after the call returns
/// `INDSET_STATUS_OK`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndsetVerdict {
    /// What to do.
    pub decision: IndsetDecision,
    /// The kind of `indicator`, `INDSET_KIND_NO_INDICATOR` when none.
    pub indicator_kind: IndsetKind,
    /// The kind of `audit`, `INDSET_KIND_NO_INDICATOR` when none.
    pub audit_kind: IndsetKind,
    /// For flows: the protocol read, an `IndsetProtocol` (0 none, 1 TLS,
    /// 2 HTTP, 3 DNS, 4 QUIC); 0 for URL and host checks.
    pub protocol: u8,
    /// `INDSET_FLAG_*` bits.
    pub flags: u32,
    /// The deciding indicator's index in the set (`INDSET_FLAG_HAS_INDICATOR`).
    pub indicator: u32,
    /// The audit indicator's index in the set (`INDSET_FLAG_HAS_AUDIT`).
    pub audit: u32,
    /// With `INDSET_FLAG_NEED_MORE`: at least this many more bytes.
    pub need: u32,
    /// Which load of the set answered: 1 for the set the handle was opened
    /// with, one more per swap.
    pub generation: u64,
}

/// The app configuration (see `docs/embedding.md`): the three settings an
/// MDM pushes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndsetConfig {
    /// `WebProtection` (default true): false makes every check answer none
    /// with `INDSET_FLAG_DISABLED`.
    pub web_protection: bool,
    /// `issupervised` (default false): `INDSET_MODE_CONFIG` is full mode
    /// when true, domain mode when false.
    pub supervised: bool,
    /// `DefenderExcludeURLInReport` (default false): reports hide URLs,
    /// hosts and indicator values.
    pub exclude_url_in_report: bool,
}

/// Counts of the current set.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndsetStats {
    /// Indicators.
    pub indicators: u64,
    /// `DomainName` indicators.
    pub domains: u64,
    /// `Url` indicators.
    pub urls: u64,
    /// Indicators per action: allow, warn, block, audit.
    pub actions: [u64; 4],
    /// Indicators with an expiration.
    pub expiring: u64,
    /// Indicators with metadata beyond action, severity and line.
    pub with_metadata: u64,
    /// Bytes of the set (mapped from the file, or the copy of the buffer).
    pub total_bytes: u64,
    /// The load of the set these counts are of (see
    /// [`IndsetVerdict::generation`]).
    pub generation: u64,
}

/// Passed as `now` to the `_at` functions: read the system clock (only
/// when a match has an expiration).
pub const INDSET_NOW: i64 = i64::MIN;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn record(failure: &Failure) -> IndsetStatus {
    let status = match failure {
        Failure::Null(_) => IndsetStatus::NullPointer,
        Failure::Utf8(_) => IndsetStatus::InvalidUtf8,
        Failure::Io(_) => IndsetStatus::Io,
        Failure::Format(_) => IndsetStatus::Format,
        Failure::Config(_) => IndsetStatus::Config,
        Failure::TooSmall => IndsetStatus::BufferTooSmall,
        Failure::NotFound(_) => IndsetStatus::NotFound,
        Failure::Hidden => IndsetStatus::Hidden,
        Failure::Argument(_) => IndsetStatus::InvalidArgument,
    };
    set_last_error(failure.message());
    status
}

fn set_last_error(message: String) {
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = message);
}

/// Runs one entry point: a panic becomes `INDSET_STATUS_PANIC`, a failure
/// its status and message.
fn entry(f: impl FnOnce() -> Result<(), Failure>) -> IndsetStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => IndsetStatus::Ok,
        Ok(Err(failure)) => record(&failure),
        Err(_) => {
            set_last_error("internal error: indset panicked; please report it".into());
            IndsetStatus::Panic
        }
    }
}

/// The caller's `ptr`/`len` bytes; null is allowed only with `len` 0.
///
/// # Safety
/// When `len > 0`, `ptr` must point to `len` readable bytes that stay
/// unchanged for the call.
unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &'static str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::Null(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::Argument(format!(
            "{what}: length {len} is past isize::MAX; pass the length of the bytes"
        )));
    }
    // SAFETY: `ptr` is non-null and the caller guarantees `len` readable
    // bytes that do not change during the call; `len` fits an isize.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The caller's `ptr`/`len` text, checked to be UTF-8.
///
/// # Safety
/// As [`bytes`].
unsafe fn text<'a>(ptr: *const c_char, len: usize, what: &'static str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from our caller.
    let b = unsafe { bytes(ptr.cast(), len, what) }?;
    std::str::from_utf8(b).map_err(|_| Failure::Utf8(what))
}

/// A NUL-terminated UTF-8 text.
///
/// # Safety
/// `ptr` must be null or point to a NUL-terminated string.
unsafe fn c_text<'a>(ptr: *const c_char, what: &'static str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::Null(what));
    }
    // SAFETY: non-null, NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str().map_err(|_| Failure::Utf8(what))
}

/// The handle behind `handle`.
///
/// # Safety
/// `handle` must be null or a live handle from `indset_open_*`.
unsafe fn engine_of<'a>(handle: *const IndsetHandle) -> Result<&'a Engine, Failure> {
    // SAFETY: null or a live handle, by the caller's contract.
    unsafe { handle.as_ref() }
        .map(|h| &h.engine)
        .ok_or(Failure::Null("the handle"))
}

/// Writes `value` through `out`.
///
/// # Safety
/// `out` must be null or valid for a write of a `T` (it may be
/// uninitialised).
unsafe fn put<T>(out: *mut T, value: T, what: &'static str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::Null(what));
    }
    // SAFETY: non-null and writable by the caller's contract; `write`
    // neither reads nor drops the old contents.
    unsafe { out.write(value) };
    Ok(())
}

/// Copies `s` and a NUL into `buf` (capacity `cap`) and stores the length
/// needed (NUL included) in `needed` when it is not null.
///
/// # Safety
/// `buf` must be null or valid for `cap` bytes of writing; `needed` null
/// or valid for a write.
unsafe fn copy_out(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> Result<(), Failure> {
    let n = s.len() + 1;
    if !needed.is_null() {
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { needed.write(n) };
    }
    if cap < n {
        return Err(Failure::TooSmall);
    }
    if buf.is_null() {
        return Err(Failure::Null("the buffer"));
    }
    // SAFETY: `buf` holds `cap >= n` writable bytes; `s` is our own memory,
    // so the ranges do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        buf.add(s.len()).write(0);
    }
    Ok(())
}

fn verdict(a: Answer) -> IndsetVerdict {
    let kind = |k: u8| match k {
        1 => IndsetKind::Domain,
        2 => IndsetKind::Url,
        _ => IndsetKind::NoIndicator,
    };
    IndsetVerdict {
        decision: match a.decision {
            1 => IndsetDecision::Allow,
            2 => IndsetDecision::Warn,
            3 => IndsetDecision::Block,
            4 => IndsetDecision::Audit,
            _ => IndsetDecision::None,
        },
        indicator_kind: kind(a.indicator_kind),
        audit_kind: kind(a.audit_kind),
        protocol: a.protocol,
        flags: a.flags,
        indicator: a.indicator,
        audit: a.audit,
        need: a.need,
        generation: a.generation,
    }
}

fn timestamp(now: i64) -> Option<Timestamp> {
    (now != INDSET_NOW).then_some(Timestamp(now))
}

fn new_handle(set: crate::engine::AnySet) -> *mut IndsetHandle {
    Box::into_raw(Box::new(IndsetHandle {
        engine: Engine::new(set),
    }))
}

/// The library's version, a static NUL-terminated string (never freed).
///
/// Thread safety: any thread, any time.
#[unsafe(no_mangle)]
pub extern "C" fn indset_version() -> *const c_char {
    c"0.1.0".as_ptr()
}

/// Copies the message of the last failed call on this thread into `buf`
/// (capacity `cap`, NUL-terminated) and stores the length it needs (NUL
/// included) in `needed` (may be null). An empty message when no call has
/// failed on this thread. Returns `INDSET_STATUS_BUFFER_TOO_SMALL` when
/// `cap` is short (the stored message stays).
///
/// Thread safety: any thread; each thread has its own message.
///
/// # Safety
/// `buf` must be null or valid for `cap` bytes of writing; `needed` null
/// or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_last_error(
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> IndsetStatus {
    match catch_unwind(AssertUnwindSafe(|| {
        LAST_ERROR
            .try_with(|e| {
                let message = e.borrow();
                // SAFETY: forwarded from our caller.
                unsafe { copy_out(&message, buf, cap, needed) }
            })
            // The thread is exiting and its message is gone: an empty one.
            // SAFETY: forwarded from our caller.
            .unwrap_or_else(|_| unsafe { copy_out("", buf, cap, needed) })
    })) {
        Ok(Ok(())) => IndsetStatus::Ok,
        // Not recorded: that would replace the message being read.
        Ok(Err(Failure::TooSmall)) => IndsetStatus::BufferTooSmall,
        Ok(Err(_)) => IndsetStatus::NullPointer,
        Err(_) => IndsetStatus::Panic,
    }
}

/// Opens the `.indset` file at `path` (NUL-terminated UTF-8), memory-mapped
/// (the indicator data stays in the page cache, not on the heap), verified
/// in full, and stores a new handle in `*out`. The app configuration
/// starts at its defaults (web protection on, unsupervised, URLs in
/// reports).
///
/// Fails with `INDSET_STATUS_IO` (unreadable file) or
/// `INDSET_STATUS_FORMAT` (not a valid set); `*out` is then unchanged.
/// The file must not be modified in place while open: write a new file
/// and swap it in.
///
/// Thread safety: any thread.
///
/// # Safety
/// `path` must be null or NUL-terminated; `out` null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_open_path(
    path: *const c_char,
    out: *mut *mut IndsetHandle,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let path = unsafe { c_text(path, "the path") }?;
        if out.is_null() {
            return Err(Failure::Null("the out pointer"));
        }
        let set = crate::engine::open_path(path)?;
        // SAFETY: checked non-null; writable by the caller's contract.
        unsafe { put(out, new_handle(set), "the out pointer") }
    })
}

/// Opens a set over a copy of the `len` bytes at `bytes` (the caller may
/// free them on return), verified in full, and stores a new handle in
/// `*out`. Prefer `indset_open_path`: a mapped file costs no heap.
///
/// Thread safety: any thread.
///
/// # Safety
/// `bytes` must point to `len` readable bytes (or `len` be 0); `out` null
/// or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_open_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut IndsetHandle,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let b = unsafe { self::bytes(bytes, len, "the bytes") }?;
        if out.is_null() {
            return Err(Failure::Null("the out pointer"));
        }
        let set = crate::engine::open_bytes(b)?;
        // SAFETY: checked non-null; writable by the caller's contract.
        unsafe { put(out, new_handle(set), "the out pointer") }
    })
}

/// Releases a handle and its set (unmapping the file). Null is ignored.
///
/// Thread safety: no other call on this handle may run or start,
/// on any thread, once this one starts.
///
/// # Safety
/// `handle` must be null or a handle from `indset_open_*` not yet closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_close(handle: *mut IndsetHandle) {
    if handle.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a live handle made by `Box::into_raw` in `new_handle`,
        // closed once by the caller's contract.
        drop(unsafe { Box::from_raw(handle) });
    }));
}

/// Replaces the handle's set with the `.indset` file at `path`, verified
/// first: on failure the current set stays. Checks running on other
/// threads finish on the set they started with; checks that start after
/// the call returns see the new one. The old set is released on this
/// thread, unless a check still holds it after 100 ms (then the last such
/// check releases it). Stores the new set's generation in `*generation`
/// (may be null).
///
/// Thread safety: any thread, concurrently with checks and other swaps
/// (the last swap to finish wins).
///
/// # Safety
/// `handle` must be a live handle or null; `path` null or NUL-terminated;
/// `generation` null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_swap_path(
    handle: *const IndsetHandle,
    path: *const c_char,
    generation: *mut u64,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        // SAFETY: forwarded from our caller.
        let path = unsafe { c_text(path, "the path") }?;
        let g = engine.swap(crate::engine::open_path(path)?);
        if !generation.is_null() {
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { generation.write(g) };
        }
        Ok(())
    })
}

/// Like `indset_swap_path`, over a copy of the `len` bytes at `bytes`.
///
/// Thread safety: as `indset_swap_path`.
///
/// # Safety
/// `handle` must be a live handle or null; `bytes` valid for `len` bytes
/// (or `len` 0); `generation` null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_swap_bytes(
    handle: *const IndsetHandle,
    bytes: *const u8,
    len: usize,
    generation: *mut u64,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        // SAFETY: forwarded from our caller.
        let b = unsafe { self::bytes(bytes, len, "the bytes") }?;
        let g = engine.swap(crate::engine::open_bytes(b)?);
        if !generation.is_null() {
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { generation.write(g) };
        }
        Ok(())
    })
}

/// Sets the app configuration from the managed app configuration's JSON
/// (`len` bytes of UTF-8; keys `WebProtection`, `issupervised`,
/// `DefenderExcludeURLInReport`, any case; booleans or `"true"`/`"false"`;
/// missing keys take their defaults). On `INDSET_STATUS_CONFIG` the
/// configuration is unchanged and the message says what is wrong.
///
/// Thread safety: any thread; checks that start after it returns use the
/// new configuration.
///
/// # Safety
/// `handle` must be a live handle or null; `json` valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_set_config_json(
    handle: *const IndsetHandle,
    json: *const c_char,
    len: usize,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        // SAFETY: forwarded from our caller.
        let json = unsafe { text(json, len, "the app configuration") }?;
        engine.set_config_json(json)
    })
}

/// Sets the app configuration from its three fields.
///
/// Thread safety: as `indset_set_config_json`.
///
/// # Safety
/// `handle` must be a live handle or null; `config` null or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_set_config(
    handle: *const IndsetHandle,
    config: *const IndsetConfig,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        if config.is_null() {
            return Err(Failure::Null("the configuration"));
        }
        // SAFETY: non-null and readable by the caller's contract.
        // `IndsetConfig` is three one-byte fields with no padding; reading
        // them as bytes rather than `bool`s keeps a byte other than 0 or 1
        // (memory a C caller filled by hand) from being undefined
        // behaviour: any non-zero byte is true.
        let [web_protection, supervised, exclude] =
            unsafe { config.cast::<[u8; 3]>().read_unaligned() };
        engine.set_config(AppConfig {
            web_protection: web_protection != 0,
            supervised: supervised != 0,
            exclude_url_in_report: exclude != 0,
        });
        Ok(())
    })
}

/// Stores the current app configuration in `*out`.
///
/// Thread safety: any thread.
///
/// # Safety
/// `handle` must be a live handle or null; `out` null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_get_config(
    handle: *const IndsetHandle,
    out: *mut IndsetConfig,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        let c = engine.config();
        let value = IndsetConfig {
            web_protection: c.web_protection,
            supervised: c.supervised,
            exclude_url_in_report: c.exclude_url_in_report,
        };
        // SAFETY: forwarded from our caller.
        unsafe { put(out, value, "the out pointer") }
    })
}

/// Checks a URL (`len` bytes of UTF-8) in the mode the app configuration
/// gives (full when `issupervised`, else the URL's host in domain mode),
/// reading the clock only when a match has an expiration. An unparsable
/// URL is `INDSET_STATUS_OK` with `INDSET_FLAG_INVALID` and decision none.
///
/// Thread safety: any thread, concurrently with everything but
/// `indset_close`. No lock; no allocation after the thread's first check.
///
/// # Safety
/// `handle` must be a live handle or null; `url` valid for `len` bytes;
/// `out` null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_check_url(
    handle: *const IndsetHandle,
    url: *const c_char,
    len: usize,
    out: *mut IndsetVerdict,
) -> IndsetStatus {
    // SAFETY: forwarded from our caller.
    unsafe { check(handle, url, len, Want::Config, INDSET_NOW, out) }
}

/// Checks a host name (`len` bytes of UTF-8; a port, or a whole URL, is
/// reduced to the host) in domain mode, whatever the configuration.
///
/// Thread safety: as `indset_check_url`.
///
/// # Safety
/// As `indset_check_url`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_check_host(
    handle: *const IndsetHandle,
    host: *const c_char,
    len: usize,
    out: *mut IndsetVerdict,
) -> IndsetStatus {
    // SAFETY: forwarded from our caller.
    unsafe { check(handle, host, len, Want::Domain, INDSET_NOW, out) }
}

/// Checks `query` (`len` bytes of UTF-8) in `mode` (an `IndsetMode`) at
/// the time `now` (seconds since the Unix epoch; indicators that expired
/// at or before it are ignored), or on the clock when `now` is
/// `INDSET_NOW`. `WebProtection` off answers none with
/// `INDSET_FLAG_DISABLED`, as in every check.
///
/// Thread safety: as `indset_check_url`.
///
/// # Safety
/// As `indset_check_url`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_check_at(
    handle: *const IndsetHandle,
    query: *const c_char,
    len: usize,
    mode: u32,
    now: i64,
    out: *mut IndsetVerdict,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        // SAFETY: forwarded from our caller.
        let query = unsafe { text(query, len, "the query") }?;
        let want = Want::from_u32(mode)?;
        let answer = engine.check(query.as_bytes(), want, timestamp(now));
        // SAFETY: forwarded from our caller.
        unsafe { put(out, verdict(answer), "the out pointer") }
    })
}

/// # Safety
/// As `indset_check_url`.
unsafe fn check(
    handle: *const IndsetHandle,
    query: *const c_char,
    len: usize,
    want: Want,
    now: i64,
    out: *mut IndsetVerdict,
) -> IndsetStatus {
    // SAFETY: forwarded from our caller.
    entry(|| unsafe { check_inner(handle, query, len, want, now, out) })
}

/// # Safety
/// As `indset_check_url`.
unsafe fn check_inner(
    handle: *const IndsetHandle,
    query: *const c_char,
    len: usize,
    want: Want,
    now: i64,
    out: *mut IndsetVerdict,
) -> Result<(), Failure> {
    // SAFETY: forwarded from our caller.
    let engine = unsafe { engine_of(handle) }?;
    // SAFETY: forwarded from our caller.
    let query = unsafe { text(query, len, "the query") }?;
    let answer = engine.check(query.as_bytes(), want, timestamp(now));
    // SAFETY: forwarded from our caller.
    unsafe { put(out, verdict(answer), "the out pointer") }
}

/// Checks a flow from its first bytes (`len` of them; the bytes the
/// client sent first on a new connection, over `transport`, an
/// `IndsetTransport`): a TLS ClientHello's server name, an HTTP/1.x
/// request's Host (or, when the app configuration says `issupervised`, its
/// URL), a DNS query's question, a QUIC Initial's server name. Every name
/// but an HTTP URL is checked as a host (domain mode).
///
/// `INDSET_STATUS_OK` in every case the bytes decide; the flags say what
/// was found: none of `INDSET_FLAG_NEED_MORE` (call again with the first
/// `need` more bytes added; at most 16 KiB are read in all),
/// `INDSET_FLAG_NO_NAME` (a ClientHello without SNI: decide by policy),
/// `INDSET_FLAG_NOT_RECOGNISED` (none of these protocols) when a name was
/// checked; `INDSET_FLAG_ECH` when the ClientHello carries ECH (the
/// decision is on the outer, public name). Reads the clock only when a
/// match has an expiration.
///
/// Thread safety: any thread, concurrently with everything but
/// `indset_close`. No lock; no allocation after the thread's first check.
///
/// # Safety
/// `handle` must be a live handle or null; `bytes` valid for `len` bytes;
/// `out` null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_check_flow(
    handle: *const IndsetHandle,
    bytes: *const u8,
    len: usize,
    transport: u32,
    out: *mut IndsetVerdict,
) -> IndsetStatus {
    // SAFETY: forwarded from our caller.
    unsafe {
        indset_check_flow_at(
            handle,
            bytes,
            len,
            transport,
            IndsetMode::Config as u32,
            INDSET_NOW,
            out,
        )
    }
}

/// Like `indset_check_flow` in `mode` (an `IndsetMode`; only an HTTP URL
/// is affected) at the time `now` (seconds since the Unix epoch, or
/// `INDSET_NOW`).
///
/// Thread safety: as `indset_check_flow`.
///
/// # Safety
/// As `indset_check_flow`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_check_flow_at(
    handle: *const IndsetHandle,
    bytes: *const u8,
    len: usize,
    transport: u32,
    mode: u32,
    now: i64,
    out: *mut IndsetVerdict,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        // SAFETY: forwarded from our caller.
        let first = unsafe { self::bytes(bytes, len, "the flow's bytes") }?;
        let transport = engine::transport(transport)?;
        let want = Want::from_u32(mode)?;
        let answer = engine.check_flow(first, transport, want, timestamp(now));
        // SAFETY: forwarded from our caller.
        unsafe { put(out, verdict(answer), "the out pointer") }
    })
}

/// Writes into `out` (capacity `cap`) the DNS response that blocks
/// `query` (`len` bytes, over `transport`; over TCP with its 2-byte length
/// prefix, and so is the answer): the same id and question, and `answer`
/// (an `IndsetDnsAnswer`), and an EDNS (OPT) record when the query has one
/// (version 0, payload 1232, the query's DNSSEC OK bit). Stores the
/// response's length in `written` (may be null), also when `cap` is too
/// short (`INDSET_STATUS_BUFFER_TOO_SMALL`). The response is at most the
/// query's length + 28 bytes. Bytes that are not a DNS query with one question are
/// `INDSET_STATUS_INVALID_ARGUMENT`. Needs no handle; never allocates on
/// success.
///
/// Thread safety: any thread, any time.
///
/// # Safety
/// `query` valid for `len` bytes; `out` null or valid for `cap` bytes of
/// writing (it must not overlap `query`); `written` null or valid for a
/// write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_dns_block_answer(
    query: *const u8,
    len: usize,
    transport: u32,
    answer: u32,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let query = unsafe { bytes(query, len, "the query") }?;
        let transport = engine::transport(transport)?;
        let nxdomain = match answer {
            0 => true,
            1 => false,
            other => {
                return Err(Failure::Argument(format!(
                    "unknown answer {other}: pass INDSET_DNS_ANSWER_NXDOMAIN (0) or \
                     INDSET_DNS_ANSWER_UNSPECIFIED (1)"
                )));
            }
        };
        let out: &mut [u8] = if cap == 0 {
            &mut []
        } else if out.is_null() {
            return Err(Failure::Null("the output buffer"));
        } else if cap > isize::MAX as usize {
            return Err(Failure::Argument(format!(
                "the output buffer: capacity {cap} is past isize::MAX"
            )));
        } else {
            // SAFETY: non-null, `cap` writable bytes not overlapping
            // `query`, by the caller's contract; `cap` fits an isize.
            unsafe { std::slice::from_raw_parts_mut(out, cap) }
        };
        let mut need = 0;
        let result = engine::dns_block_answer(query, transport, nxdomain, out, &mut need);
        if !written.is_null() {
            // SAFETY: non-null and writable by the caller's contract.
            unsafe { written.write(need) };
        }
        result.map(|_| ())
    })
}

/// Copies a text of the indicator that decides `query` (`which`
/// `INDSET_WHICH_DECIDER`) or is reported as its audit
/// (`INDSET_WHICH_AUDIT`) into `buf`: its id, title, value or category
/// (`field`, an `IndsetField`), NUL-terminated, with the length needed
/// (NUL included) in `needed` (may be null). The query is checked again
/// in `mode` at `now` (as in `indset_check_at`) on the current set.
/// `INDSET_STATUS_NOT_FOUND` when no such indicator matches,
/// `INDSET_STATUS_HIDDEN` for the value under
/// `DefenderExcludeURLInReport`. Allocates; for reports, not per flow.
///
/// Thread safety: any thread, concurrently with everything but
/// `indset_close`.
///
/// # Safety
/// `handle` must be a live handle or null; `query` valid for `len` bytes;
/// `buf` null or valid for `cap` bytes of writing; `needed` null or valid
/// for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_indicator_text(
    handle: *const IndsetHandle,
    query: *const c_char,
    len: usize,
    mode: u32,
    now: i64,
    which: u32,
    field: u32,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        // SAFETY: forwarded from our caller.
        let query = unsafe { text(query, len, "the query") }?;
        let want = Want::from_u32(mode)?;
        let which = match which {
            0 => Which::Decider,
            1 => Which::Audit,
            other => {
                return Err(Failure::Argument(format!(
                    "unknown `which` {other}: pass INDSET_WHICH_DECIDER (0) or INDSET_WHICH_AUDIT (1)"
                )));
            }
        };
        let field = match field {
            0 => Field::Id,
            1 => Field::Title,
            2 => Field::Value,
            3 => Field::Category,
            other => {
                return Err(Failure::Argument(format!(
                    "unknown field {other}: pass an INDSET_FIELD_* value (0 to 3)"
                )));
            }
        };
        let s = engine.indicator_text(query.as_bytes(), want, timestamp(now), which, field)?;
        // SAFETY: forwarded from our caller.
        unsafe { copy_out(&s, buf, cap, needed) }
    })
}

/// Copies into `buf` every indicator matching `query` in `mode` at `now`
/// (as in `indset_check_at`), most specific first, with the verdict and
/// why the winner won: lines of UTF-8 text, NUL-terminated, the length
/// needed (NUL included) in `needed` (may be null). Under
/// `DefenderExcludeURLInReport` the query, its canonical form and every
/// value read `hidden`. Allocates; for reports, not per flow.
///
/// Thread safety: any thread, concurrently with everything but
/// `indset_close`.
///
/// # Safety
/// As `indset_indicator_text`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_explain(
    handle: *const IndsetHandle,
    query: *const c_char,
    len: usize,
    mode: u32,
    now: i64,
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        // SAFETY: forwarded from our caller.
        let query = unsafe { text(query, len, "the query") }?;
        let want = Want::from_u32(mode)?;
        let s = engine.explain(query.as_bytes(), want, timestamp(now));
        // SAFETY: forwarded from our caller.
        unsafe { copy_out(&s, buf, cap, needed) }
    })
}

/// Stores the counts of the current set in `*out`. O(size of the set's
/// records) at most; for reports.
///
/// Thread safety: any thread, concurrently with everything but
/// `indset_close`.
///
/// # Safety
/// `handle` must be a live handle or null; `out` null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn indset_stats(
    handle: *const IndsetHandle,
    out: *mut IndsetStats,
) -> IndsetStatus {
    entry(|| {
        // SAFETY: forwarded from our caller.
        let engine = unsafe { engine_of(handle) }?;
        let c = engine.counts();
        let value = IndsetStats {
            indicators: c.indicators,
            domains: c.domains,
            urls: c.urls,
            actions: c.actions,
            expiring: c.expiring,
            with_metadata: c.with_metadata,
            total_bytes: c.total_bytes,
            generation: c.generation,
        };
        // SAFETY: forwarded from our caller.
        unsafe { put(out, value, "the out pointer") }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> String {
        let mut buf = [0 as c_char; 256];
        let mut needed = 0;
        // SAFETY: `buf` holds 256 bytes; `needed` is writable.
        let s = unsafe { indset_last_error(buf.as_mut_ptr(), buf.len(), &mut needed) };
        assert_eq!(s, IndsetStatus::Ok);
        // SAFETY: NUL-terminated by `indset_last_error`.
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(text.to_bytes().len() + 1, needed);
        text.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_is_a_status_and_a_message() {
        let status = entry(|| panic!("deliberate"));
        assert_eq!(status, IndsetStatus::Panic);
        assert!(message().contains("indset panicked"), "{}", message());
    }

    #[test]
    fn a_failure_is_its_status_and_message() {
        assert_eq!(
            entry(|| Err(Failure::TooSmall)),
            IndsetStatus::BufferTooSmall
        );
        assert!(message().starts_with("the buffer is too small"));
        assert_eq!(entry(|| Ok(())), IndsetStatus::Ok);
        // A success leaves the last failure's message.
        assert!(message().starts_with("the buffer is too small"));
    }

    #[test]
    fn a_short_buffer_gets_the_length() {
        let _ = entry(|| Err(Failure::Null("the path")));
        let mut needed = 0;
        // SAFETY: a zero-length null buffer is never written.
        let s = unsafe { indset_last_error(std::ptr::null_mut(), 0, &mut needed) };
        assert_eq!(s, IndsetStatus::BufferTooSmall);
        assert_eq!(
            needed,
            "the path is a null pointer: pass a valid pointer".len() + 1
        );
    }
}
