import indset.Indset;
import java.nio.file.Path;

/** The flow checks; they need the flow functions of the library. */
final class IndsetFlows {
  static void run(Indset set, Path dir) {
    System.out.println("IndsetTest: built without the flow functions");
  }
}
