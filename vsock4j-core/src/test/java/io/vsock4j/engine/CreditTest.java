package io.vsock4j.engine;

import io.vsock4j.wire.Packet;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CreditTest {
    @Test
    void spaceIsTheSmallerBufferLessWhatIsInFlight() {
        Credit c = new Credit(256 * 1024);
        assertThat(c.txSpace()).as("nothing heard from the peer yet").isZero();
        assertThat(c.updateFromPeer(64 * 1024, 0)).isTrue();
        assertThat(c.txSpace()).isEqualTo(64 * 1024);
        c.onSent(60 * 1024);
        assertThat(c.txSpace()).isEqualTo(4 * 1024);
        c.onSent(4 * 1024);
        assertThat(c.txSpace()).isZero();
        assertThat(c.updateFromPeer(64 * 1024, 10)).as("credit came back").isTrue();
        assertThat(c.txSpace()).isEqualTo(10);
        assertThat(c.updateFromPeer(1024 * 1024, 10)).isFalse();
        assertThat(c.txSpace()).as("capped by our own buffer").isEqualTo(256 * 1024 - 64 * 1024 + 10);
    }

    @Test
    void countersWrapAsU32() {
        Credit c = new Credit(4096);
        c.txCnt = 0xFFFF_FF00;
        c.updateFromPeer(4096, 0xFFFF_FF00);
        assertThat(c.txSpace()).isEqualTo(4096);
        c.onSent(0x200); // tx_cnt wraps past zero
        assertThat(c.txCnt).isEqualTo(0x100);
        assertThat(c.txSpace()).isEqualTo(4096 - 0x200);
        c.updateFromPeer(4096, 0x100);
        assertThat(c.txSpace()).isEqualTo(4096);
    }

    @Test
    void aPeerThatSendsBeyondTheBufferIsCaught() {
        Credit c = new Credit(1000);
        c.onReceived(900);
        assertThat(c.wouldOverrun(100)).isFalse();
        assertThat(c.wouldOverrun(101)).isTrue();
    }

    @Test
    void creditUpdatesFollowLinuxsRule() {
        Credit c = new Credit(256 * 1024);
        c.onReceived(200);
        c.onConsumed(100);
        assertThat(c.shouldAnnounce(1)).as("lots of room left and data still queued: stay quiet").isFalse();
        assertThat(c.shouldAnnounce(200)).as("fewer bytes queued than the reader waits for").isTrue();
        c.onConsumed(100);
        assertThat(c.shouldAnnounce(1)).as("the queue ran empty: below the default low-water mark of 1").isTrue();
        c.onReceived(200 * 1024 + 1);
        c.onConsumed(200 * 1024);
        assertThat(c.shouldAnnounce(1)).as("the sender thinks less than one packet is free").isTrue();
        Packet p = new Packet();
        c.stamp(p);
        assertThat(p.fwdCnt).isEqualTo(200 + 200 * 1024);
        assertThat(p.bufAlloc).isEqualTo(256 * 1024);
        assertThat(c.shouldAnnounce(1 << 20)).as("nothing new to announce").isFalse();
    }
}
