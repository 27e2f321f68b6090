package dev.cloudconn.sdk;

import java.util.ArrayList;
import java.util.List;

/**
 * The tests' runner, so the build needs no JUnit: every case of
 * ScenarioTest and ClientTest in order, one line each, then the counts; exit 1 on any failure.
 * Arguments filter cases by a substring of their names.
 */
public final class TestMain {
  /** One named test. */
  record Case(String name, Body body) {}

  /** A test's body. */
  @FunctionalInterface
  interface Body {
    void run() throws Exception;
  }

  /** Thrown by a test that cannot run yet; the runner prints its reason. */
  static final class Skipped extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Skipped(String reason) {
      super(reason);
    }
  }

  public static void main(String[] args) {
    List<Case> cases = new ArrayList<>();
    cases.addAll(ScenarioTest.cases());
    cases.addAll(ClientTest.cases());
    int passed = 0;
    int skipped = 0;
    int failed = 0;
    for (Case c : cases) {
      if (args.length > 0 && List.of(args).stream().noneMatch(c.name()::contains)) {
        continue;
      }
      long start = System.nanoTime();
      try {
        c.body().run();
        passed++;
        System.out.printf("ok    %s (%d ms)%n", c.name(), (System.nanoTime() - start) / 1_000_000);
      } catch (Skipped s) {
        skipped++;
        System.out.printf("SKIP  %s: %s%n", c.name(), s.getMessage());
      } catch (Throwable t) {
        failed++;
        System.out.printf("FAIL  %s%n", c.name());
        t.printStackTrace(System.out);
      }
    }
    System.out.printf("== java tests: %d passed, %d skipped, %d failed%n", passed, skipped, failed);
    System.exit(failed == 0 ? 0 : 1);
  }

  private TestMain() {}
}
