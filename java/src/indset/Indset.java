package indset;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An open indicator set: answers, for each connection, whether to block, warn, allow or audit it.
 *
 * <p>Backed by the native library {@code indset_ffi} (the {@code indset-ffi} crate built with
 * its {@code jni} feature). Open a compiled {@code .indset} file with {@link #open(Path)} (it is
 * memory-mapped, not copied) or bytes with {@link #open(byte[])}; check URLs, hosts and flow
 * bytes from any number of threads; {@link #swap(Path)} replaces the set while checks run;
 * {@link #close()} releases it.
 *
 * <p>Thread safety: every method may be called from any thread at once, {@link #close()}
 * included: it waits for the calls running on other threads, and calls after it throw {@link
 * IllegalStateException}.
 */
public final class Indset implements AutoCloseable {
  static {
    System.loadLibrary("indset_ffi");
  }

  /** Check in full mode: the query is a URL, every indicator applies. */
  public static final int MODE_FULL = 0;
  /** Check in domain mode: only the host counts. */
  public static final int MODE_DOMAIN = 1;
  /** Check in the mode the app configuration gives ({@code issupervised}). */
  public static final int MODE_CONFIG = 2;
  /** Read the clock (only when a match has an expiration). */
  public static final long NOW = Long.MIN_VALUE;

  /** What a check asks the device to do. */
  public enum Decision {
    NONE,
    ALLOW,
    WARN,
    BLOCK,
    AUDIT
  }

  /** The flags of a {@link Verdict}, as in {@code indset.h}. */
  public static final int FLAG_INVALID = 1,
      FLAG_HAS_INDICATOR = 2,
      FLAG_HAS_AUDIT = 4,
      FLAG_DISABLED = 8,
      FLAG_ECH = 16,
      FLAG_NEED_MORE = 32,
      FLAG_NO_NAME = 64,
      FLAG_NOT_RECOGNISED = 128;

  /**
   * The answer of a check.
   *
   * @param decision what to do
   * @param flags {@code FLAG_*} bits
   * @param protocol for flows: 0 none, 1 TLS, 2 HTTP, 3 DNS, 4 QUIC
   * @param need with {@link #FLAG_NEED_MORE}: at least this many more bytes
   * @param generation the low 16 bits of the load of the set that answered (1 when opened, one
   *     more per swap)
   */
  public record Verdict(Decision decision, int flags, int protocol, int need, int generation) {
    static Verdict unpack(long bits) {
      return new Verdict(
          Decision.values()[(int) (bits & 0xFF)],
          (int) ((bits >>> 8) & 0xFF),
          (int) ((bits >>> 16) & 0xFF),
          (int) ((bits >>> 32) & 0xFFFF),
          (int) ((bits >>> 48) & 0xFFFF));
    }

    /** Whether {@code flag} is set. */
    public boolean has(int flag) {
      return (flags & flag) != 0;
    }
  }

  private final Object lock = new Object();
  private final long handle;
  private volatile boolean closed;
  /** Native calls running on the handle; {@link #close()} waits for them. */
  private final AtomicLong calls = new AtomicLong();

  private Indset(long handle) {
    this.handle = handle;
  }

  /**
   * Opens the {@code .indset} file at {@code path}, memory-mapped and verified.
   *
   * @throws IOException when the file cannot be read or is not a valid set (the message says
   *     which)
   */
  public static Indset open(Path path) throws IOException {
    return new Indset(nativeOpenPath(path.toString()));
  }

  /**
   * Opens a set over a copy of {@code bytes}, verified.
   *
   * @throws IOException when the bytes are not a valid set
   */
  public static Indset open(byte[] bytes) throws IOException {
    return new Indset(nativeOpenBytes(bytes));
  }

  /** Starts a native call: the handle, which stays valid until {@link #leave()}. */
  private long enter() {
    calls.incrementAndGet();
    if (closed) {
      calls.decrementAndGet();
      throw new IllegalStateException("the set is closed");
    }
    return handle;
  }

  private void leave() {
    calls.decrementAndGet();
  }

  /** Checks a URL in the mode the app configuration gives. */
  public Verdict checkUrl(String url) {
    long h = enter();
    try {
      return Verdict.unpack(nativeCheck(h, url, MODE_CONFIG, NOW));
    } finally {
      leave();
    }
  }

  /** Checks a host name (a port or a whole URL is reduced to the host) in domain mode. */
  public Verdict checkHost(String host) {
    long h = enter();
    try {
      return Verdict.unpack(nativeCheck(h, host, MODE_DOMAIN, NOW));
    } finally {
      leave();
    }
  }

  /** Checks {@code query} in {@code mode} at {@code now} (seconds since the epoch, or NOW). */
  public Verdict check(String query, int mode, long now) {
    long h = enter();
    try {
      return Verdict.unpack(nativeCheck(h, query, mode, now));
    } finally {
      leave();
    }
  }

  /**
   * Checks a flow from the first {@code len} bytes of {@code firstBytes}: a TLS ClientHello's
   * server name, an HTTP/1.x request's Host (its URL when supervised), a DNS query's name, a QUIC
   * Initial's server name. See {@link #FLAG_NEED_MORE}, {@link #FLAG_NO_NAME}, {@link
   * #FLAG_NOT_RECOGNISED} and {@link #FLAG_ECH} for the answers without a name.
   */
  public Verdict checkFlow(byte[] firstBytes, int len, boolean udp) {
    long h = enter();
    try {
      return Verdict.unpack(nativeCheckFlow(h, firstBytes, len, udp, MODE_CONFIG, NOW));
    } finally {
      leave();
    }
  }

  /** {@link #checkFlow(byte[], int, boolean)} over the whole array. */
  public Verdict checkFlow(byte[] firstBytes, boolean udp) {
    return checkFlow(firstBytes, firstBytes.length, udp);
  }

  /**
   * The DNS response that blocks {@code query} (same id and question): NXDOMAIN, or {@code
   * 0.0.0.0} / {@code ::} for A / AAAA questions when {@code nxdomain} is false.
   *
   * @throws IllegalArgumentException when the bytes are not a DNS query with one question
   */
  public static byte[] dnsBlockAnswer(byte[] query, boolean udp, boolean nxdomain) {
    return nativeDnsBlockAnswer(query, udp, nxdomain);
  }

  /**
   * Replaces the set with the file at {@code path}; checks running finish on the old set.
   *
   * @return the new set's generation
   * @throws IOException when the file is not a usable set (the current set stays)
   */
  public long swap(Path path) throws IOException {
    long h = enter();
    try {
      return nativeSwapPath(h, path.toString());
    } finally {
      leave();
    }
  }

  /** Like {@link #swap(Path)} over a copy of {@code bytes}. */
  public long swap(byte[] bytes) throws IOException {
    long h = enter();
    try {
      return nativeSwapBytes(h, bytes);
    } finally {
      leave();
    }
  }

  /**
   * Sets the app configuration from the MDM's JSON ({@code WebProtection}, {@code issupervised},
   * {@code DefenderExcludeURLInReport}).
   *
   * @throws IllegalArgumentException when the JSON is not usable (the configuration stays)
   */
  public void setConfig(String json) {
    long h = enter();
    try {
      nativeSetConfigJson(h, json);
    } finally {
      leave();
    }
  }

  /** Whether web protection is on (the {@code WebProtection} setting). */
  public boolean webProtection() {
    long h = enter();
    try {
      return (nativeConfig(h) & 1) != 0;
    } finally {
      leave();
    }
  }

  /** Whether the device is supervised (full mode for {@link #checkUrl}). */
  public boolean supervised() {
    long h = enter();
    try {
      return (nativeConfig(h) & 2) != 0;
    } finally {
      leave();
    }
  }

  /** Every indicator matching {@code query} and why the winner won, as text. */
  public String explain(String query, int mode, long now) {
    long h = enter();
    try {
      return nativeExplain(h, query, mode, now);
    } finally {
      leave();
    }
  }

  /** The id of the indicator that decides {@code query}, or null when none does. */
  public String indicatorId(String query, int mode, long now) {
    long h = enter();
    try {
      return nativeIndicatorText(h, query, mode, now, 0, 0);
    } finally {
      leave();
    }
  }

  /** The title of the indicator that decides {@code query}, or null when none does. */
  public String indicatorTitle(String query, int mode, long now) {
    long h = enter();
    try {
      return nativeIndicatorText(h, query, mode, now, 0, 1);
    } finally {
      leave();
    }
  }

  /**
   * Releases the set, once the calls running on it (on other threads) have returned; calls that
   * start afterwards throw {@link IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      while (calls.get() != 0) {
        Thread.onSpinWait();
      }
      nativeClose(handle);
    }
  }

  private static native long nativeOpenPath(String path) throws IOException;

  private static native long nativeOpenBytes(byte[] bytes) throws IOException;

  private static native void nativeClose(long handle);

  private static native long nativeCheck(long handle, String query, int mode, long now);

  private static native long nativeCheckFlow(
      long handle, byte[] bytes, int len, boolean udp, int mode, long now);

  private static native byte[] nativeDnsBlockAnswer(byte[] query, boolean udp, boolean nxdomain);

  private static native long nativeSwapPath(long handle, String path) throws IOException;

  private static native long nativeSwapBytes(long handle, byte[] bytes) throws IOException;

  private static native void nativeSetConfigJson(long handle, String json);

  private static native int nativeConfig(long handle);

  private static native String nativeExplain(long handle, String query, int mode, long now);

  private static native String nativeIndicatorText(
      long handle, String query, int mode, long now, int which, int field);
}
