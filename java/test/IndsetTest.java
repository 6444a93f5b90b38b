import indset.Indset;
import indset.Indset.Decision;
import indset.Indset.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the Java binding against two compiled sets (java/run.sh makes them from
 * ffi/c/sets/first.csv and second.csv) and checks every answer against the rules of
 * docs/matching.md: a Url indicator beats a DomainName one, a domain covers its subdomains,
 * domain mode sees only hosts, an audit indicator never decides.
 *
 * <p>Arguments: FIRST.indset SECOND.indset NOT-A-SET FLOW-FIXTURES (tests/fixtures/flow).
 */
public final class IndsetTest {
  static final long NOW = 1_780_000_000L;
  static int checks = 0;

  static void check(boolean ok, String what) {
    checks++;
    if (!ok) {
      throw new AssertionError(what);
    }
  }

  static void expect(Verdict v, Decision d, String what) {
    check(v.decision() == d, what + ": got " + v + ", want " + d);
  }

  public static void main(String[] args) throws Exception {
    Path first = Path.of(args[0]), second = Path.of(args[1]), notASet = Path.of(args[2]);

    // A bad file: an exception with the library's message.
    try {
      Indset.open(notASet).close();
      check(false, "opening a file that is not a set must fail");
    } catch (IOException e) {
      check(e.getMessage().contains("is not a valid indicator set"), "message: " + e.getMessage());
    }
    try {
      Indset.open(Path.of("/nonexistent/set.indset")).close();
      check(false, "opening a missing file must fail");
    } catch (IOException e) {
      check(e.getMessage().contains("cannot read /nonexistent/set.indset"), e.getMessage());
    }
    try {
      Indset.open(new byte[] {1, 2, 3}).close();
      check(false, "opening three bytes must fail");
    } catch (IOException e) {
      check(e.getMessage().contains("not a valid indicator set"), e.getMessage());
    }

    Indset kept;
    try (Indset set = Indset.open(first)) {
      kept = set;
      // Unsupervised by default: URLs are checked by their host.
      check(set.webProtection() && !set.supervised(), "default configuration");
      Verdict v = set.checkUrl("https://bad.example/help/faq");
      expect(v, Decision.BLOCK, "domain-mode URL");
      check(v.has(Indset.FLAG_HAS_INDICATOR) && v.generation() == 1, "flags " + v);
      expect(set.checkHost("WWW.BAD.EXAMPLE."), Decision.BLOCK, "subdomain, case, trailing dot");
      expect(set.checkHost("path.example"), Decision.NONE, "a path indicator in domain mode");
      expect(set.checkHost("warn.example:443"), Decision.WARN, "warn, with a port");
      Verdict audit = set.checkHost("audit.example");
      expect(audit, Decision.AUDIT, "audit only");
      check(audit.has(Indset.FLAG_HAS_AUDIT) && !audit.has(Indset.FLAG_HAS_INDICATOR), "audit flags");
      Verdict both = set.checkHost("sub.mixed.example");
      expect(both, Decision.BLOCK, "block with an audit beside");
      check(both.has(Indset.FLAG_HAS_AUDIT), "audit reported beside");
      check(set.checkHost("").has(Indset.FLAG_INVALID), "empty query is invalid");
      expect(set.check("https://bad.example/help/x", Indset.MODE_FULL, NOW), Decision.ALLOW,
          "Url beats DomainName");
      expect(set.check("https://path.example/evil/1", Indset.MODE_FULL, NOW), Decision.BLOCK,
          "path prefix");

      // Reports.
      check("ind-1".equals(set.indicatorId("a.bad.example", Indset.MODE_DOMAIN, NOW)), "id");
      check("Help pages".equals(set.indicatorTitle("https://bad.example/help/", Indset.MODE_FULL, NOW)),
          "title");
      check(set.indicatorId("example.org", Indset.MODE_DOMAIN, NOW) == null, "no indicator: null");
      String explained = set.explain("https://bad.example/help/faq", Indset.MODE_FULL, NOW);
      check(explained.contains("verdict: allow") && explained.contains("id=ind-2")
              && explained.contains("outranked"), explained);

      // App configuration.
      set.setConfig("{\"issupervised\": true}");
      check(set.supervised(), "supervised");
      expect(set.checkUrl("https://bad.example/help/faq"), Decision.ALLOW, "supervised URL");
      try {
        set.setConfig("{\"WebProtection\": \"off\"}");
        check(false, "a bad configuration must fail");
      } catch (IllegalArgumentException e) {
        check(e.getMessage().contains("`WebProtection`"), e.getMessage());
      }
      check(set.supervised() && set.webProtection(), "a bad configuration changes nothing");
      set.setConfig("{\"WebProtection\": false}");
      Verdict off = set.checkHost("bad.example");
      check(off.decision() == Decision.NONE && off.has(Indset.FLAG_DISABLED), "off: " + off);
      set.setConfig("{}");

      IndsetFlows.run(set, Path.of(args[3]));
      set.setConfig("{}");

      // A bad swap keeps the set.
      try {
        set.swap(notASet);
        check(false, "swapping to a bad file must fail");
      } catch (IOException e) {
        check(e.getMessage().contains("is not a valid indicator set"), e.getMessage());
      }
      expect(set.checkHost("bad.example"), Decision.BLOCK, "the set stays");

      // Swaps while four threads check: each answer is the one of the set that gave it
      // (odd generations: the first set, even: the second).
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong wrong = new AtomicLong(), done = new AtomicLong(), sawSecond = new AtomicLong();
      Thread[] threads = new Thread[4];
      for (int t = 0; t < threads.length; t++) {
        threads[t] = new Thread(() -> {
          while (!stop.get()) {
            Verdict a = set.checkHost("bad.example");
            Verdict b = set.checkHost("new.example");
            boolean odd = a.generation() % 2 == 1;
            if (a.decision() != (odd ? Decision.BLOCK : Decision.ALLOW)) wrong.incrementAndGet();
            boolean oddB = b.generation() % 2 == 1;
            if (b.decision() != (oddB ? Decision.NONE : Decision.BLOCK)) wrong.incrementAndGet();
            if (!odd) sawSecond.incrementAndGet();
            done.incrementAndGet();
          }
        });
        threads[t].start();
      }
      byte[] firstBytes = Files.readAllBytes(first), secondBytes = Files.readAllBytes(second);
      for (long g = 2; g <= 41; g++) {
        long before = done.get();
        while (done.get() < before + 8) Thread.onSpinWait();
        long got = (g % 4 < 2)
            ? set.swap(g % 2 == 0 ? second : first)
            : set.swap(g % 2 == 0 ? secondBytes : firstBytes);
        check(got == g, "swap " + g + " gave generation " + got);
        expect(set.checkHost("bad.example"), g % 2 == 1 ? Decision.BLOCK : Decision.ALLOW,
            "after swap " + g);
      }
      stop.set(true);
      for (Thread t : threads) t.join();
      check(wrong.get() == 0, wrong.get() + " threaded answers did not match their set");
      check(done.get() > 0 && sawSecond.get() > 0, "the threads checked both sets");
      checks += done.get();
    }
    // Closed by try-with-resources: further calls throw, a second close is harmless.
    try {
      kept.checkHost("bad.example");
      check(false, "a closed set must throw");
    } catch (IllegalStateException e) {
      check(e.getMessage().equals("the set is closed"), e.getMessage());
    }
    kept.close();

    // Close while four threads check: each gets right answers, then IllegalStateException.
    Indset closing = Indset.open(first);
    AtomicLong answered = new AtomicLong(), badAnswers = new AtomicLong(), stopped = new AtomicLong();
    Thread[] racers = new Thread[4];
    for (int t = 0; t < racers.length; t++) {
      racers[t] = new Thread(() -> {
        try {
          while (true) {
            if (closing.checkHost("bad.example").decision() != Decision.BLOCK) {
              badAnswers.incrementAndGet();
            }
            answered.incrementAndGet();
          }
        } catch (IllegalStateException e) {
          if (e.getMessage().equals("the set is closed")) stopped.incrementAndGet();
        }
      });
      racers[t].start();
    }
    while (answered.get() < 10_000) Thread.onSpinWait();
    closing.close();
    for (Thread t : racers) t.join();
    check(badAnswers.get() == 0 && stopped.get() == racers.length,
        "close during checks: " + badAnswers.get() + " wrong, " + stopped.get() + " threads stopped");
    checks += answered.get();

    try (Indset fromBytes = Indset.open(Files.readAllBytes(second))) {
      expect(fromBytes.checkHost("x.new.example"), Decision.BLOCK, "from bytes");
    }
    System.out.println("IndsetTest: " + checks + " checks passed");
  }
}
