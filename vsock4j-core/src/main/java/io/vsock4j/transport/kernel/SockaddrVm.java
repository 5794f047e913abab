package io.vsock4j.transport.kernel;

import io.vsock4j.VsockAddress;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * {@code struct sockaddr_vm} (include/uapi/linux/vm_sockets.h), 16 bytes in host byte order:
 * <pre>
 *  0      2          4        8        12      13          16
 *  +------+----------+--------+--------+-------+-----------+
 *  |family|reserved1 |  port  |  cid   | flags | zero[3]   |
 *  +------+----------+--------+--------+-------+-----------+
 * </pre>
 * Stateless helpers.
 */
final class SockaddrVm {
    private SockaddrVm() {
    }

    static void write(MemorySegment s, VsockAddress a) {
        s.fill((byte) 0);
        s.set(JAVA_SHORT, 0, (short) LinuxAbi.AF_VSOCK);
        s.set(JAVA_INT, 4, a.port());
        s.set(JAVA_INT, 8, a.cid());
        s.set(JAVA_BYTE, 12, (byte) a.flags());
    }

    static VsockAddress read(MemorySegment s) {
        return VsockAddress.of(s.get(JAVA_INT, 8), s.get(JAVA_INT, 4), s.get(JAVA_BYTE, 12) & 0xFF);
    }
}
