package io.vsock4j.transport.vhostuser;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * One frontend's connection, request by request: the two feature negotiations, the memory table, each
 * ring's settings and eventfds, and when the device runs a ring.
 *
 * <p>What QEMU 7.2 sends a vhost-user-vsock backend: at start-up GET_FEATURES, GET_PROTOCOL_FEATURES,
 * SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_OWNER, GET_FEATURES, SET_VRING_CALL and SET_VRING_ERR per
 * ring, GET_CONFIG; when the guest driver starts the device SET_FEATURES, SET_MEM_TABLE, then per ring
 * SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR, SET_VRING_KICK, SET_VRING_CALL, and SET_VRING_ENABLE 1
 * per ring; when it stops, SET_VRING_ENABLE 0 and GET_VRING_BASE per ring.
 *
 * <p>Ring life (docs/interop/vhost-user.rst, "Ring states"): a ring starts once it has a kick and is
 * enabled (always, when VHOST_USER_F_PROTOCOL_FEATURES is not negotiated), and stops at GET_VRING_BASE,
 * which replies the next available index and drops the kick and call. The spec's "started but disabled"
 * state, where a ring is processed without side effects, is folded into stopped here: SET_VRING_ENABLE 0
 * stops the ring in the device and keeps its index, so nothing the device does can be seen while it is
 * disabled. Any change to a running ring (size, addresses, base, kick, call, the negotiated features, the
 * memory table) stops it in the device, applies the change and starts it again, so the device never
 * uses a closed eventfd or unmapped memory.
 *
 * <p>Violations close the connection ({@link VhostUserProtocolException}): a ring index beyond the
 * device's, features or protocol features that were not offered, and requests gated on a protocol
 * feature this backend never offers. A request that is well formed but cannot be carried out (a ring size
 * that is no power of two, a failed mmap, a write to read-only config, SET_VRING_ENABLE without
 * VHOST_USER_F_PROTOCOL_FEATURES) is logged and answered as failed when REPLY_ACK asks; GET_CONFIG fails
 * with an empty payload, as the spec says.
 *
 * <p>Thread-safety: confined to the backend's thread, which also makes every device call.
 */
final class FrontendSession {
    private static final System.Logger LOG = System.getLogger(FrontendSession.class.getName());
    /** The largest split virtqueue (virtio 1.2, 2.7 "Split Virtqueues": Queue Size up to 32768). */
    private static final int MAX_SPLIT_RING_SIZE = 32768;
    /** A split ring's available index is a le16. */
    private static final int AVAIL_INDEX_MASK = 0xffff;
    /** REPLY_ACK payloads: zero for success, non-zero for failure. */
    private static final long ACK_OK = 0;
    private static final long ACK_FAILED = 1;

    private final VhostUserDevice device;
    private final MessageChannel channel;
    private final long offeredFeatures;
    private final Vring[] rings;
    private long ackedFeatures;
    private long ackedProtocol;
    private boolean owner;
    private MappedMemory memory;

    FrontendSession(VhostUserDevice device, MessageChannel channel) {
        this.device = device;
        this.channel = channel;
        this.offeredFeatures = device.features() | VhostUserFeatures.F_PROTOCOL_FEATURES;
        this.rings = new Vring[device.queueCount()];
        for (int i = 0; i < rings.length; i++) {
            rings[i] = new Vring();
        }
    }

    /**
     * Serves requests until the frontend closes the connection.
     *
     * @throws VhostUserProtocolException when the frontend breaks the protocol
     * @throws IOException when the socket fails or the backend is closing
     */
    void serve() throws IOException {
        VhostUserMessage m;
        while ((m = channel.readRequest()) != null) {
            handle(m);
        }
    }

