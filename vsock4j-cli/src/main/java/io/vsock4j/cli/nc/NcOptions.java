package io.vsock4j.cli.nc;

import io.vsock4j.SocketType;

/**
 * What a {@code vsock nc} run does, parsed and checked.
 *
 * @param cid           the CID to connect to, or (listening) to bind; CID_ANY binds every CID
 * @param exec          a shell command run per connection, or null
 * @param timeoutMillis connect timeout; 0 means the socket's default (2 s)
 */
public record NcOptions(boolean listen, boolean keepOpen, SocketType type, String exec, int cid, int port,
                        int timeoutMillis) {
}
