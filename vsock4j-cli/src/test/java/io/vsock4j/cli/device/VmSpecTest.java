package io.vsock4j.cli.device;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmSpecTest {
    @Test
    void allKeysAsVhostDeviceVsockWritesThem() {
        VmSpec vm = VmSpec.parse("guest-cid=4,socket=/tmp/vm4.vhost,uds-path=/tmp/vm4.vsock,groups=default,"
                + "tx-buffer-size=128K,queue-size=256");
        assertThat(vm.guestCid()).isEqualTo(4);
        assertThat(vm.socket()).isEqualTo(Path.of("/tmp/vm4.vhost"));
        assertThat(vm.udsPath()).isEqualTo(Path.of("/tmp/vm4.vsock"));
        assertThat(vm.groups()).containsExactly("default");
        assertThat(vm.txBufferBytes()).isEqualTo(128 * 1024);
        assertThat(vm.queueSize()).isEqualTo(256);
    }

    @Test
    void groupsAreNamesJoinedByPlus() {
        assertThat(VmSpec.parse("guest-cid=3,socket=/s,groups=red+blue").groups()).isEqualTo(Set.of("red", "blue"));
    }

    @Test
    void optionalKeysHaveVhostDeviceVsocksDefaults() {
        VmSpec vm = VmSpec.parse("socket=rel.sock,guest-cid=4294967294");
        assertThat(vm.guestCid()).isEqualTo(-2);
        assertThat(vm.socket()).isEqualTo(Path.of("rel.sock").toAbsolutePath());
        assertThat(vm.udsPath()).isNull();
        assertThat(vm.groups()).isEqualTo(Set.of("default"));
        assertThat(vm.txBufferBytes()).isEqualTo(64 * 1024);
        assertThat(vm.queueSize()).isEqualTo(1024);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "guest-cid=3,socket=/s,color=blue      | unknown key 'color'",
            "guest-cid=3                           | needs guest-cid=N and socket=PATH",
            "socket=/s                             | needs guest-cid=N and socket=PATH",
            "guest-cid=0,socket=/s                 | guest-cid 0 is not a guest's",
            "guest-cid=1,socket=/s                 | guest-cid 1 is not a guest's",
            "guest-cid=2,socket=/s                 | guest-cid 2 is not a guest's",
            "guest-cid=4294967295,socket=/s        | guest-cid 4294967295 is not a guest's",
            "guest-cid=-1,socket=/s                | guest-cid -1 is not a guest's",
            "guest-cid=three,socket=/s             | guest-cid is not a number",
            "guest-cid=3,guest-cid=4,socket=/s     | guest-cid given twice",
            "guest-cid=3,socket=                   | KEY=VALUE",
            "guest-cid=3,socket=/s,                | KEY=VALUE",
            "guest-cid=3,socket=/s,uds-path=/s     | the same file",
            "guest-cid=3,socket=/s,groups=default+ | names joined by '+'",
            "guest-cid=3,socket=/s,tx-buffer-size=0 | tx-buffer-size: byte count must be positive",
            "guest-cid=3,socket=/s,tx-buffer-size=lots | tx-buffer-size: not a byte count",
            "guest-cid=3,socket=/s,tx-buffer-size=5G | more than 4294967295 bytes",
            "guest-cid=3,socket=/s,queue-size=1000 | a power of two up to 1024",
            "guest-cid=3,socket=/s,queue-size=2048 | a power of two up to 1024"})
    void mistakesAreNamedInOneLine(String text, String message) {
        assertThatThrownBy(() -> VmSpec.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message).message().doesNotContain("\n");
    }

    @Test
    void socketPathsMustFitAUnixSocketAddress() {
        String longPath = "/tmp/" + "d".repeat(100) + ".sock";
        assertThatThrownBy(() -> VmSpec.parse("guest-cid=3,socket=" + longPath)).hasMessageContaining("at most 107");
        String udsRoomless = "/tmp/" + "u".repeat(95);
        assertThatThrownBy(() -> VmSpec.parse("guest-cid=3,socket=/s,uds-path=" + udsRoomless)).hasMessageContaining("'_PORT'");
    }

    @Test
    void aCidOrAFileGivenToTwoVmsIsRefused() {
        VmSpec a = VmSpec.parse("guest-cid=3,socket=/tmp/a,uds-path=/tmp/a.vsock");
        assertThatThrownBy(() -> VmSpecs.checkDistinct(List.of(a, VmSpec.parse("guest-cid=3,socket=/tmp/b"))))
                .hasMessage("guest-cid 3 is given to two --vm");
        assertThatThrownBy(() -> VmSpecs.checkDistinct(List.of(a, VmSpec.parse("guest-cid=4,socket=/tmp/a"))))
                .hasMessage("/tmp/a is both the socket of guest 3 and the socket of guest 4");
        assertThatThrownBy(() -> VmSpecs.checkDistinct(List.of(a, VmSpec.parse("guest-cid=4,socket=/tmp/a.vsock"))))
                .hasMessage("/tmp/a.vsock is both the uds-path of guest 3 and the socket of guest 4");
        VmSpecs.checkDistinct(List.of(a, VmSpec.parse("guest-cid=4,socket=/tmp/b,uds-path=/tmp/b.vsock")));
    }
}
