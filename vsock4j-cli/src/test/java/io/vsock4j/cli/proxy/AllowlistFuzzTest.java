package io.vsock4j.cli.proxy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.StringReader;

/**
 * Jazzer target for the proxy's YAML allowlist ({@link Allowlist#read}), the one file {@code vsock proxy}
 * parses. Whatever the text, reading it gives an allowlist or an IOException that names the source
 * (nothing else escapes SnakeYAML or the checks: no ClassCastException from an odd document, no
 * StackOverflowError from deep nesting, no blow-up from aliases), and every entry of an allowlist read
 * has a non-blank address and a port 0..65535.
 * Plain {@code mvn test} replays the seeds under src/test/resources; to fuzz with coverage:
 * {@code scripts/fuzz/fuzz.sh proxy-allowlist [SECONDS]}.
 */
class AllowlistFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void read(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        Allowlist list;
        try {
            list = Allowlist.read("fuzz.yaml", new StringReader(text));
        } catch (IOException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("fuzz.yaml: ")) {
                throw new AssertionError("an error that does not name the file: " + e.getMessage());
            }
            return;
        }
        for (Allowlist.Entry e : list.entries()) {
            if (e.address().isBlank() || e.port() < 0 || e.port() > 0xFFFF) {
                throw new AssertionError("an entry that passed the checks: " + e);
            }
        }
    }
}
