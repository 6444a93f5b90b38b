/*
 * Exercises every function of include/indset.h and checks each answer.
 * Run by ffi/c/run.sh (under valgrind): argv[1] is the first set
 * (sets/first.csv compiled), argv[2] the second (sets/second.csv), argv[3]
 * a file that is not a set, argv[4] the flow captures of real clients
 * (tests/fixtures/flow). The expected answers follow the rules of docs/matching.md for
 * the indicators in sets/first.csv and sets/second.csv: a Url indicator beats a DomainName one, a
 * domain covers its subdomains, domain mode sees only hosts, an audit
 * indicator is reported beside the decision and never decides.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indset.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond, ...)                                               \
  do {                                                                 \
    __atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);                  \
    if (!(cond)) {                                                     \
      __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);              \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
      fprintf(stderr, __VA_ARGS__);                                    \
      fprintf(stderr, "\n");                                           \
    }                                                                  \
  } while (0)

static const int64_t NOW = 1780000000; /* 2026-05-28 */

static char *last_error(void) {
  size_t needed = 0;
  IndsetStatus s = indset_last_error(NULL, 0, &needed);
  CHECK(s == INDSET_STATUS_BUFFER_TOO_SMALL || (s == INDSET_STATUS_OK && needed == 1),
        "last_error size query answered %d", (int)s);
  char *buf = malloc(needed);
  s = indset_last_error(buf, needed, &needed);
  CHECK(s == INDSET_STATUS_OK, "last_error copy answered %d", (int)s);
  CHECK(strlen(buf) + 1 == needed, "needed %zu for \"%s\"", needed, buf);
  return buf;
}

static IndsetVerdict check_at(const IndsetHandle *h, const char *q, uint32_t mode) {
  IndsetVerdict v;
  memset(&v, 0xAB, sizeof v);
  IndsetStatus s = indset_check_at(h, q, strlen(q), mode, NOW, &v);
  CHECK(s == INDSET_STATUS_OK, "check_at(%s) answered %d", q, (int)s);
  return v;
}

/* A text of the deciding or audit indicator, malloc'd (NULL on failure). */
static char *text(const IndsetHandle *h, const char *q, uint32_t mode, uint32_t which,
                  uint32_t field, IndsetStatus *status) {
  size_t needed = 0;
  IndsetStatus s = indset_indicator_text(h, q, strlen(q), mode, NOW, which, field, NULL, 0, &needed);
  *status = s;
  if (s != INDSET_STATUS_BUFFER_TOO_SMALL) return NULL;
  char *buf = malloc(needed);
  s = indset_indicator_text(h, q, strlen(q), mode, NOW, which, field, buf, needed, &needed);
  *status = s;
  CHECK(s == INDSET_STATUS_OK, "indicator_text(%s) answered %d", q, (int)s);
  CHECK(strlen(buf) + 1 == needed, "needed %zu for \"%s\"", needed, buf);
  return buf;
}

static void expect_text(const IndsetHandle *h, const char *q, uint32_t mode, uint32_t which,
                        uint32_t field, const char *want) {
  IndsetStatus s;
  char *got = text(h, q, mode, which, field, &s);
  CHECK(got != NULL && strcmp(got, want) == 0, "text(%s, which %u, field %u) = \"%s\", want \"%s\"",
        q, which, field, got ? got : "(null)", want);
  free(got);
}

static char *explain(const IndsetHandle *h, const char *q, uint32_t mode) {
  size_t needed = 0;
  IndsetStatus s = indset_explain(h, q, strlen(q), mode, NOW, NULL, 0, &needed);
  CHECK(s == INDSET_STATUS_BUFFER_TOO_SMALL && needed > 1, "explain size query answered %d", (int)s);
  char *small = malloc(needed - 1);
  s = indset_explain(h, q, strlen(q), mode, NOW, small, needed - 1, &needed);
  CHECK(s == INDSET_STATUS_BUFFER_TOO_SMALL, "explain into a short buffer answered %d", (int)s);
  free(small);
  char *buf = malloc(needed);
  s = indset_explain(h, q, strlen(q), mode, NOW, buf, needed, &needed);
  CHECK(s == INDSET_STATUS_OK, "explain answered %d", (int)s);
  CHECK(strlen(buf) + 1 == needed, "explain needed %zu, wrote %zu", needed, strlen(buf));
  return buf;
}

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  *len = fread(b, 1, (size_t)n, f);
  fclose(f);
  return b;
}

