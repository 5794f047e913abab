package io.vsock4j.virtqueue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuestMemoryTest {
    private static final long LOW = 0x1_0000L;
    private static final long HIGH = 0x2_0000_0000L;
    private static final long USER = 0x7f00_0000_0000L;
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private GuestMemory.Region region(long gpa, long size, long user) {
        return new GuestMemory.Region(gpa, size, user, arena.allocate(size, 4096));
    }

    /** LOW: 8 KiB and an adjacent 4 KiB region; HIGH: 4 KiB after a hole. Given out of order. */
    private GuestMemory memory() {
        return new GuestMemory(List.of(region(HIGH, 4096, USER + 0x10_0000), region(LOW + 8192, 4096, USER + 8192),
                region(LOW, 8192, USER)));
    }

    @Test
    void aSliceIsTheRegionsBytes() {
        GuestMemory m = memory();
        m.slice(LOW + 100, 4).set(ValueLayout.JAVA_INT, 0, 0x1234_5678);
        assertThat(m.regions().getFirst().mapping().get(ValueLayout.JAVA_INT, 100)).isEqualTo(0x1234_5678);
        assertThat(m.slice(HIGH, 4096).byteSize()).isEqualTo(4096);
        assertThat(m.slice(HIGH + 4096, 0).byteSize()).as("empty at the end").isZero();
        assertThat(m.regions()).extracting(GuestMemory.Region::guestPhysAddr).containsExactly(LOW, LOW + 8192, HIGH);
    }

    @Test
    void rangesOutsideOrAcrossRegionsAreRefusedNamingAddressAndLength() {
        GuestMemory m = memory();
        assertThatThrownBy(() -> m.slice(LOW - 1, 2)).isInstanceOf(GuestMemoryException.class)
                .hasMessageContaining("0xffff").hasMessageContaining("length 0x2");
        assertThatThrownBy(() -> m.slice(LOW + 8190, 4)).as("across adjacent regions")
                .isInstanceOf(GuestMemoryException.class).hasMessageContaining("0x11ffe");
        assertThatThrownBy(() -> m.slice(LOW + 12288, 1)).as("in the hole").isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.slice(HIGH + 4095, 2)).as("past the last end").isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.slice(0, 0)).as("below every region").isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.slice(LOW, -1)).as("a length that is 2^64 - 1 unsigned")
                .isInstanceOf(GuestMemoryException.class).hasMessageContaining("length 0xffffffffffffffff");
        assertThatThrownBy(() -> m.slice(-1L, 1)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.slice(LOW + 1, Long.MAX_VALUE)).isInstanceOf(GuestMemoryException.class);
        assertThat(m.contains(LOW + 8190, 4)).isFalse();
        assertThat(m.contains(LOW + 8188, 4)).isTrue();
    }

    @Test
    void theTopOfTheAddressSpaceDoesNotWrap() {
        long top = -4096L; // 0xffff_ffff_ffff_f000: the last page
        GuestMemory m = new GuestMemory(List.of(region(top, 4096, USER), region(0, 4096, USER + 8192)));
        assertThat(m.slice(-16L, 16).byteSize()).isEqualTo(16);
        assertThat(m.contains(-16L, 17)).as("wraps to 0, where another region starts").isFalse();
        assertThatThrownBy(() -> m.slice(-16L, 32)).isInstanceOf(GuestMemoryException.class)
                .hasMessageContaining("0xfffffffffffffff0").hasMessageContaining("length 0x20");
        assertThatThrownBy(() -> new GuestMemory.Region(-4096L, 8192, USER, arena.allocate(8192)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wraps");
    }

    @Test
    void frontendAddressesTranslateToGuestPhysical() {
        GuestMemory m = memory();
        assertThat(m.userToGuest(USER)).isEqualTo(LOW);
        assertThat(m.userToGuest(USER + 8191)).isEqualTo(LOW + 8191);
        assertThat(m.userToGuest(USER + 8192 + 5)).isEqualTo(LOW + 8192 + 5);
        assertThat(m.userToGuest(USER + 0x10_0000 + 4095)).isEqualTo(HIGH + 4095);
        assertThatThrownBy(() -> m.userToGuest(USER + 12288)).isInstanceOf(GuestMemoryException.class)
                .hasMessageContaining("0x7f0000003000");
        assertThatThrownBy(() -> m.userToGuest(USER - 1)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.userToGuest(-1L)).isInstanceOf(GuestMemoryException.class);
    }

    @Test
    void overlappingRegionsAreRefusedInEitherSpace() {
        assertThatThrownBy(() -> new GuestMemory(List.of(region(LOW, 8192, USER), region(LOW + 4096, 8192, USER + HIGH))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("guest-physical");
        assertThatThrownBy(() -> new GuestMemory(List.of(region(LOW, 8192, USER), region(HIGH, 4096, USER + 8191))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frontend-virtual");
        assertThatThrownBy(() -> new GuestMemory(List.of(region(LOW, 4096, USER), region(LOW, 4096, USER + HIGH))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRegionMustMatchItsMapping() {
        MemorySegment page = arena.allocate(4096);
        assertThatThrownBy(() -> new GuestMemory.Region(LOW, 8192, USER, page)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestMemory.Region(LOW, 0, USER, MemorySegment.NULL))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void noRegionsMeansNoMemory() {
        GuestMemory m = new GuestMemory(List.of());
        assertThat(m.contains(0, 0)).isFalse();
        assertThatThrownBy(() -> m.slice(LOW, 1)).isInstanceOf(GuestMemoryException.class);
        assertThatThrownBy(() -> m.userToGuest(USER)).isInstanceOf(GuestMemoryException.class);
    }
}