    private void handle(VhostUserMessage m) throws IOException {
        LOG.log(DEBUG, "request {0}", m);
        int[] fds = m.fds();
        boolean ok;
        try {
            ok = dispatch(m, fds);
        } finally {
            for (int fd : fds) {
                if (fd >= 0) {
                    UnixNative.close(fd);
                }
            }
        }
        if (!m.request().hasReply && m.needReply() && VhostUserFeatures.has(ackedProtocol, VhostUserFeatures.PROTOCOL_F_REPLY_ACK)) {
            channel.reply(m.request(), VhostUserMessage.u64Payload(ok ? ACK_OK : ACK_FAILED));
        }
    }

    /** Carries out one request; true when it succeeded. A descriptor kept is replaced by -1 in {@code fds}. */
    private boolean dispatch(VhostUserMessage m, int[] fds) throws IOException {
        return switch (m.request()) {
            case GET_FEATURES -> replyU64(m, offeredFeatures);
            case SET_FEATURES -> setFeatures(m.u64());
            case GET_PROTOCOL_FEATURES -> replyU64(m, VhostUserFeatures.OFFERED_PROTOCOL);
            case SET_PROTOCOL_FEATURES -> setProtocolFeatures(m.u64());
            case GET_QUEUE_NUM -> replyU64(m, rings.length);
            case SET_OWNER -> setOwner();
            case RESET_OWNER -> resetOwner();
            case SET_MEM_TABLE -> setMemTable(m.regions(), fds);
            case SET_VRING_NUM -> setVringNum(m.vringState());
            case SET_VRING_ADDR -> setVringAddr(m.vringAddress());
            case SET_VRING_BASE -> setVringBase(m.vringState());
            case GET_VRING_BASE -> getVringBase(m.vringState());
            case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> setVringFd(m.request(), m.u64(), fds);
            case SET_VRING_ENABLE -> setVringEnable(m.vringState());
            case GET_CONFIG -> getConfig(m.config());
            case SET_CONFIG -> setConfig(m.config());
            default -> throw new VhostUserProtocolException(m.request().specName()
                    + ": needs a feature this backend does not offer");
        };
    }

    private boolean replyU64(VhostUserMessage m, long value) throws IOException {
        channel.reply(m.request(), VhostUserMessage.u64Payload(value));
        return true;
    }

    private boolean setFeatures(long features) throws IOException {
        if ((features & ~offeredFeatures) != 0) {
            throw new VhostUserProtocolException("VHOST_USER_SET_FEATURES: 0x" + Long.toHexString(features)
                    + " sets bits not offered (0x" + Long.toHexString(features & ~offeredFeatures) + ")");
        }
        if (features != ackedFeatures) {
            stopRunning();
            ackedFeatures = features;
        }
        for (int i = 0; i < rings.length; i++) {
            startIfReady(i);
        }
        return true;
    }

    private boolean setProtocolFeatures(long features) throws IOException {
        if ((features & ~VhostUserFeatures.OFFERED_PROTOCOL) != 0) {
            throw new VhostUserProtocolException("VHOST_USER_SET_PROTOCOL_FEATURES: 0x" + Long.toHexString(features)
                    + " sets bits not offered (0x" + Long.toHexString(features & ~VhostUserFeatures.OFFERED_PROTOCOL) + ")");
        }
        ackedProtocol = features;
        return true;
    }

    private boolean setOwner() {
        if (owner) {
            LOG.log(DEBUG, "VHOST_USER_SET_OWNER again on the same connection");
        }
        owner = true;
        return true;
    }

    /** Deprecated in the spec ("disable all rings"); here: stop everything and forget the virtio features. */
    private boolean resetOwner() {
        LOG.log(INFO, "frontend reset its ownership");
        release();
        ackedFeatures = 0;
        owner = false;
        return true;
    }

    private boolean setMemTable(List<RegionDescription> table, int[] fds) {
        MappedMemory next;
        try {
            next = MappedMemory.map(table, fds);
        } catch (IOException e) {
            LOG.log(WARNING, "VHOST_USER_SET_MEM_TABLE failed; keeping the previous table: " + e.getMessage());
            return false;
        }
        List<Integer> running = stopRunning();
        device.memoryChanged(next.regions());
        MappedMemory old = memory;
        memory = next;
        if (old != null) {
            old.close();
        }
        running.forEach(this::startIfReady);
        return true;
    }

