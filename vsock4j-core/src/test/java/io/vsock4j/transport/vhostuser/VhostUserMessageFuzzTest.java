package io.vsock4j.transport.vhostuser;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Arrays;
import java.util.List;

/**
 * Fuzzes the vhost-user message decoder, the first code a frontend's bytes reach: the input is one
 * message as it comes off the socket (header and payload) plus how many descriptors arrived with it.
 * {@link VhostUserMessage#decodeHeader} and {@link VhostUserMessage#decode} may refuse it only with a
 * {@link VhostUserProtocolException}; a message they accept must be what its request promises (version 1,
 * no reply bit, a size its payload kind allows, the descriptor count its rule gives, a memory table of at
 * most 8 regions with one descriptor each, a config payload whose size field matches), every accessor of
 * its payload kind must read it without throwing, and encoding it again gives the same bytes.
 *
 * <p>Input layout, for Jazzer's {@link FuzzedDataProvider}: the last byte is the descriptor count (mod
 * 11), the rest is the message. {@code mvn test} replays the seed corpus under
 * {@code src/test/resources/io/vsock4j/transport/vhostuser/VhostUserMessageFuzzTestInputs/decode/}: QEMU
 * 7.2's requests to a vhost-user-vsock backend, and what a coverage run kept. To fuzz with coverage
 * (Jazzer 0.24.0 cannot instrument Java 25 class files, so {@code JAZZER_FUZZ=1 mvn test} fuzzes blind):
 * {@code scripts/fuzz/fuzz.sh vhost-user-message [SECONDS]}.
 */
public class VhostUserMessageFuzzTest {
    private static final int MAX_FDS = 10;

    @FuzzTest(maxDuration = "10m")
    void decode(FuzzedDataProvider data) {
        fuzzerTestOneInput(data);
    }

    /** One input; also the entry point of Jazzer's standalone driver. */
    public static void fuzzerTestOneInput(FuzzedDataProvider data) {
        int fdCount = data.consumeInt(0, MAX_FDS);
        byte[] bytes = data.consumeRemainingAsBytes();
        if (bytes.length < VhostUserMessage.HEADER_BYTES) {
            return; // MessageChannel reports a short header itself, before any decoding
        }
        VhostUserMessage.Header header;
        try {
            header = VhostUserMessage.decodeHeader(bytes);
        } catch (VhostUserProtocolException e) {
            return;
        }
        checkHeader(header);
        if (bytes.length < VhostUserMessage.HEADER_BYTES + header.size()) {
            return; // a stream that ends inside the payload: MessageChannel's check
        }
        byte[] payload = Arrays.copyOfRange(bytes, VhostUserMessage.HEADER_BYTES, VhostUserMessage.HEADER_BYTES + header.size());
        int[] fds = new int[fdCount];
        for (int i = 0; i < fdCount; i++) {
            fds[i] = 100 + i; // never used as descriptors: decode only counts them
        }
        VhostUserMessage m;
        try {
            m = VhostUserMessage.decode(header, payload, fds);
        } catch (VhostUserProtocolException e) {
            return;
        }
        checkMessage(m, header, payload, fdCount);
        byte[] again = VhostUserMessage.encode(header.request().code, header.flags(), payload);
        if (!Arrays.equals(again, 0, again.length, bytes, 0, again.length)) {
            throw new AssertionError("encoding " + m + " again gave other bytes");
        }
    }

    private static void checkHeader(VhostUserMessage.Header h) {
        PayloadKind kind = h.request().payload;
        if ((h.flags() & VhostUserMessage.VERSION_MASK) != VhostUserMessage.VERSION
                || (h.flags() & VhostUserMessage.FLAG_REPLY) != 0
                || h.size() < kind.minBytes || h.size() > kind.maxBytes || h.size() > VhostUserMessage.MAX_PAYLOAD_BYTES) {
            throw new AssertionError("accepted header " + h);
        }
    }

    private static void checkMessage(VhostUserMessage m, VhostUserMessage.Header h, byte[] payload, int fdCount) {
        if (m.fds().length != fdCount) {
            throw new AssertionError(m + " lost descriptors");
        }
        switch (h.request().payload) {
            case NONE, UNSUPPORTED -> expectFds(m, h.request().fds == VhostUserRequest.Fds.ANY ? fdCount : 0);
            case U64 -> {
                long word = m.u64();
                if (h.request().fds == VhostUserRequest.Fds.ONE_UNLESS_NOFD) {
                    if ((word & ~(VhostUserMessage.VRING_INDEX_MASK | VhostUserMessage.VRING_NOFD)) != 0) {
                        throw new AssertionError(m + " accepted reserved bits in 0x" + Long.toHexString(word));
                    }
                    expectFds(m, (word & VhostUserMessage.VRING_NOFD) != 0 ? 0 : 1);
                } else {
                    expectFds(m, 0);
                }
            }
            case VRING_STATE -> {
                m.vringState();
                expectFds(m, 0);
            }
            case VRING_ADDRESS -> {
                VringAddress a = m.vringAddress();
                if (!Arrays.equals(a.encode(), payload)) {
                    throw new AssertionError(a + " does not encode back to its payload");
                }
                expectFds(m, 0);
            }
            case MEMORY_TABLE -> {
                List<RegionDescription> regions = m.regions();
                if (regions.size() > VhostUserMessage.MAX_REGIONS || regions.size() != fdCount) {
                    throw new AssertionError(m + " accepted " + regions.size() + " regions with " + fdCount + " descriptors");
                }
                byte[] table = VhostUserMessage.memoryTablePayload(regions);
                System.arraycopy(payload, 4, table, 4, 4); // the padding word is not kept
                if (!Arrays.equals(table, payload)) {
                    throw new AssertionError(m + ": the regions do not encode back to the table");
                }
            }
            case CONFIG -> {
                ConfigSpace c = m.config();
                if (c.size() < 0 || c.size() > VhostUserMessage.MAX_CONFIG_BYTES || c.bytes().length != c.size()
                        || ConfigSpace.HEADER_BYTES + c.size() != payload.length) {
                    throw new AssertionError(m + " accepted config " + c.size() + " bytes in " + payload.length);
                }
                expectFds(m, 0);
            }
        }
    }

    private static void expectFds(VhostUserMessage m, int n) {
        if (m.fds().length != n) {
            throw new AssertionError(m + " accepted with " + m.fds().length + " descriptors, its rule gives " + n);
        }
    }
}
