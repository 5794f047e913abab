package io.vsock4j.transport.vhostuser;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One vhost-user message and its codec (docs/interop/vhost-user.rst, "Message Specification"). A
 * 12-byte header, then {@code size} payload bytes; the descriptors a request needs (memory regions,
 * eventfds) travel beside its bytes as SCM_RIGHTS. Every number is in host byte order, which on the
 * x86-64 hosts vsock4j runs on is little-endian.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------------------------------------------------------+
 * |               request (le32): VHOST_USER_* code               |  0
 * +---------------------------------------------------------------+
 * |   flags (le32): bits 0-1 version (0x1), bit 2 reply (0x4),    |  4
 * |   bit 3 need_reply (0x8); the other bits are zero             |
 * +---------------------------------------------------------------+
 * |               size (le32): payload bytes that follow          |  8
 * +---------------------------------------------------------------+
 * |               payload: u64, vring state, vring address,       | 12
 * |               memory table or config space ({@link PayloadKind})
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <p>{@link #decodeHeader} and {@link #decode} check everything a frontend controls before anything
 * acts on it: the version bits, a reply bit in a request, an unknown request code, a size over
 * {@link #MAX_PAYLOAD_BYTES} or outside what the request's payload kind allows, a memory table with more
 * than {@link #MAX_REGIONS} regions or whose region count disagrees with its size or its descriptors,
 * a config payload whose size field disagrees with the message size, a ring index word with reserved
 * bits, and a descriptor count the request does not take. A failed check is a
 * {@link VhostUserProtocolException} naming it. Immutable; any thread.
 */
final class VhostUserMessage {
    static final int HEADER_BYTES = 12;
    static final int VERSION = 0x1;
    static final int VERSION_MASK = 0x3;
    static final int FLAG_REPLY = 0x4;
    static final int FLAG_NEED_REPLY = 0x8;
    /** The largest payload accepted for any request; QEMU's largest is a 264-byte memory table. */
    static final int MAX_PAYLOAD_BYTES = 4096;
    /** VHOST_MEMORY_BASELINE_NREGIONS: regions in one SET_MEM_TABLE (QEMU hw/virtio/vhost-user.c). */
    static final int MAX_REGIONS = 8;
    static final int REGION_BYTES = RegionDescription.BYTES;
    /** le32 nregions, le32 padding. */
    static final int MEMORY_TABLE_HEADER_BYTES = 8;
    static final int CONFIG_HEADER_BYTES = ConfigSpace.HEADER_BYTES;
    /** VHOST_USER_MAX_CONFIG_SIZE (QEMU include/hw/virtio/vhost-user.h). */
    static final int MAX_CONFIG_BYTES = 256;
    /** In the u64 of SET_VRING_KICK, _CALL and _ERR: bits 0-7 are the ring index... */
    static final long VRING_INDEX_MASK = 0xff;
    /** ...and bit 8 says no descriptor came with it (VHOST_USER_VRING_NOFD_MASK). */
    static final long VRING_NOFD = 0x100;

    /** The header's three fields, checked. */
    record Header(VhostUserRequest request, int flags, int size) {
        boolean needReply() {
            return (flags & FLAG_NEED_REPLY) != 0;
        }
    }

    private final Header header;
    private final ByteBuffer payload;
    private final int[] fds;

    private VhostUserMessage(Header header, byte[] payload, int[] fds) {
        this.header = header;
        this.payload = ByteBuffer.wrap(payload).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        this.fds = fds;
    }

    /** Checks a request header read off the socket. */
    static Header decodeHeader(byte[] bytes) throws VhostUserProtocolException {
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        int code = b.getInt(0);
        int flags = b.getInt(4);
        int size = b.getInt(8);
        VhostUserRequest request = VhostUserRequest.of(code);
        if (request == null) {
            throw new VhostUserProtocolException("unknown request code " + Integer.toUnsignedString(code));
        }
        if ((flags & VERSION_MASK) != VERSION) {
            throw new VhostUserProtocolException(request.specName() + ": version " + (flags & VERSION_MASK) + ", not 1");
        }
        if ((flags & FLAG_REPLY) != 0) {
            throw new VhostUserProtocolException(request.specName() + ": reply flag set on a request");
        }
        if (Integer.compareUnsigned(size, MAX_PAYLOAD_BYTES) > 0) {
            throw new VhostUserProtocolException(request.specName() + ": size " + Integer.toUnsignedString(size)
                    + " over the " + MAX_PAYLOAD_BYTES + "-byte limit");
        }
        if (size < request.payload.minBytes || size > request.payload.maxBytes) {
            throw new VhostUserProtocolException(request.specName() + ": size " + size + ", the request takes "
                    + (request.payload.minBytes == request.payload.maxBytes ? String.valueOf(request.payload.minBytes)
                    : request.payload.minBytes + " to " + request.payload.maxBytes));
        }
        return new Header(request, flags, size);
    }

    /**
     * Checks the payload and descriptors against the header. On failure the caller still owns and must
     * close {@code fds}.
     */
    static VhostUserMessage decode(Header header, byte[] payload, int[] fds) throws VhostUserProtocolException {
        VhostUserMessage m = new VhostUserMessage(header, payload, fds);
        String name = header.request().specName();
        int expectedFds = switch (header.request().fds) {
            case NONE -> 0;
            case ANY -> fds.length;
            case ONE_UNLESS_NOFD -> {
                long word = m.payload.getLong(0);
                if ((word & ~(VRING_INDEX_MASK | VRING_NOFD)) != 0) {
                    throw new VhostUserProtocolException(name + ": reserved bits set in 0x" + Long.toHexString(word));
                }
                yield (word & VRING_NOFD) != 0 ? 0 : 1;
            }
            case ONE_PER_REGION -> m.checkMemoryTable(name);
        };
        if (header.request().payload == PayloadKind.CONFIG) {
            int declared = m.payload.getInt(4);
            if (declared < 0 || declared > MAX_CONFIG_BYTES || CONFIG_HEADER_BYTES + declared != header.size()) {
                throw new VhostUserProtocolException(name + ": config size " + Integer.toUnsignedString(declared)
                        + " in a " + header.size() + "-byte payload");
            }
        }
        if (fds.length != expectedFds) {
            throw new VhostUserProtocolException(name + ": " + fds.length + " descriptors, the request takes " + expectedFds);
        }
        return m;
    }

    /** The table's region count, after checking it against the size. */
    private int checkMemoryTable(String name) throws VhostUserProtocolException {
        int n = payload.getInt(0);
        if (n < 0 || n > MAX_REGIONS) {
            throw new VhostUserProtocolException(name + ": " + Integer.toUnsignedString(n) + " regions, at most " + MAX_REGIONS);
        }
        if (payload.capacity() != MEMORY_TABLE_HEADER_BYTES + n * REGION_BYTES) {
            throw new VhostUserProtocolException(name + ": " + n + " regions in a " + payload.capacity() + "-byte payload");
        }
        return n;
    }

    VhostUserRequest request() {
        return header.request();
    }

    boolean needReply() {
        return header.needReply();
    }

    /** The descriptors that came with the message; whoever handles it closes each or keeps it. */
    int[] fds() {
        return fds.clone();
    }

    long u64() {
        return payload.getLong(0);
    }

    VringState vringState() {
        return VringState.decode(payload);
    }

    VringAddress vringAddress() {
        return VringAddress.decode(payload);
    }

    List<RegionDescription> regions() {
        int n = payload.getInt(0);
        List<RegionDescription> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(RegionDescription.decode(payload, MEMORY_TABLE_HEADER_BYTES + i * REGION_BYTES));
        }
        return out;
    }

    ConfigSpace config() {
        return ConfigSpace.decode(payload);
    }

    /** Header and payload as sent: {@code flags} should hold the version and any reply or need_reply bit. */
    static byte[] encode(int code, int flags, byte[] payload) {
        return ByteBuffer.allocate(HEADER_BYTES + payload.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(code).putInt(flags).putInt(payload.length).put(payload).array();
    }

    /** A reply to {@code request} carrying {@code payload}. */
    static byte[] reply(VhostUserRequest request, byte[] payload) {
        return encode(request.code, VERSION | FLAG_REPLY, payload);
    }

    static byte[] u64Payload(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    static byte[] memoryTablePayload(List<RegionDescription> regions) {
        ByteBuffer b = ByteBuffer.allocate(MEMORY_TABLE_HEADER_BYTES + regions.size() * REGION_BYTES)
                .order(ByteOrder.LITTLE_ENDIAN).putInt(regions.size()).putInt(0);
        regions.forEach(r -> r.encode(b));
        return b.array();
    }

    @Override
    public String toString() {
        return request().specName() + "[flags=0x" + Integer.toHexString(header.flags()) + ", size=" + header.size()
                + ", fds=" + fds.length + "]";
    }
}
