/** The LOCAL transport in Java: CID 1, every packet fed back through the same machine's engine. */
package io.vsock4j.transport.loopback;