    private boolean setVringNum(VringState s) throws IOException {
        Vring r = ring(s.index(), "VHOST_USER_SET_VRING_NUM");
        int n = s.num();
        if (n <= 0 || (n & (n - 1)) != 0 || n > Math.min(device.maxQueueSize(), MAX_SPLIT_RING_SIZE)) {
            LOG.log(WARNING, "VHOST_USER_SET_VRING_NUM: ring {0} size {1} is not a power of two up to {2}",
                    s.index(), Integer.toUnsignedString(n), Math.min(device.maxQueueSize(), MAX_SPLIT_RING_SIZE));
            return false;
        }
        reconfigure(s.index(), () -> r.size = n);
        return true;
    }

    private boolean setVringAddr(VringAddress a) throws IOException {
        Vring r = ring(a.index(), "VHOST_USER_SET_VRING_ADDR");
        reconfigure(a.index(), () -> r.address = a);
        return true;
    }

    private boolean setVringBase(VringState s) throws IOException {
        Vring r = ring(s.index(), "VHOST_USER_SET_VRING_BASE");
        if ((s.num() & ~AVAIL_INDEX_MASK) != 0) {
            LOG.log(WARNING, "VHOST_USER_SET_VRING_BASE: ring {0} base 0x{1} is not a split ring's le16 index",
                    s.index(), Integer.toHexString(s.num()));
            return false;
        }
        reconfigure(s.index(), () -> r.nextAvail = s.num());
        return true;
    }

    private boolean getVringBase(VringState s) throws IOException {
        Vring r = ring(s.index(), "VHOST_USER_GET_VRING_BASE");
        if (r.started) {
            r.nextAvail = stop(s.index());
        }
        r.dropKickAndCall();
        channel.reply(VhostUserRequest.GET_VRING_BASE, new VringState(s.index(), r.nextAvail).encode());
        return true;
    }

    private boolean setVringFd(VhostUserRequest request, long word, int[] fds) throws IOException {
        int index = (int) (word & VhostUserMessage.VRING_INDEX_MASK);
        Vring r = ring(index, request.specName());
        EventFd e = null;
        if ((word & VhostUserMessage.VRING_NOFD) == 0) {
            int fd = fds[0];
            fds[0] = -1;
            e = EventFd.adopt(fd);
        }
        EventFd given = e;
        switch (request) {
            case SET_VRING_KICK -> reconfigure(index, () -> {
                closeIfSet(r.kick);
                r.kick = given;
                r.kickSet = true;
            });
            case SET_VRING_CALL -> reconfigure(index, () -> {
                closeIfSet(r.call);
                r.call = given;
            });
            default -> {
                closeIfSet(r.err);
                r.err = given;
            }
        }
        return true;
    }

    private boolean setVringEnable(VringState s) throws IOException {
        Vring r = ring(s.index(), "VHOST_USER_SET_VRING_ENABLE");
        if ((ackedFeatures & VhostUserFeatures.F_PROTOCOL_FEATURES) == 0 || (s.num() != 0 && s.num() != 1)) {
            LOG.log(WARNING, "VHOST_USER_SET_VRING_ENABLE {0} on ring {1} refused: needs "
                    + "VHOST_USER_F_PROTOCOL_FEATURES negotiated and a value of 0 or 1", s.num(), s.index());
            return false;
        }
        if (s.num() == 1) {
            r.enabledByFrontend = true;
            startIfReady(s.index());
        } else {
            if (r.started) {
                r.nextAvail = stop(s.index());
            }
            r.enabledByFrontend = false;
        }
        return true;
    }

