package io.vsock4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static java.util.Map.entry;

/**
 * The scenarios of src/test/guest/nc-rules.sh (when a netcat connection ends) and what ncat 7.93 does
 * in them, two ncat processes on the kernel's vsock loopback in the test guest. NcRulesInGuestIT
 * checks that ncat still does this and that vsock nc facing ncat does the same, in both roles;
 * NcRulesLauncherIT runs the scenarios with two vsock nc processes on a shared machine.
 */
final class NcRules {
    private NcRules() {
    }

    /** The script, run by bash with RESULTS "VSOCK_NC COMMAND" PAIR... */
    static final Path SCRIPT = Path.of("src", "test", "guest", "nc-rules.sh").toAbsolutePath();

    /** ncat on both ends: "SCENARIO KEY" to value. Killed processes exit with 137 (SIGKILL). */
    static final Map<String, String> NCAT = new TreeMap<>(Map.ofEntries(
            // sleep 60 | nc -l P > out; nc 1 P < file: the listener ends at the client's EOF.
            entry("listener-stdin-open listener_timing", "prompt"),
            entry("listener-stdin-open client_timing", "prompt"),
            entry("listener-stdin-open listener_exit", "0"),
            entry("listener-stdin-open client_exit", "0"),
            entry("listener-stdin-open listener_got", "file"),
            entry("listener-stdin-open client_got", "empty"),
            // nc -l P < file; sleep 60 | nc 1 P: both wait, until the client's stdin ends.
            entry("client-stdin-open listener_timing", "waiting"),
            entry("client-stdin-open client_timing", "waiting"),
            entry("client-stdin-open client_timing_after_eof", "prompt"),
            entry("client-stdin-open listener_timing_after_eof", "prompt"),
            entry("client-stdin-open listener_exit", "0"),
            entry("client-stdin-open client_exit", "0"),
            entry("client-stdin-open listener_got", "empty"),
            entry("client-stdin-open client_got", "file"),
            // nc -l -k --exec cat: three clients in a row, each ends once it half-closed.
            entry("keep-open-exec client1_timing", "prompt"),
            entry("keep-open-exec client1_exit", "0"),
            entry("keep-open-exec client1_got", "client-line"),
            entry("keep-open-exec client2_timing", "prompt"),
            entry("keep-open-exec client2_exit", "0"),
            entry("keep-open-exec client2_got", "client-line"),
            entry("keep-open-exec client3_timing", "prompt"),
            entry("keep-open-exec client3_exit", "0"),
            entry("keep-open-exec client3_got", "client-line"),
            entry("keep-open-exec listener_running", "yes"),
            // The listener half-closes first, the client sends on and then half-closes.
            entry("half-close-both listener_timing", "prompt"),
            entry("half-close-both client_timing", "prompt"),
            entry("half-close-both listener_exit", "0"),
            entry("half-close-both client_exit", "0"),
            entry("half-close-both listener_got", "client-line"),
            entry("half-close-both client_got", "listener-line"),
            // kill -9 of the client: its socket is closed, the listener reads EOF.
            entry("client-killed listener_timing", "prompt"),
            entry("client-killed listener_exit", "0"),
            entry("client-killed client_exit", "137"),
            entry("client-killed listener_got", "file"),
            entry("client-killed client_got", "empty"),
            // kill -9 of the listener: the client reads EOF but its stdin is open; its next send fails.
            entry("listener-killed client_timing", "waiting"),
            entry("listener-killed client_timing_after_send", "prompt"),
            entry("listener-killed listener_exit", "137"),
            entry("listener-killed client_exit", "1"),
            entry("listener-killed listener_got", "empty"),
            entry("listener-killed client_got", "file")));

    /** One pair's observations from a results file ("SCENARIO KEY" to value), without the stderr lines. */
    static Map<String, String> observed(Path results, String pair) throws IOException {
        Map<String, String> values = new TreeMap<>();
        for (String line : Files.readAllLines(results, StandardCharsets.UTF_8)) {
            String[] f = line.split(" ", 4);
            if (f.length == 4 && f[0].equals(pair) && !f[2].startsWith("err_")) {
                values.put(f[1] + " " + f[2], f[3].strip());
            }
        }
        return values;
    }

    /** The observations of the given scenarios only ("SCENARIO KEY" keys). */
    static Map<String, String> only(Map<String, String> observations, java.util.Collection<String> scenarios) {
        Map<String, String> values = new TreeMap<>();
        observations.forEach((key, value) -> {
            if (scenarios.contains(key.substring(0, key.indexOf(' ')))) {
                values.put(key, value);
            }
        });
        return values;
    }

    /** One pair's stderr lines, for the message of a failed assertion. */
    static String stderr(Path results, String pair) throws IOException {
        StringBuilder s = new StringBuilder();
        for (String line : Files.readAllLines(results, StandardCharsets.UTF_8)) {
            String[] f = line.split(" ", 4);
            if (f.length == 4 && f[0].equals(pair) && f[2].startsWith("err_") && !f[3].isBlank()) {
                s.append(line).append('\n');
            }
        }
        return s.toString();
    }
}
