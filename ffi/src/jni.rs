//! The native methods of the Java class `indset.Indset` (`java/`), over the
//! same engine as the C functions.
//!
//! A check answers a `long` that the Java side unpacks (no Java object is
//! made per check): bits 0-7 the decision (`IndsetDecision`), 8-15 the
//! flags (`INDSET_FLAG_*`), 16-23 the flow protocol, 24-27 the deciding
//! indicator's kind, 28-31 the audit's, 32-47 `need` (capped at 65535),
//! 48-63 the generation's low 16 bits. Failures become Java exceptions:
//! `java.io.IOException` for a file or bytes that are not a usable set,
//! `IllegalArgumentException` for a bad argument or app configuration,
//! `IllegalStateException` for a text the configuration hides,
//! `RuntimeException` for a panic (a bug).

use std::panic::{AssertUnwindSafe, catch_unwind};

use jni::JNIEnv;
use jni::objects::{JByteArray, JClass, JString};
use jni::sys::{jboolean, jbyteArray, jint, jlong, jstring};

use crate::engine::{self, Answer, Engine, Failure, Field, Want, Which};
use indset::Timestamp;

/// Why a native method returns without a value.
enum Thrown {
    /// Throw this class with this message.
    New(&'static str, String),
    /// A JNI call failed and left its own exception pending.
    Pending,
}

impl From<Failure> for Thrown {
    fn from(f: Failure) -> Thrown {
        let class = match f {
            Failure::Io(_) | Failure::Format(_) => "java/io/IOException",
            Failure::Hidden => "java/lang/IllegalStateException",
            _ => "java/lang/IllegalArgumentException",
        };
        Thrown::New(class, f.message())
    }
}

impl From<jni::errors::Error> for Thrown {
    fn from(e: jni::errors::Error) -> Thrown {
        match e {
            jni::errors::Error::JavaException => Thrown::Pending,
            other => Thrown::New("java/lang/RuntimeException", format!("JNI: {other}")),
        }
    }
}

/// Runs a native method's body: a failure or a panic becomes a Java
/// exception and the method returns `fallback`.
fn run<'l, R>(
    env: &mut JNIEnv<'l>,
    fallback: R,
    body: impl FnOnce(&mut JNIEnv<'l>) -> Result<R, Thrown>,
) -> R {
    let thrown = match catch_unwind(AssertUnwindSafe(|| body(env))) {
        Ok(Ok(value)) => return value,
        Ok(Err(thrown)) => thrown,
        Err(_) => Thrown::New(
            "java/lang/RuntimeException",
            "internal error: indset panicked; please report it".into(),
        ),
    };
    if let Thrown::New(class, message) = thrown {
        // If even throwing fails, the JVM has an exception pending already.
        let _ = env.throw_new(class, message);
    }
    fallback
}

/// The engine behind a handle the Java class holds.
fn engine_at<'a>(handle: jlong) -> Result<&'a Engine, Thrown> {
    let ptr = handle as usize as *const Engine;
    if ptr.is_null() {
        return Err(Thrown::New(
            "java/lang/IllegalStateException",
            "the set is closed".into(),
        ));
    }
    // SAFETY: the Java class passes only a handle made by `into_handle`,
    // between its `enter` and `leave`; its `close` marks the set closed
    // (so no call enters after) and waits for every entered call to leave
    // before `nativeClose` frees the handle.
    Ok(unsafe { &*ptr })
}

fn into_handle(set: engine::AnySet) -> jlong {
    Box::into_raw(Box::new(Engine::new(set))) as usize as jlong
}

fn string(env: &mut JNIEnv<'_>, s: &JString<'_>, what: &'static str) -> Result<String, Thrown> {
    if s.is_null() {
        return Err(Failure::Null(what).into());
    }
    Ok(env.get_string(s)?.into())
}

fn byte_array(
    env: &mut JNIEnv<'_>,
    a: &JByteArray<'_>,
    what: &'static str,
) -> Result<Vec<u8>, Thrown> {
    if a.is_null() {
        return Err(Failure::Null(what).into());
    }
    Ok(env.convert_byte_array(a)?)
}

fn want(mode: jint) -> Result<Want, Thrown> {
    Ok(Want::from_u32(u32::try_from(mode).unwrap_or(u32::MAX))?)
}

pub(crate) fn pack(a: Answer) -> jlong {
    let bits = u64::from(a.decision)
        | u64::from(a.flags & 0xFF) << 8
        | u64::from(a.protocol) << 16
        | u64::from(a.indicator_kind & 0xF) << 24
        | u64::from(a.audit_kind & 0xF) << 28
        | u64::from(a.need.min(0xFFFF)) << 32
        | (a.generation & 0xFFFF) << 48;
    bits as jlong
}

fn now(t: jlong) -> Option<Timestamp> {
    (t != jlong::MIN).then_some(Timestamp(t))
}

/// `Indset.nativeOpenPath(String): long`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeOpenPath<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
) -> jlong {
    run(&mut env, 0, |env| {
        let path = string(env, &path, "the path")?;
        Ok(into_handle(engine::open_path(&path)?))
    })
}

/// `Indset.nativeOpenBytes(byte[]): long`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeOpenBytes<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    bytes: JByteArray<'l>,
) -> jlong {
    run(&mut env, 0, |env| {
        let bytes = byte_array(env, &bytes, "the bytes")?;
        Ok(into_handle(engine::open_bytes(&bytes)?))
    })
}