    private boolean getConfig(ConfigSpace request) throws IOException {
        byte[] config = device.config();
        boolean negotiated = VhostUserFeatures.has(ackedProtocol, VhostUserFeatures.PROTOCOL_F_CONFIG);
        if (!negotiated || !inside(request, config)) {
            LOG.log(WARNING, "VHOST_USER_GET_CONFIG of {0} bytes at {1} refused ({2}); replying with no payload",
                    request.size(), request.offset(), negotiated ? "outside the " + config.length + "-byte config"
                            : "VHOST_USER_PROTOCOL_F_CONFIG not negotiated");
            channel.reply(VhostUserRequest.GET_CONFIG, new byte[0]);
            return false;
        }
        byte[] bytes = Arrays.copyOfRange(config, request.offset(), request.offset() + request.size());
        channel.reply(VhostUserRequest.GET_CONFIG, new ConfigSpace(request.offset(), request.size(), request.flags(), bytes).encode());
        return true;
    }

    /** The device's config is read-only: a write succeeds only when it changes nothing. */
    private boolean setConfig(ConfigSpace write) {
        byte[] config = device.config();
        boolean ok = VhostUserFeatures.has(ackedProtocol, VhostUserFeatures.PROTOCOL_F_CONFIG) && inside(write, config)
                && Arrays.equals(write.bytes(), Arrays.copyOfRange(config, write.offset(), write.offset() + write.size()));
        if (!ok) {
            LOG.log(WARNING, "VHOST_USER_SET_CONFIG of {0} bytes at {1} refused: the config space is read-only",
                    write.size(), write.offset());
        }
        return ok;
    }

    private static boolean inside(ConfigSpace c, byte[] config) {
        return c.offset() >= 0 && c.size() >= 0 && (long) c.offset() + c.size() <= config.length;
    }

    private Vring ring(int index, String request) throws VhostUserProtocolException {
        if (index < 0 || index >= rings.length) {
            throw new VhostUserProtocolException(request + ": ring " + Integer.toUnsignedString(index)
                    + ", the device has " + rings.length);
        }
        return rings[index];
    }

    private boolean enabled(Vring r) {
        return (ackedFeatures & VhostUserFeatures.F_PROTOCOL_FEATURES) == 0 || r.enabledByFrontend;
    }

    /** Applies {@code change} to a ring, stopping it in the device around the change if it runs. */
    private void reconfigure(int index, Runnable change) {
        Vring r = rings[index];
        if (r.started) {
            r.nextAvail = stop(index);
        }
        change.run();
        startIfReady(index);
    }

    /** Stops every running ring; returns their indexes. */
    private List<Integer> stopRunning() {
        List<Integer> running = new ArrayList<>();
        for (int i = 0; i < rings.length; i++) {
            if (rings[i].started) {
                rings[i].nextAvail = stop(i);
                running.add(i);
            }
        }
        return running;
    }

    private int stop(int index) {
        rings[index].started = false;
        return device.queueStopped(index) & AVAIL_INDEX_MASK;
    }

    private void startIfReady(int index) {
        Vring r = rings[index];
        if (r.started || !r.kickSet || !enabled(r)) {
            return;
        }
        if (r.size == 0 || r.address == null || memory == null) {
            LOG.log(WARNING, "ring {0} has a kick and is enabled, but its size, addresses or the memory table "
                    + "are missing; not starting it", index);
            return;
        }
        device.queueStarted(index, r.setup(), r.kick, r.call, ackedFeatures);
        r.started = true;
    }

    private static void closeIfSet(EventFd e) {
        if (e != null) {
            e.close();
        }
    }

    /**
     * Ends everything the connection set up: stops running rings, tells the device the frontend is gone,
     * unmaps the memory table and closes every ring's eventfds. A device that throws is logged, and the
     * release goes on.
     */
    void release() {
        for (int i = 0; i < rings.length; i++) {
            if (rings[i].started) {
                try {
                    stop(i);
                } catch (RuntimeException e) {
                    LOG.log(WARNING, "device failed to stop ring " + i, e);
                }
            }
        }
        try {
            device.frontendGone();
        } catch (RuntimeException e) {
            LOG.log(WARNING, "device failed on frontendGone", e);
        }
        if (memory != null) {
            memory.close();
            memory = null;
        }
        for (Vring r : rings) {
            r.reset();
        }
    }
}
