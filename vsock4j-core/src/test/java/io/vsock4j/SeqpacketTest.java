package io.vsock4j;

import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SEQPACKET where the Java engine follows Linux newer than the kernels the conformance suite runs on
 * (6.1, 6.12): the sender's own buffer also caps a message. Boundaries, MSG_EOR, MSG_TRUNC, MSG_PEEK,
 * EMSGSIZE and SO_RCVTIMEO are the suite's (vsock4j-conformance), run on every transport.
 */
class SeqpacketTest extends LoopbackFixture {
    private VsockSeqpacketSocket[] pair(int port) throws Exception {
        VsockSeqpacketServerSocket server = track(VsockSeqpacketServerSocket.bind(machine, VsockAddress.of(VsockAddress.CID_ANY, port)));
        VsockSeqpacketSocket client = track(VsockSeqpacketSocket.connect(machine, VsockAddress.local(port)));
        VsockSeqpacketSocket accepted = track(server.accept());
        return new VsockSeqpacketSocket[] {client, accepted};
    }

    @Test
    void theSendersOwnSmallerBufferAlsoCapsTheMessageSize() throws Exception {
        VsockSeqpacketSocket[] p = pair(8108);
        p[0].setOption(VsockOptions.BUFFER_SIZE, 4096L);
        // Current kernels cap in-flight data at min(peer buf_alloc, own buf_alloc); a larger message
        // could never be completed, so it is refused instead of hanging.
        assertThatThrownBy(() -> p[0].send(new byte[4097])).hasMessageStartingWith("EMSGSIZE");
        assertThat(p[0].send(new byte[4096])).isEqualTo(4096);
        assertThat(p[1].receive(new byte[8192])).isEqualTo(4096);
    }

}
