package io.vsock4j.netty;

import io.vsock4j.VsockAddress;

import java.net.SocketAddress;

/**
 * The addresses the channels take: vsock4j's {@link VsockAddress}, and Netty's own
 * {@code io.netty.channel.epoll.VSockAddress} (from netty-transport-classes-epoll, an optional
 * dependency: it is named only in {@link NettyVSockAddress}, which is loaded only when such an address
 * comes). Anything else fails with a message naming it. Any thread.
 */
final class VsockAddresses {
    private static final String NETTY_VSOCK_ADDRESS = "io.netty.channel.epoll.VSockAddress";

    private VsockAddresses() {
    }

    /** {@code address} as a {@link VsockAddress}, or IllegalArgumentException naming it. */
    static VsockAddress from(SocketAddress address) {
        if (address instanceof VsockAddress v) {
            return v;
        }
        if (address != null && address.getClass().getName().equals(NETTY_VSOCK_ADDRESS)) {
            return NettyVSockAddress.toVsock(address);
        }
        throw new IllegalArgumentException("not a vsock address: " + address
                + (address == null ? "" : " (" + address.getClass().getName() + ")")
                + "; vsock channels take io.vsock4j.VsockAddress or io.netty.channel.epoll.VSockAddress");
    }

    /** Netty's VSockAddress, in a class of its own so the epoll classes are needed only when one is used. */
    private static final class NettyVSockAddress {
        static VsockAddress toVsock(SocketAddress address) {
            io.netty.channel.epoll.VSockAddress netty = (io.netty.channel.epoll.VSockAddress) address;
            // Netty keeps CIDs and ports in signed ints with the kernel's bits (VMADDR_CID_ANY is -1): the
            // same bits as VsockAddress's unsigned ones.
            return VsockAddress.of(netty.getCid(), netty.getPort());
        }
    }
}
