package io.vsock4j.cli.nc;

import io.vsock4j.SocketType;

/**
 * What a {@code vsock nc} run does, parsed and checked.
 *
 * @param cid               the CID to connect to, or (listening) to bind; CID_ANY binds every CID
 * @param exec              a shell command run per connection, or null
 * @param timeoutMillis     connect timeout; 0 means the socket's default (2 s)
 * @param sendOnly          --send-only: never read the peer; the run ends at stdin's EOF
 * @param recvOnly          --recv-only: send nothing; a client ends at the peer's EOF
 * @param noShutdown        --no-shutdown: stdin's EOF does not half-close
 * @param idleTimeoutMillis -i: end after this long with nothing read; 0 for never
 * @param verbose           -v: say on stderr who connected
 */
public record NcOptions(boolean listen, boolean keepOpen, SocketType type, String exec, int cid, int port,
                        int timeoutMillis, boolean sendOnly, boolean recvOnly, boolean noShutdown,
                        long idleTimeoutMillis, boolean verbose) {
}
