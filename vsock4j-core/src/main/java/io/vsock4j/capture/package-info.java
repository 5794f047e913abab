/**
 * Packet capture: the window Linux opens with a vsockmon device, for the Java engine. Captures are
 * classic pcap files of link type LINKTYPE_VSOCK (271), record for record what
 * {@code tcpdump -i vsockmon0 -w FILE} writes, so Wireshark and tshark dissect them.
 *
 * <ul>
 *   <li>{@link io.vsock4j.capture.Capture}: the tap on a machine; {@code Capture.start(machine, file, snaplen)}.</li>
 *   <li>{@link io.vsock4j.capture.Vsockmon}: the vsockmon header (include/uapi/linux/vsockmon.h) and the
 *       op classes the kernel gives each virtio op.</li>
 *   <li>{@link io.vsock4j.capture.PcapWriter} and {@link io.vsock4j.capture.PcapReader}: the file format,
 *       written and read back ({@link io.vsock4j.capture.CapturedPacket} per record).</li>
 * </ul>
 */
package io.vsock4j.capture;
