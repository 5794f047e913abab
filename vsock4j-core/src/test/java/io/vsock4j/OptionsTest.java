package io.vsock4j;

import org.junit.jupiter.api.Test;

import java.net.SocketException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OptionsTest extends LoopbackFixture {
    @Test
    void defaultsAreTheKernels() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(256L * 1024);
        assertThat(s.getOption(VsockOptions.BUFFER_MIN_SIZE)).isEqualTo(128L);
        assertThat(s.getOption(VsockOptions.BUFFER_MAX_SIZE)).isEqualTo(256L * 1024);
        assertThat(s.getOption(VsockOptions.CONNECT_TIMEOUT)).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.getOption(VsockOptions.SO_RCVLOWAT)).isEqualTo(1);
    }

    @Test
    void bufferSizeIsClampedIntoMinAndMax() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        s.setOption(VsockOptions.BUFFER_SIZE, 1L << 30);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(256L * 1024);
        s.setOption(VsockOptions.BUFFER_SIZE, 10L);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(128L);
        s.setOption(VsockOptions.BUFFER_MAX_SIZE, 1L << 20);
        s.setOption(VsockOptions.BUFFER_SIZE, 1L << 20);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(1L << 20);
        // Lowering the maximum re-clamps the size at once.
        s.setOption(VsockOptions.BUFFER_MAX_SIZE, 4096L);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(4096L);
        s.setOption(VsockOptions.BUFFER_MIN_SIZE, 8192L);
        assertThat(s.getOption(VsockOptions.BUFFER_SIZE)).isEqualTo(8192L);
    }

    @Test
    void rcvlowatAboveTheBufferIsEINVAL() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> s.setOption(VsockOptions.SO_RCVLOWAT, 256 * 1024 + 1))
                .isInstanceOf(SocketException.class).hasMessageStartingWith("EINVAL");
        s.setOption(VsockOptions.SO_RCVLOWAT, 0);
        assertThat(s.getOption(VsockOptions.SO_RCVLOWAT)).isEqualTo(1);
    }

    @Test
    void badValuesNameWhatWasWrong() throws Exception {
        VsockSocket s = track(VsockSocket.open(machine));
        assertThatThrownBy(() -> s.setOption(VsockOptions.BUFFER_SIZE, -1L)).hasMessageContaining("SO_VM_SOCKETS_BUFFER_SIZE");
        assertThatThrownBy(() -> s.setOption(VsockOptions.CONNECT_TIMEOUT, Duration.ZERO)).hasMessageContaining("CONNECT_TIMEOUT");
        assertThatThrownBy(() -> s.setSoTimeout(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
