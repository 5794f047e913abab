package io.vsock4j;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The layers of the core module, read from its sources: which package uses which (imports and fully
 * qualified names in code, comments left out). Dependencies point one way, API &lt;- wire and SPI &lt;-
 * engine &lt;- core &lt;- transports &lt;- machines (with virtqueue, which uses only java.*, at the bottom), and
 * no two packages use each other, however indirectly.
 */
class PackageDependencyTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.vsock4j(?:\\.[a-z]\\w*)*)\\.[A-Z]");
    private static final Pattern COMMENTS = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

    /** What each package may use, besides itself; a package not listed here fails the test. */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("io.vsock4j", Set.of()),
            // Guest memory and virtqueues for a vhost-user device: java.* only, below everything.
            Map.entry("io.vsock4j.virtqueue", Set.of()),
            Map.entry("io.vsock4j.net", Set.of("io.vsock4j")),
            Map.entry("io.vsock4j.wire", Set.of("io.vsock4j")),
            Map.entry("io.vsock4j.spi", Set.of("io.vsock4j", "io.vsock4j.wire")),
            Map.entry("io.vsock4j.engine", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi")),
            Map.entry("io.vsock4j.core", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi", "io.vsock4j.engine")),
            Map.entry("io.vsock4j.capture", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi", "io.vsock4j.core")),
            Map.entry("io.vsock4j.transport.loopback", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi")),
            Map.entry("io.vsock4j.transport.link", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi")),
            // libc through java.lang.foreign, errno to exception through spi's table: for the transports that call C.
            Map.entry("io.vsock4j.internal.ffm", Set.of("io.vsock4j.spi")),
            Map.entry("io.vsock4j.transport.kernel", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi",
                    "io.vsock4j.internal.ffm")),
            // vhost-user: the protocol and the vsock device on it; its virtqueues come from io.vsock4j.virtqueue,
            // and each guest is a link of the H2G transport (transport.link's HostTransport).
            // Hybrid vsock: Unix sockets bridged to a machine's sockets through the API (HybridHost, with the
            // H2G transport's port redirects so a guest's <uds-path>_P wins over a listener on P), and a
            // transport speaking packets to the engine over the VMMs' Unix sockets (HybridClientTransport).
            Map.entry("io.vsock4j.transport.hybrid", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi",
                    "io.vsock4j.transport.link")),
            Map.entry("io.vsock4j.transport.vhostuser", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi",
                    "io.vsock4j.virtqueue", "io.vsock4j.transport.link", "io.vsock4j.internal.ffm")),
            // The shared machine is a machine by construction: its client builds one around its transport.
            Map.entry("io.vsock4j.transport.shared", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi",
                    "io.vsock4j.core", "io.vsock4j.transport.link")),
            Map.entry("io.vsock4j.machines", Set.of("io.vsock4j", "io.vsock4j.wire", "io.vsock4j.spi", "io.vsock4j.core",
                    "io.vsock4j.transport.loopback", "io.vsock4j.transport.link", "io.vsock4j.transport.kernel",
                    "io.vsock4j.transport.shared")));

    private static Map<String, Set<String>> uses;

    @BeforeAll
    static void readSources() throws IOException {
        uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            files.filter(f -> f.toString().endsWith(".java") && !f.endsWith("module-info.java")
                    && !f.endsWith("package-info.java")).forEach(PackageDependencyTest::read);
        }
    }

    private static void read(Path file) {
        try {
            String code = COMMENTS.matcher(Files.readString(file)).replaceAll("");
            Matcher p = PACKAGE.matcher(code);
            assertThat(p.find()).as("package line in " + file).isTrue();
            String pkg = p.group(1);
            Set<String> used = uses.computeIfAbsent(pkg, k -> new TreeSet<>());
            Matcher r = REFERENCE.matcher(code);
            while (r.find()) {
                if (!r.group(1).equals(pkg)) {
                    used.add(r.group(1));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyPackageUsesOnlyTheLayersBelowIt() {
        assertThat(uses).as("packages found").containsKeys("io.vsock4j", "io.vsock4j.engine", "io.vsock4j.core");
        Map<String, Set<String>> violations = new TreeMap<>();
        uses.forEach((pkg, used) -> {
            Set<String> allowed = ALLOWED.get(pkg);
            Set<String> extra = new TreeSet<>(used);
            if (allowed != null) {
                extra.removeAll(allowed);
            } else {
                extra.add("(package not in ALLOWED: say where it belongs)");
            }
            if (!extra.isEmpty()) {
                violations.put(pkg, extra);
            }
        });
        assertThat(violations).as("uses beyond the package's layer").isEmpty();
    }

    @Test
    void noTwoPackagesDependOnEachOther() {
        List<List<String>> cycles = new ArrayList<>();
        for (String start : uses.keySet()) {
            // A path from a package back to itself is a cycle; report each one once, from its smallest name.
            Deque<List<String>> paths = new ArrayDeque<>();
            paths.add(List.of(start));
            Map<String, Boolean> seen = new HashMap<>();
            while (!paths.isEmpty()) {
                List<String> path = paths.poll();
                for (String next : uses.getOrDefault(path.getLast(), Set.of())) {
                    if (next.equals(start)) {
                        if (path.stream().allMatch(p -> p.compareTo(start) >= 0)) {
                            List<String> cycle = new ArrayList<>(path);
                            cycle.add(start);
                            cycles.add(cycle);
                        }
                    } else if (seen.putIfAbsent(next, true) == null) {
                        List<String> longer = new ArrayList<>(path);
                        longer.add(next);
                        paths.add(longer);
                    }
                }
            }
        }
        assertThat(cycles).as("package cycles").isEmpty();
    }
}
