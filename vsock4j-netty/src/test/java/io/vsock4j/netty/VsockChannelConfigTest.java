package io.vsock4j.netty;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a new channel's configuration hands out before any option is set. */
class VsockChannelConfigTest {
    @Test
    void handlersGetHeapBuffersSoWritesNeedNoCopyIntoTheEnginesArrays() {
        VsockChannel channel = new VsockChannel();
        ByteBuf b = channel.alloc().buffer(1024);
        try {
            assertThat(b.hasArray()).as("ctx.alloc().buffer() on a vsock channel").isTrue();
        } finally {
            b.release();
        }
    }
}
