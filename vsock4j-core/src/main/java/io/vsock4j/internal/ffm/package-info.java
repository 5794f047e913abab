/**
 * What every transport that calls the C library shares, and nothing a transport decides: the module
 * uses this package, but does not export it.
 *
 * <ul>
 *   <li>{@link io.vsock4j.internal.ffm.Downcalls}: a libc function bound through java.lang.foreign with
 *       {@code errno} captured, and the convention that a call returns its result or {@code -errno}.</li>
 *   <li>{@link io.vsock4j.internal.ffm.NativeErrors}: a {@code -errno} turned into the exception
 *       {@link io.vsock4j.spi.Errno} defines, or into a name for a log line.</li>
 * </ul>
 *
 * <p>The calls themselves stay with their transport (transport.kernel's Native, transport.vhostuser's
 * UnixNative): which functions, which arguments, and who owns the errno cell are the transport's choice.
 */
package io.vsock4j.internal.ffm;