/// `Indset.nativeClose(long)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeClose<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        let ptr = handle as usize as *mut Engine;
        if !ptr.is_null() {
            // SAFETY: made by `into_handle`; the Java class calls this once
            // per handle, after every other call on it has returned and
            // with no new one able to start (see `engine_at`).
            drop(unsafe { Box::from_raw(ptr) });
        }
        Ok(())
    })
}

/// `Indset.nativeCheck(long, String, int, long): long`; `now` is
/// `Long.MIN_VALUE` for the clock.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeCheck<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    query: JString<'l>,
    mode: jint,
    at: jlong,
) -> jlong {
    run(&mut env, 0, |env| {
        let engine = engine_at(handle)?;
        let query = string(env, &query, "the query")?;
        Ok(pack(engine.check(query.as_bytes(), want(mode)?, now(at))))
    })
}

/// `Indset.nativeCheckFlow(long, byte[], int, boolean, int, long): long`:
/// the first `len` bytes of the array, over UDP when `udp`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeCheckFlow<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    bytes: JByteArray<'l>,
    len: jint,
    udp: jboolean,
    mode: jint,
    at: jlong,
) -> jlong {
    run(&mut env, 0, |env| {
        let engine = engine_at(handle)?;
        let bytes = byte_array(env, &bytes, "the flow's bytes")?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let first = bytes.get(..len).ok_or_else(|| {
            Failure::Argument(format!(
                "length {len} is past the array's {} bytes",
                bytes.len()
            ))
        })?;
        let transport = engine::transport(u32::from(udp != 0))?;
        Ok(pack(engine.check_flow(
            first,
            transport,
            want(mode)?,
            now(at),
        )))
    })
}

/// `Indset.nativeDnsBlockAnswer(byte[], boolean, boolean): byte[]`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeDnsBlockAnswer<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    query: JByteArray<'l>,
    udp: jboolean,
    nxdomain: jboolean,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| {
        let query = byte_array(env, &query, "the query")?;
        let transport = engine::transport(u32::from(udp != 0))?;
        // The answer is at most the query + 28 bytes (+ 2 over TCP).
        let mut out = vec![0u8; query.len() + 32];
        let mut need = 0;
        let n = engine::dns_block_answer(&query, transport, nxdomain != 0, &mut out, &mut need)?;
        Ok(env.byte_array_from_slice(&out[..n])?.into_raw())
    })
}

/// `Indset.nativeSwapPath(long, String): long`, the new generation.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeSwapPath<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    path: JString<'l>,
) -> jlong {
    run(&mut env, 0, |env| {
        let engine = engine_at(handle)?;
        let path = string(env, &path, "the path")?;
        Ok(engine.swap(engine::open_path(&path)?) as jlong)
    })
}

/// `Indset.nativeSwapBytes(long, byte[]): long`, the new generation.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeSwapBytes<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    bytes: JByteArray<'l>,
) -> jlong {
    run(&mut env, 0, |env| {
        let engine = engine_at(handle)?;
        let bytes = byte_array(env, &bytes, "the bytes")?;
        Ok(engine.swap(engine::open_bytes(&bytes)?) as jlong)
    })
}

/// `Indset.nativeSetConfigJson(long, String)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeSetConfigJson<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    json: JString<'l>,
) {
    run(&mut env, (), |env| {
        let engine = engine_at(handle)?;
        let json = string(env, &json, "the app configuration")?;
        Ok(engine.set_config_json(&json)?)
    })
}

/// `Indset.nativeConfig(long): int`: bit 0 `WebProtection`, bit 1
/// `issupervised`, bit 2 `DefenderExcludeURLInReport`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeConfig<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jint {
    run(&mut env, 0, |_| {
        let c = engine_at(handle)?.config();
        Ok(jint::from(c.web_protection)
            | jint::from(c.supervised) << 1
            | jint::from(c.exclude_url_in_report) << 2)
    })
}

/// `Indset.nativeExplain(long, String, int, long): String`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeExplain<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    query: JString<'l>,
    mode: jint,
    at: jlong,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| {
        let engine = engine_at(handle)?;
        let query = string(env, &query, "the query")?;
        let text = engine.explain(query.as_bytes(), want(mode)?, now(at));
        Ok(env.new_string(text)?.into_raw())
    })
}

/// `Indset.nativeIndicatorText(long, String, int, long, int, int): String`,
/// null when no such indicator matches.
#[unsafe(no_mangle)]
pub extern "system" fn Java_indset_Indset_nativeIndicatorText<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    query: JString<'l>,
    mode: jint,
    at: jlong,
    which: jint,
    field: jint,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| {
        let engine = engine_at(handle)?;
        let query = string(env, &query, "the query")?;
        let which = match which {
            0 => Which::Decider,
            1 => Which::Audit,
            _ => return Err(Failure::Argument(format!("unknown `which` {which}")).into()),
        };
        let field = match field {
            0 => Field::Id,
            1 => Field::Title,
            2 => Field::Value,
            3 => Field::Category,
            _ => return Err(Failure::Argument(format!("unknown field {field}")).into()),
        };
        match engine.indicator_text(query.as_bytes(), want(mode)?, now(at), which, field) {
            Ok(text) => Ok(env.new_string(text)?.into_raw()),
            Err(Failure::NotFound(_)) => Ok(std::ptr::null_mut()),
            Err(other) => Err(other.into()),
        }
    })
}
