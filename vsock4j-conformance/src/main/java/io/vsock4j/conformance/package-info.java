/**
 * The vsock conformance suite, written once and run on every transport: by {@code vsock test}
 * (vsock4j-cli) and, per transport, by this module's JUnit tests.
 *
 * <ul>
 *   <li>{@link io.vsock4j.conformance.ConformanceSuite}: the list of cases and the in-process runner
 *       (both halves of a case on virtual threads, an in-memory {@link io.vsock4j.conformance.Control}).</li>
 *   <li>{@link io.vsock4j.conformance.RemoteRun}: the two-process runner, each process one half of every
 *       case, in step over a control connection of text lines ({@link io.vsock4j.conformance.LineControl}),
 *       TCP as vsock_test's, or vsock where the sides share no network (a guest and its device's JVM).</li>
 *   <li>{@link io.vsock4j.conformance.Case}, {@link io.vsock4j.conformance.Side}: a case's two halves and
 *       what a half works with (provider, peer, port, control, its sockets).</li>
 *   <li>{@link io.vsock4j.conformance.Target}: what the suite runs against (a provider per side, the peer
 *       CID, the kernel release when the sockets are the kernel's).</li>
 *   <li>{@link io.vsock4j.conformance.KernelDifference}, {@link io.vsock4j.conformance.Verdict}: where older
 *       Linux kernels differ from current Linux (and from the Java engine), and a case's outcome, PASS,
 *       FAIL or DIFFERS.</li>
 *   <li>The cases: {@code StreamCases}, {@code SeqpacketCases} (vsock_test's checklist), {@code SocketCases}
 *       (bind, listen, accept, options), {@code BlockingCases} (close and interrupt wake blocked calls);
 *       {@link io.vsock4j.conformance.Checks} holds their assertions.</li>
 * </ul>
 */
package io.vsock4j.conformance;
