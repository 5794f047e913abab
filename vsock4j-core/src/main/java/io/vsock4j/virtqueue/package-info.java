/**
 * Guest memory and the device side of the virtio split virtqueue, for a vhost-user device whose guest
 * is not trusted. Uses nothing but java.*; the bottom layer of the module. Each queue belongs to one
 * thread; guest memory is immutable and shared.
 *
 * <ul>
 *   <li>{@link io.vsock4j.virtqueue.GuestMemory}: the guest's RAM as mapped regions; the one door to it,
 *       checking every guest-physical range and translating the frontend's virtual addresses.</li>
 *   <li>{@link io.vsock4j.virtqueue.GuestMemoryException}: a range no single region holds.</li>
 *   <li>{@link io.vsock4j.virtqueue.VirtioRing}: the ring layouts and flags of
 *       include/uapi/linux/virtio_ring.h, drawn, and vring_need_event.</li>
 *   <li>{@link io.vsock4j.virtqueue.SplitQueue}: pops available chains, validating them, publishes used
 *       entries with release ordering, and suppresses notifications both ways (flags or EVENT_IDX).</li>
 *   <li>{@link io.vsock4j.virtqueue.DescriptorChain}: one popped chain, readable buffers then writable
 *       ones; reused from pop to pop.</li>
 *   <li>{@link io.vsock4j.virtqueue.ChainFault}: what a driver can get wrong, and whether the chain is
 *       dropped or the queue broken.</li>
 * </ul>
 */
package io.vsock4j.virtqueue;
