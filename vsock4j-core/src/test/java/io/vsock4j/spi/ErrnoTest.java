package io.vsock4j.spi;

import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Pins {@link Errno}, the one errno table: Linux's numbers, no duplicates, and the exception each maps to. */
final class ErrnoTest {

    /**
     * Every errno the kernel transport handles by number or can receive from AF_VSOCK (af_vsock.c,
     * virtio_transport_common.c, and the epoll/ioctl/fcntl calls it makes) or from the vhost-user
     * backend's AF_UNIX sockets, mmap and eventfds, with the number in
     * include/uapi/asm-generic/errno-base.h or errno.h. Written out here so the table cannot drift from
     * the headers unnoticed.
     */
    private static final Map<String, Integer> KERNEL_NUMBERS = Map.ofEntries(
            Map.entry("EPERM", 1), Map.entry("ENOENT", 2), Map.entry("EINTR", 4), Map.entry("EBADF", 9),
            Map.entry("EAGAIN", 11), Map.entry("ENOMEM", 12), Map.entry("EACCES", 13), Map.entry("EFAULT", 14),
            Map.entry("EEXIST", 17), Map.entry("ENODEV", 19), Map.entry("EINVAL", 22), Map.entry("ENFILE", 23),
            Map.entry("EMFILE", 24), Map.entry("ENOTTY", 25),
            Map.entry("EPIPE", 32), Map.entry("ENAMETOOLONG", 36), Map.entry("EPROTO", 71),
            Map.entry("ENOTSOCK", 88), Map.entry("EMSGSIZE", 90),
            Map.entry("EPROTOTYPE", 91), Map.entry("ENOPROTOOPT", 92), Map.entry("ESOCKTNOSUPPORT", 94),
            Map.entry("EOPNOTSUPP", 95), Map.entry("EAFNOSUPPORT", 97), Map.entry("EADDRINUSE", 98),
            Map.entry("EADDRNOTAVAIL", 99), Map.entry("ENETUNREACH", 101), Map.entry("ECONNABORTED", 103),
            Map.entry("ECONNRESET", 104),
            Map.entry("EISCONN", 106), Map.entry("ENOTCONN", 107), Map.entry("ESHUTDOWN", 108),
            Map.entry("ETIMEDOUT", 110), Map.entry("ECONNREFUSED", 111), Map.entry("EHOSTUNREACH", 113),
            Map.entry("EALREADY", 114), Map.entry("EINPROGRESS", 115));

    @Test
    void numbersAreUnique() {
        Map<Integer, Errno> seen = new HashMap<>();
        for (Errno e : Errno.values()) {
            Errno before = seen.put(e.number(), e);
            assertThat(before).as("%s and %s share number %d", before, e, e.number()).isNull();
        }
    }

    @Test
    void everyKernelErrnoHasItsLinuxNumber() {
        KERNEL_NUMBERS.forEach((name, number) -> {
            Errno e = Errno.valueOf(name);
            assertThat(e.number()).as(name).isEqualTo(number);
            assertThat(Errno.of(number)).as("Errno.of(%d)", number).isSameAs(e);
        });
    }

    @Test
    void tableHoldsNothingBeyondTheKernelList() {
        // A new entry belongs in KERNEL_NUMBERS too, with its header number checked.
        for (Errno e : Errno.values()) {
            assertThat(KERNEL_NUMBERS).as(e.name()).containsEntry(e.name(), e.number());
        }
    }

    @Test
    void unknownNumbersAreNotInTheTable() {
        assertThat(Errno.of(0)).isNull();
        assertThat(Errno.of(-11)).isNull();
        assertThat(Errno.of(4095)).isNull();
    }

    @Test
    void everyEntryHasStrerrorText() {
        for (Errno e : Errno.values()) {
            assertThat(e.text()).as(e.name()).isNotBlank();
        }
    }

    @Test
    void messageCarriesNameTextAndContext() {
        assertThat(Errno.EADDRINUSE.message("bind to 3:1024"))
                .isEqualTo("EADDRINUSE: Address already in use (bind to 3:1024)");
        assertThat(Errno.EINVAL.message(null)).isEqualTo("EINVAL: Invalid argument");
        assertThat(Errno.EINVAL.message("")).isEqualTo("EINVAL: Invalid argument");
    }

    @Test
    void exceptionTypesFollowTheTable() {
        assertThat(Errno.EADDRINUSE.exception("x")).isExactlyInstanceOf(BindException.class);
        assertThat(Errno.EADDRNOTAVAIL.exception("x")).isExactlyInstanceOf(BindException.class);
        assertThat(Errno.EACCES.exception("x")).isExactlyInstanceOf(BindException.class);
        assertThat(Errno.ETIMEDOUT.exception("x")).isExactlyInstanceOf(SocketTimeoutException.class);
        assertThat(Errno.EAGAIN.exception("x")).isExactlyInstanceOf(SocketTimeoutException.class);
        assertThat(Errno.ENODEV.exception("x")).isExactlyInstanceOf(NoRouteToHostException.class);
        assertThat(Errno.ENETUNREACH.exception("x")).isExactlyInstanceOf(NoRouteToHostException.class);
        assertThat(Errno.EHOSTUNREACH.exception("x")).isExactlyInstanceOf(NoRouteToHostException.class);
        assertThat(Errno.ECONNREFUSED.exception("x")).isExactlyInstanceOf(ConnectException.class);
        assertThat(Errno.ECONNRESET.exception("x")).isExactlyInstanceOf(SocketException.class);
        assertThat(Errno.ENOTTY.exception("x")).isExactlyInstanceOf(SocketException.class)
                .hasMessage("ENOTTY: Inappropriate ioctl for device (x)");
    }

    @Test
    void connectFailuresAreConnectExceptions() {
        assertThat(Errno.ECONNRESET.connectException("x")).isExactlyInstanceOf(ConnectException.class);
        assertThat(Errno.ECONNREFUSED.connectException("x")).isExactlyInstanceOf(ConnectException.class);
        assertThat(Errno.EPROTO.connectException("x")).isExactlyInstanceOf(ConnectException.class);
        assertThat(Errno.ETIMEDOUT.connectException("x")).isExactlyInstanceOf(SocketTimeoutException.class);
        assertThat(Errno.ENODEV.connectException("x")).isExactlyInstanceOf(NoRouteToHostException.class);
    }

    @Test
    void socketClosedIsTheJdksMessage() {
        SocketException closed = Errno.socketClosed();
        assertThat(closed).isExactlyInstanceOf(SocketException.class).hasMessage("Socket closed");
        assertThat(Errno.socketClosed()).as("a fresh exception each time").isNotSameAs(closed);
    }
}
