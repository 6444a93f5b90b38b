import indset.Indset;
import indset.Indset.Decision;
import indset.Indset.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Flow checks on the first bytes real clients sent (tests/fixtures/flow, see its README), against
 * the first set of IndsetTest (example.com blocked, http://example.com/path/to allowed).
 */
final class IndsetFlows {
  static void run(Indset set, Path dir) throws IOException {
    byte[] tls = Files.readAllBytes(dir.resolve("tls-curl-1-example-com.bin"));
    Verdict v = set.checkFlow(tls, false);
    IndsetTest.check(v.decision() == Decision.BLOCK && v.protocol() == 1, "TLS example.com: " + v);
    v = set.checkFlow(tls, 5, false);
    IndsetTest.check(v.has(Indset.FLAG_NEED_MORE) && v.need() > 0, "5 bytes of a ClientHello: " + v);
    v = set.checkFlow(Files.readAllBytes(dir.resolve("tls-python-3-example-org.bin")), false);
    IndsetTest.check(v.decision() == Decision.NONE && v.flags() == 0 && v.protocol() == 1,
        "TLS example.org: " + v);
    v = set.checkFlow(Files.readAllBytes(dir.resolve("tls-openssl-noname.bin")), false);
    IndsetTest.check(v.has(Indset.FLAG_NO_NAME), "no SNI: " + v);

    byte[] http = Files.readAllBytes(dir.resolve("http-curl-1-example-com.bin"));
    set.setConfig("{\"issupervised\": false}");
    v = set.checkFlow(http, false);
    IndsetTest.check(v.decision() == Decision.BLOCK && v.protocol() == 2, "HTTP, domain mode: " + v);
    set.setConfig("{\"issupervised\": true}");
    v = set.checkFlow(http, false);
    IndsetTest.check(v.decision() == Decision.ALLOW, "HTTP, full mode: the Url indicator: " + v);
    set.setConfig("{}");

    byte[] dns = Files.readAllBytes(dir.resolve("dns-dig-udp-2-www-example-com.bin"));
    v = set.checkFlow(dns, true);
    IndsetTest.check(v.decision() == Decision.BLOCK && v.protocol() == 3, "DNS www.example.com: " + v);
    byte[] answer = Indset.dnsBlockAnswer(dns, true, true);
    IndsetTest.check(answer[0] == dns[0] && answer[1] == dns[1] && (answer[3] & 0x0F) == 3
            && (answer[2] & 0x80) != 0, "NXDOMAIN with the query's id");
    try {
      Indset.dnsBlockAnswer(new byte[] {1, 2, 3}, true, true);
      IndsetTest.check(false, "three bytes are not a DNS query");
    } catch (IllegalArgumentException e) {
      IndsetTest.check(e.getMessage().contains("not a complete DNS query"), e.getMessage());
    }

    v = set.checkFlow(Files.readAllBytes(dir.resolve("quic-aioquic-1-example-com.bin")), true);
    IndsetTest.check(v.decision() == Decision.BLOCK && v.protocol() == 4, "QUIC example.com: " + v);
    // An SSH client's banner: none of the protocols.
    byte[] ssh = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    v = set.checkFlow(ssh, false);
    IndsetTest.check(v.has(Indset.FLAG_NOT_RECOGNISED) && v.decision() == Decision.NONE, "SSH: " + v);
  }
}
