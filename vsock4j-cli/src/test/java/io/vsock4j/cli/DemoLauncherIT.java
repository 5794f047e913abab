package io.vsock4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's first command, through the real launcher. */
@Timeout(300) // the launcher's first use may build the project
class DemoLauncherIT {
    @Test
    void theLauncherRunsTheDemo() throws Exception {
        Path launcher = Path.of(System.getProperty("vsock4j.launcher", "../vsock")).toAbsolutePath();
        Process p = new ProcessBuilder(launcher.toString(), "demo", "--quiet-packets").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("vsock4j demo", "Done.").doesNotContain("> REQUEST").doesNotContain("building");
    }
}