/* ---- the expected verdicts ---------------------------------------------- */

/* One query and its answer in each set (generation parity: odd = first). */
typedef struct {
  const char *query;
  uint32_t mode;
  IndsetDecision first, second;
} Case;

static const Case SWAP_CASES[] = {
    {"bad.example", INDSET_MODE_DOMAIN, INDSET_DECISION_BLOCK, INDSET_DECISION_ALLOW},
    {"https://bad.example/help/x", INDSET_MODE_FULL, INDSET_DECISION_ALLOW, INDSET_DECISION_ALLOW},
    {"https://www.bad.example/help/x", INDSET_MODE_FULL, INDSET_DECISION_BLOCK, INDSET_DECISION_ALLOW},
    {"https://www.bad.example/other", INDSET_MODE_FULL, INDSET_DECISION_BLOCK, INDSET_DECISION_ALLOW},
    {"new.example", INDSET_MODE_DOMAIN, INDSET_DECISION_NONE, INDSET_DECISION_BLOCK},
    {"warn.example:443", INDSET_MODE_DOMAIN, INDSET_DECISION_WARN, INDSET_DECISION_NONE},
    {"example.org", INDSET_MODE_DOMAIN, INDSET_DECISION_NONE, INDSET_DECISION_NONE},
};
#define N_SWAP_CASES (sizeof SWAP_CASES / sizeof SWAP_CASES[0])

typedef struct {
  const IndsetHandle *h;
  int stop;
  uint64_t seen_first, seen_second, max_generation;
  uint64_t done; /* checks so far, read by the swapping thread */
} Worker;

/* Waits until every worker has made `more` checks since the call. */
static void wait_for_checks(Worker *workers, int n, uint64_t more) {
  for (int i = 0; i < n; i++) {
    uint64_t start = __atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE);
    while (__atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE) < start + more) sched_yield();
  }
}

static void *checker(void *arg) {
  Worker *w = arg;
  size_t i = 0;
  while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
    const Case *c = &SWAP_CASES[i++ % N_SWAP_CASES];
    IndsetVerdict v;
    IndsetStatus s = indset_check_at(w->h, c->query, strlen(c->query), c->mode, NOW, &v);
    CHECK(s == INDSET_STATUS_OK, "threaded check answered %d", (int)s);
    IndsetDecision want = (v.generation % 2 == 1) ? c->first : c->second;
    CHECK(v.decision == want, "%s in generation %llu: %d, want %d", c->query,
          (unsigned long long)v.generation, v.decision, want);
    if (v.generation % 2 == 1) w->seen_first++; else w->seen_second++;
    __atomic_add_fetch(&w->done, 1, __ATOMIC_RELEASE);
    if (v.generation > w->max_generation) w->max_generation = v.generation;
  }
  return NULL;
}

/* ---- the flows ------------------------------------------------------------ */

/* A flow check of the fixture `name` (first `len` bytes; 0: all of it). */
static IndsetVerdict flow(const IndsetHandle *h, const char *dir, const char *name, size_t len,
                          uint32_t transport) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t n = 0;
  unsigned char *b = read_file(path, &n);
  IndsetVerdict v;
  memset(&v, 0xAB, sizeof v);
  CHECK(b != NULL && n > 0, "no fixture %s", path);
  if (!b) return v;
  if (len == 0 || len > n) len = n;
  IndsetStatus s = indset_check_flow(h, b, len, transport, &v);
  CHECK(s == INDSET_STATUS_OK, "check_flow(%s) answered %d", name, (int)s);
  free(b);
  return v;
}

static size_t fixture_len(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t n = 0;
  free(read_file(path, &n));
  return n;
}

