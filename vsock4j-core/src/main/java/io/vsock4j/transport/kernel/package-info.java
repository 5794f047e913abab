/**
 * The kernel's AF_VSOCK as a vsock4j provider, through java.lang.foreign (no JNI).
 *
 * <ul>
 *   <li>{@link io.vsock4j.transport.kernel.KernelVsock}: detection of the kernel's roles and the choice
 *       of provider ("auto", "java", "kernel").</li>
 *   <li>{@link io.vsock4j.transport.kernel.KernelGuard}: the rule that keeps kernel sockets inside the
 *       project's test guest unless a person allows them.</li>
 *   <li>{@link io.vsock4j.transport.kernel.KernelProvider}: opens kernel sockets.</li>
 *   <li>KernelSocket: one socket behind the SocketHandle contract; KernelConnect: a connect with Java
 *       owning the deadline; KernelIo: send, recv, recvmsg; KernelOptions: get/setsockopt.</li>
 *   <li>KernelFd: a descriptor's lifetime and how close wakes waiters; Poller: epoll threads that park
 *       and unpark waiting (virtual) threads; Native: the libc bindings with errno captured (bound
 *       through io.vsock4j.internal.ffm, as the vhost-user backend's are, which also turns an errno into
 *       the exception {@link io.vsock4j.spi.Errno} defines); LinuxAbi, SockaddrVm: the numbers and the
 *       address layout.</li>
 * </ul>
 */
package io.vsock4j.transport.kernel;
