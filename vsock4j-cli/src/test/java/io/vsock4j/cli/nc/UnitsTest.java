package io.vsock4j.cli.nc;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class UnitsTest {
    private static List<byte[]> lines(byte[] input) throws Exception {
        Units.Source source = Units.lines(new ByteArrayInputStream(input));
        List<byte[]> out = new ArrayList<>();
        int n;
        while ((n = source.next()) >= 0) {
            out.add(Arrays.copyOf(source.buffer(), n));
        }
        return out;
    }

    @Test
    void linesDropOnlyTheNewlineAndKeepBinaryBytes() throws Exception {
        byte[] input = {'a', '\r', '\n', 0, (byte) 0xFF, '\n', '\n', 'z'};
        assertThat(lines(input)).containsExactly(new byte[] {'a', '\r'}, new byte[] {0, (byte) 0xFF}, new byte[0],
                new byte[] {'z'});
    }

    @Test
    void aLongLineGrowsTheBuffer() throws Exception {
        byte[] input = new byte[100_001];
        Arrays.fill(input, (byte) 'x');
        input[100_000] = '\n';
        assertThat(lines(input)).singleElement().satisfies(l -> assertThat(l).hasSize(100_000));
    }

    @Test
    void theLineSinkAppendsOneNewlinePerMessage() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Units.Sink sink = Units.lines(out);
        sink.write(new byte[] {'h', 'i', '!'}, 0, 2);
        sink.write(new byte[0], 0, 0);
        assertThat(out.toByteArray()).containsExactly('h', 'i', '\n', '\n');
    }
}