/* The captures in tests/fixtures/flow (see its README: real clients' first bytes). */
static void flows(const IndsetHandle *h, const char *dir) {
  IndsetVerdict v;
  IndsetConfig full = {true, true, false}, domain = {true, false, false};
  indset_set_config(h, &domain);

  v = flow(h, dir, "tls-python-1-example-com.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.protocol == INDSET_PROTOCOL_TLS && v.decision == INDSET_DECISION_BLOCK &&
            v.flags == INDSET_FLAG_HAS_INDICATOR && v.indicator_kind == INDSET_KIND_DOMAIN,
        "TLS example.com (Python): protocol %u decision %d flags %u", v.protocol, v.decision, v.flags);
  v = flow(h, dir, "tls-curl-2-www-example-com.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.protocol == INDSET_PROTOCOL_TLS && v.decision == INDSET_DECISION_BLOCK,
        "TLS WWW.Example.COM (curl): decision %d", v.decision);
  v = flow(h, dir, "tls-openssl-3-example-org.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.protocol == INDSET_PROTOCOL_TLS && v.decision == INDSET_DECISION_NONE && v.flags == 0,
        "TLS example.org (openssl): decision %d flags %u", v.decision, v.flags);
  v = flow(h, dir, "tls-openssl-noname.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.protocol == INDSET_PROTOCOL_TLS && v.decision == INDSET_DECISION_NONE &&
            (v.flags & INDSET_FLAG_NO_NAME),
        "TLS without SNI: flags %u", v.flags);

  /* A 2.5 KB ClientHello for big.example.com, whole and cut at one packet. */
  size_t big = fixture_len(dir, "tls-python-big.bin");
  v = flow(h, dir, "tls-python-big.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.decision == INDSET_DECISION_BLOCK, "the big ClientHello: decision %d", v.decision);
  v = flow(h, dir, "tls-python-big.bin", 1400, INDSET_TRANSPORT_TCP);
  CHECK((v.flags & INDSET_FLAG_NEED_MORE) && v.need > 0 && 1400 + v.need <= big &&
            v.decision == INDSET_DECISION_NONE && v.protocol == INDSET_PROTOCOL_TLS,
        "the big ClientHello cut at 1400 of %zu bytes: flags %u need %u", big, v.flags, v.need);
  v = flow(h, dir, "tls-python-1-example-com.bin", 3, INDSET_TRANSPORT_TCP);
  CHECK((v.flags & INDSET_FLAG_NEED_MORE) && v.need > 0, "3 bytes of a ClientHello: flags %u", v.flags);

  /* HTTP: the URL in full mode (a Url indicator allows it), the host in domain mode. */
  v = flow(h, dir, "http-curl-1-example-com.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.protocol == INDSET_PROTOCOL_HTTP && v.decision == INDSET_DECISION_BLOCK &&
            v.indicator_kind == INDSET_KIND_DOMAIN,
        "HTTP in domain mode: protocol %u decision %d", v.protocol, v.decision);
  indset_set_config(h, &full);
  v = flow(h, dir, "http-curl-1-example-com.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.protocol == INDSET_PROTOCOL_HTTP && v.decision == INDSET_DECISION_ALLOW &&
            v.indicator_kind == INDSET_KIND_URL,
        "HTTP in full mode: protocol %u decision %d", v.protocol, v.decision);
  v = flow(h, dir, "http-curl-connect-1-example-com.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.protocol == INDSET_PROTOCOL_HTTP && v.decision == INDSET_DECISION_BLOCK,
        "CONNECT example.com:443: decision %d", v.decision);
  indset_set_config(h, &domain);

  /* QUIC Initials from aioquic. */
  v = flow(h, dir, "quic-aioquic-1-example-com.bin", 0, INDSET_TRANSPORT_UDP);
  CHECK(v.protocol == INDSET_PROTOCOL_QUIC && v.decision == INDSET_DECISION_BLOCK,
        "QUIC example.com: protocol %u decision %d flags %u", v.protocol, v.decision, v.flags);
  v = flow(h, dir, "quic-aioquic-3-example-org.bin", 0, INDSET_TRANSPORT_UDP);
  CHECK(v.protocol == INDSET_PROTOCOL_QUIC && v.decision == INDSET_DECISION_NONE && v.flags == 0,
        "QUIC example.org: decision %d flags %u", v.decision, v.flags);

  /* Not one of the protocols: an SSH client's banner. */
  const char *junk = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
  IndsetStatus s = indset_check_flow(h, (const uint8_t *)junk, strlen(junk), INDSET_TRANSPORT_TCP, &v);
  CHECK(s == INDSET_STATUS_OK && (v.flags & INDSET_FLAG_NOT_RECOGNISED) &&
            v.decision == INDSET_DECISION_NONE,
        "junk: flags %u", v.flags);
  s = indset_check_flow(h, (const uint8_t *)junk, strlen(junk), 5, &v);
  CHECK(s == INDSET_STATUS_INVALID_ARGUMENT, "transport 5 answered %d", (int)s);

  /* DNS queries from dig (AAAA), over UDP and TCP, and their blocking answers. */
  const char *dns[2] = {"dns-dig-udp-1-example-com.bin", "dns-dig-tcp-1-example-com.bin"};
  for (int t = 0; t < 2; t++) {
    uint32_t transport = t == 0 ? INDSET_TRANSPORT_UDP : INDSET_TRANSPORT_TCP;
    size_t p = t == 0 ? 0 : 2; /* the TCP length prefix */
    v = flow(h, dir, dns[t], 0, transport);
    CHECK(v.protocol == INDSET_PROTOCOL_DNS && v.decision == INDSET_DECISION_BLOCK,
          "DNS example.com (%s): protocol %u decision %d", dns[t], v.protocol, v.decision);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, dns[t]);
    size_t len = 0;
    unsigned char *q = read_file(path, &len);
    if (!q) continue;
    /* The end of the question (the name's last label, type, class); dig adds an EDNS
       record after it, and the answers end with one of their own: root name, type OPT
       (41), payload 1232, version 0, no DO bit (dig did not ask for DNSSEC), no data. */
    static const unsigned char opt[11] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0};
    size_t question_end = 0;
    for (size_t i = p + 12; i < len; i++) {
      if (q[i] == 0) {
        question_end = i + 5;
        break;
      }
    }
    unsigned char answer[600];
    size_t written = 0;
    s = indset_dns_block_answer(q, len, transport, INDSET_DNS_ANSWER_NXDOMAIN, answer, 4, &written);
    CHECK(s == INDSET_STATUS_BUFFER_TOO_SMALL && written == question_end + 11,
          "short buffer: %d, %zu (question ends at %zu)", (int)s, written, question_end);
    s = indset_dns_block_answer(q, len, transport, INDSET_DNS_ANSWER_NXDOMAIN, answer, sizeof answer,
                                &written);
    /* NXDOMAIN: the query's question back, with QR set, RCODE 3, then the OPT record. */
    CHECK(s == INDSET_STATUS_OK && written == question_end + 11 &&
              memcmp(answer + p + 12, q + p + 12, question_end - p - 12) == 0 &&
              memcmp(answer + written - 11, opt, 11) == 0,
          "NXDOMAIN answer: %d, %zu bytes", (int)s, written);
    CHECK(answer[p] == q[p] && answer[p + 1] == q[p + 1], "the id is echoed");
    CHECK((answer[p + 2] & 0x80) && (answer[p + 3] & 0x0F) == 3, "flags %02x %02x", answer[p + 2],
          answer[p + 3]);
    CHECK(answer[p + 5] == 1 && answer[p + 7] == 0 && answer[p + 11] == 1,
          "one question, no answer, one additional record");
    s = indset_dns_block_answer(q, len, transport, INDSET_DNS_ANSWER_UNSPECIFIED, answer,
                                sizeof answer, &written);
    /* AAAA: one answer record (name pointer, type, class, TTL, length, 16 zero bytes), then
       the OPT record. */
    CHECK(s == INDSET_STATUS_OK && written == question_end + 28 + 11 && answer[p + 7] == 1 &&
              (answer[p + 3] & 0x0F) == 0 && memcmp(answer + written - 11 - 16, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0 &&
              memcmp(answer + written - 11, opt, 11) == 0 &&
              memcmp(answer + p + 12, q + p + 12, question_end - p - 12) == 0,
          "the :: answer: %d, %zu bytes (question ends at %zu), ancount %u", (int)s, written,
          question_end, answer[p + 7]);
    if (t == 1) {
      CHECK(answer[0] * 256 + answer[1] == (int)written - 2, "the TCP length prefix");
    }
    free(q);
  }
  s = indset_dns_block_answer((const uint8_t *)junk, strlen(junk), INDSET_TRANSPORT_UDP,
                              INDSET_DNS_ANSWER_NXDOMAIN, NULL, 0, NULL);
  CHECK(s == INDSET_STATUS_INVALID_ARGUMENT, "a non-query answered %d", (int)s);

  /* Web protection off: nothing is decided. */
  IndsetConfig off = {false, false, false};
  indset_set_config(h, &off);
  v = flow(h, dir, "tls-python-1-example-com.bin", 0, INDSET_TRANSPORT_TCP);
  CHECK(v.decision == INDSET_DECISION_NONE && v.flags == INDSET_FLAG_DISABLED, "off: %d flags %u",
        v.decision, v.flags);
  indset_set_config(h, &domain);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: abi_test FIRST.indset SECOND.indset NOT-A-SET FLOW-FIXTURES\n");
    return 2;
  }
  const char *first = argv[1], *second = argv[2], *not_a_set = argv[3];
  IndsetHandle *h = NULL;
  IndsetVerdict v;
  IndsetStatus s;

  CHECK(strcmp(indset_version(), "0.1.0") == 0, "version %s", indset_version());

  /* ---- errors: null pointers, bad files, bad arguments ---- */
  s = indset_open_path(NULL, &h);
  CHECK(s == INDSET_STATUS_NULL_POINTER && h == NULL, "open(NULL) answered %d", (int)s);
  char *msg = last_error();
  CHECK(strstr(msg, "the path is a null pointer") != NULL, "message: %s", msg);
  free(msg);
  s = indset_open_path("/nonexistent/set.indset", &h);
  CHECK(s == INDSET_STATUS_IO && h == NULL, "open(missing) answered %d", (int)s);
  msg = last_error();
  CHECK(strstr(msg, "cannot read /nonexistent/set.indset") != NULL, "message: %s", msg);
  free(msg);
  s = indset_open_path(not_a_set, &h);
  CHECK(s == INDSET_STATUS_FORMAT && h == NULL, "open(not a set) answered %d", (int)s);
  msg = last_error();
  CHECK(strstr(msg, "is not a valid indicator set") != NULL, "message: %s", msg);
  free(msg);
  s = indset_open_path("\xff\xfe.indset", &h);
  CHECK(s == INDSET_STATUS_INVALID_UTF8 && h == NULL, "open(invalid UTF-8) answered %d", (int)s);
  s = indset_open_path(first, NULL);
  CHECK(s == INDSET_STATUS_NULL_POINTER, "open(out NULL) answered %d", (int)s);
  s = indset_check_url(NULL, "a.example", 9, &v);
  CHECK(s == INDSET_STATUS_NULL_POINTER, "check(NULL handle) answered %d", (int)s);
  s = indset_open_bytes(NULL, 0, &h);
  CHECK(s == INDSET_STATUS_FORMAT && h == NULL, "open_bytes(empty) answered %d", (int)s);
  indset_close(NULL);

  /* ---- open from a path; checks in each mode ---- */
  s = indset_open_path(first, &h);
  CHECK(s == INDSET_STATUS_OK && h != NULL, "open(%s) answered %d", first, (int)s);
  if (!h) return 1;

  IndsetConfig config;
  s = indset_get_config(h, &config);
  CHECK(s == INDSET_STATUS_OK && config.web_protection && !config.supervised &&
            !config.exclude_url_in_report,
        "default configuration");

  /* Unsupervised: check_url looks at the host only. */
  s = indset_check_url(h, "https://bad.example/help/faq", 28, &v);
  CHECK(s == INDSET_STATUS_OK && v.decision == INDSET_DECISION_BLOCK &&
            v.indicator_kind == INDSET_KIND_DOMAIN && (v.flags & INDSET_FLAG_HAS_INDICATOR) &&
            v.generation == 1,
        "domain-mode URL: decision %d kind %d flags %u", v.decision, v.indicator_kind, v.flags);
  s = indset_check_host(h, "WWW.Bad.Example.", 16, &v);
  CHECK(s == INDSET_STATUS_OK && v.decision == INDSET_DECISION_BLOCK, "host: %d", v.decision);
  s = indset_check_host(h, "path.example", 12, &v);
  CHECK(s == INDSET_STATUS_OK && v.decision == INDSET_DECISION_NONE && v.flags == 0,
        "a path indicator in domain mode: %d flags %u", v.decision, v.flags);

  v = check_at(h, "https://bad.example/help/faq", INDSET_MODE_FULL);
  CHECK(v.decision == INDSET_DECISION_ALLOW && v.indicator_kind == INDSET_KIND_URL,
        "Url beats DomainName: %d", v.decision);
  v = check_at(h, "https://path.example/evil/x", INDSET_MODE_FULL);
  CHECK(v.decision == INDSET_DECISION_BLOCK, "path prefix: %d", v.decision);
  v = check_at(h, "warn.example", INDSET_MODE_DOMAIN);
  CHECK(v.decision == INDSET_DECISION_WARN, "warn: %d", v.decision);
  v = check_at(h, "audit.example", INDSET_MODE_DOMAIN);
  CHECK(v.decision == INDSET_DECISION_AUDIT && (v.flags & INDSET_FLAG_HAS_AUDIT) &&
            !(v.flags & INDSET_FLAG_HAS_INDICATOR) && v.audit_kind == INDSET_KIND_DOMAIN,
        "audit only: %d flags %u", v.decision, v.flags);
  v = check_at(h, "sub.mixed.example", INDSET_MODE_DOMAIN);
  CHECK(v.decision == INDSET_DECISION_BLOCK && (v.flags & INDSET_FLAG_HAS_AUDIT) &&
            (v.flags & INDSET_FLAG_HAS_INDICATOR) && v.indicator != v.audit,
        "block with an audit beside: %d flags %u", v.decision, v.flags);
  v = check_at(h, "example.org", INDSET_MODE_DOMAIN);
  CHECK(v.decision == INDSET_DECISION_NONE && v.flags == 0, "no match: %d flags %u", v.decision, v.flags);
  v = check_at(h, "", INDSET_MODE_DOMAIN);
  CHECK(v.decision == INDSET_DECISION_NONE && (v.flags & INDSET_FLAG_INVALID), "empty: flags %u", v.flags);
  v = check_at(h, "http://[::1", INDSET_MODE_FULL);
  CHECK(v.decision == INDSET_DECISION_NONE, "unparsable URL: %d", v.decision);

  s = indset_check_at(h, "a.example", 9, 7, NOW, &v);
  CHECK(s == INDSET_STATUS_INVALID_ARGUMENT, "mode 7 answered %d", (int)s);
  msg = last_error();
  CHECK(strstr(msg, "unknown mode 7") != NULL, "message: %s", msg);
  free(msg);
  s = indset_check_host(h, "bad\xff.example", 12, &v);
  CHECK(s == INDSET_STATUS_INVALID_UTF8, "invalid UTF-8 host answered %d", (int)s);
  s = indset_check_host(h, NULL, 5, &v);
  CHECK(s == INDSET_STATUS_NULL_POINTER, "NULL host answered %d", (int)s);
  s = indset_check_host(h, "bad.example", 11, NULL);
  CHECK(s == INDSET_STATUS_NULL_POINTER, "NULL out answered %d", (int)s);
  s = indset_check_host(h, "x", (size_t)-1, &v);
  CHECK(s == INDSET_STATUS_INVALID_ARGUMENT, "length past isize::MAX answered %d", (int)s);

  /* ---- reports: indicator texts and explain ---- */
  expect_text(h, "bad.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_ID, "ind-1");
  expect_text(h, "bad.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_TITLE, "Bad site");
  expect_text(h, "bad.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_CATEGORY, "Phishing");
  expect_text(h, "a.bad.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_VALUE, "bad.example");
  expect_text(h, "https://bad.example/help/x", INDSET_MODE_FULL, INDSET_WHICH_DECIDER, INDSET_FIELD_VALUE,
              "bad.example/help");
  expect_text(h, "sub.mixed.example", INDSET_MODE_DOMAIN, INDSET_WHICH_AUDIT, INDSET_FIELD_TITLE, "Mixed audit");
  expect_text(h, "sub.mixed.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_ID, "ind-5");
  expect_text(h, "warn.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_CATEGORY, "");
  IndsetStatus ts;
  char *none = text(h, "example.org", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_ID, &ts);
  CHECK(none == NULL && ts == INDSET_STATUS_NOT_FOUND, "no indicator: %d", (int)ts);
  none = text(h, "bad.example", INDSET_MODE_DOMAIN, INDSET_WHICH_AUDIT, INDSET_FIELD_ID, &ts);
  CHECK(none == NULL && ts == INDSET_STATUS_NOT_FOUND, "no audit: %d", (int)ts);
  none = text(h, "bad.example", INDSET_MODE_DOMAIN, 9, INDSET_FIELD_ID, &ts);
  CHECK(none == NULL && ts == INDSET_STATUS_INVALID_ARGUMENT, "which 9: %d", (int)ts);

  char *e = explain(h, "https://bad.example/help/faq", INDSET_MODE_FULL);
  CHECK(strstr(e, "verdict: allow") && strstr(e, "bad.example/help") && strstr(e, "id=ind-2") &&
            strstr(e, "id=ind-1") && strstr(e, "outranked"),
        "explain:\n%s", e);
  free(e);

  /* ---- stats ---- */
  IndsetStats st;
  s = indset_stats(h, &st);
  CHECK(s == INDSET_STATUS_OK && st.indicators == 9 && st.domains == 6 && st.urls == 3 &&
            st.actions[0] == 2 && st.actions[1] == 1 && st.actions[2] == 4 && st.actions[3] == 2 &&
            st.expiring == 0 && st.total_bytes > 0 && st.generation == 1,
        "stats: %llu indicators, %llu domains, %llu urls", (unsigned long long)st.indicators,
        (unsigned long long)st.domains, (unsigned long long)st.urls);

  /* ---- app configuration ---- */
  const char *supervised = "{\"issupervised\": \"TRUE\", \"Other\": 3}";
  s = indset_set_config_json(h, supervised, strlen(supervised));
  CHECK(s == INDSET_STATUS_OK, "config JSON answered %d", (int)s);
  s = indset_check_url(h, "https://bad.example/help/faq", 28, &v);
  CHECK(v.decision == INDSET_DECISION_ALLOW, "supervised URL: %d", v.decision);
  v = check_at(h, "https://bad.example/help/faq", INDSET_MODE_CONFIG);
  CHECK(v.decision == INDSET_DECISION_ALLOW, "mode from config: %d", v.decision);
  s = indset_check_host(h, "bad.example", 11, &v);
  CHECK(v.decision == INDSET_DECISION_BLOCK, "host check stays in domain mode: %d", v.decision);

  const char *broken = "{\"WebProtection\": \"off\"}";
  s = indset_set_config_json(h, broken, strlen(broken));
  CHECK(s == INDSET_STATUS_CONFIG, "a bad config answered %d", (int)s);
  msg = last_error();
  CHECK(strstr(msg, "`WebProtection`") != NULL, "message: %s", msg);
  free(msg);
  s = indset_get_config(h, &config);
  CHECK(config.supervised && config.web_protection, "a bad config changes nothing");

  const char *privacy = "{\"DefenderExcludeURLInReport\": true, \"issupervised\": true}";
  s = indset_set_config_json(h, privacy, strlen(privacy));
  CHECK(s == INDSET_STATUS_OK, "privacy config answered %d", (int)s);
  none = text(h, "bad.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_VALUE, &ts);
  CHECK(none == NULL && ts == INDSET_STATUS_HIDDEN, "value hidden: %d", (int)ts);
  expect_text(h, "bad.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_ID, "ind-1");
  e = explain(h, "https://secret.bad.example/x", INDSET_MODE_FULL);
  CHECK(strstr(e, "secret") == NULL && strstr(e, "bad.example") == NULL && strstr(e, "hidden") &&
            strstr(e, "verdict: block"),
        "explain under privacy:\n%s", e);
  free(e);

  const char *off = "{\"WebProtection\": false}";
  s = indset_set_config_json(h, off, strlen(off));
  s = indset_check_host(h, "bad.example", 11, &v);
  CHECK(s == INDSET_STATUS_OK && v.decision == INDSET_DECISION_NONE && (v.flags & INDSET_FLAG_DISABLED),
        "web protection off: %d flags %u", v.decision, v.flags);
  /* A configuration filled by hand with bytes other than 0 and 1 reads as all true. */
  IndsetConfig filled;
  memset(&filled, 0x02, sizeof filled);
  s = indset_set_config(h, &filled);
  s = indset_get_config(h, &config);
  CHECK(s == INDSET_STATUS_OK && config.web_protection && config.supervised &&
            config.exclude_url_in_report,
        "bytes 2 read as true");
  s = indset_set_config(h, NULL);
  CHECK(s == INDSET_STATUS_NULL_POINTER, "set_config(NULL) answered %d", (int)s);
  IndsetConfig defaults = {true, false, false};
  s = indset_set_config(h, &defaults);
  s = indset_check_host(h, "bad.example", 11, &v);
  CHECK(v.decision == INDSET_DECISION_BLOCK && v.flags == INDSET_FLAG_HAS_INDICATOR, "back on: %d", v.decision);

  /* ---- flows ---- */
  flows(h, argv[4]);
  s = indset_set_config(h, &defaults);

  /* ---- swaps: a bad file keeps the set ---- */
  uint64_t generation = 0;
  s = indset_swap_path(h, not_a_set, &generation);
  CHECK(s == INDSET_STATUS_FORMAT && generation == 0, "swap to a bad file answered %d", (int)s);
  v = check_at(h, "bad.example", INDSET_MODE_DOMAIN);
  CHECK(v.decision == INDSET_DECISION_BLOCK && v.generation == 1, "the set stays");

  /* ---- swaps while four threads check ---- */
  size_t second_len = 0, first_len = 0;
  unsigned char *second_bytes = read_file(second, &second_len);
  unsigned char *first_bytes = read_file(first, &first_len);
  CHECK(second_bytes && first_bytes, "read the sets");
  Worker workers[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) {
    workers[i] = (Worker){h, 0, 0, 0, 0, 0};
    pthread_create(&threads[i], NULL, checker, &workers[i]);
  }
  /* Generation g (from 2) loads the second set when even, the first when odd. */
  for (uint64_t g = 2; g <= 41; g++) {
    wait_for_checks(workers, 4, 3);
    const char *path = (g % 2 == 0) ? second : first;
    if (g % 4 < 2) {
      s = indset_swap_path(h, path, &generation);
    } else {
      s = (g % 2 == 0) ? indset_swap_bytes(h, second_bytes, second_len, &generation)
                       : indset_swap_bytes(h, first_bytes, first_len, &generation);
    }
    CHECK(s == INDSET_STATUS_OK && generation == g, "swap %llu answered %d, generation %llu",
          (unsigned long long)g, (int)s, (unsigned long long)generation);
    v = check_at(h, "bad.example", INDSET_MODE_DOMAIN);
    CHECK(v.generation == g && v.decision == (g % 2 ? INDSET_DECISION_BLOCK : INDSET_DECISION_ALLOW),
          "after swap %llu: generation %llu decision %d", (unsigned long long)g,
          (unsigned long long)v.generation, v.decision);
  }
  uint64_t total = 0;
  for (int i = 0; i < 4; i++) {
    __atomic_store_n(&workers[i].stop, 1, __ATOMIC_RELEASE);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    total += workers[i].seen_first + workers[i].seen_second;
    CHECK(workers[i].max_generation <= 41, "thread %d saw generation %llu", i,
          (unsigned long long)workers[i].max_generation);
  }
  /* Each thread saw both sets. */
  for (int i = 0; i < 4; i++) {
    CHECK(workers[i].seen_first > 0 && workers[i].seen_second > 0, "thread %d saw %llu and %llu", i,
          (unsigned long long)workers[i].seen_first, (unsigned long long)workers[i].seen_second);
  }
  free(second_bytes);
  free(first_bytes);
  s = indset_stats(h, &st);
  CHECK(st.generation == 41 && st.indicators == 9, "stats after the swaps: generation %llu",
        (unsigned long long)st.generation);
  indset_close(h);

  /* ---- open from bytes: the library keeps its own copy ---- */
  size_t len = 0;
  unsigned char *bytes = read_file(second, &len);
  IndsetHandle *h2 = NULL;
  s = indset_open_bytes(bytes, len, &h2);
  CHECK(s == INDSET_STATUS_OK && h2 != NULL, "open_bytes answered %d", (int)s);
  memset(bytes, 0, len);
  free(bytes);
  if (h2) {
    v = check_at(h2, "new.example", INDSET_MODE_DOMAIN);
    CHECK(v.decision == INDSET_DECISION_BLOCK && v.generation == 1, "new.example: %d", v.decision);
    expect_text(h2, "x.new.example", INDSET_MODE_DOMAIN, INDSET_WHICH_DECIDER, INDSET_FIELD_TITLE,
                "New threat");
    unsigned char broken_set[64] = {0x89, 'I', 'N', 'D', 'S', 'E', 'T', '\n'};
    s = indset_swap_bytes(h2, broken_set, sizeof broken_set, NULL);
    CHECK(s == INDSET_STATUS_FORMAT, "swap to a truncated set answered %d", (int)s);
    indset_close(h2);
  }

  printf("abi_test: %d checks, %d failures (threads checked %llu times during 40 swaps)\n", checks,
         failures, (unsigned long long)total);
  return failures == 0 ? 0 : 1;
}
