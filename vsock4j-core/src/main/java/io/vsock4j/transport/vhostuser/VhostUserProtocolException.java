package io.vsock4j.transport.vhostuser;

import java.io.IOException;

/**
 * A frontend broke the vhost-user protocol: a malformed message, or a request this backend cannot
 * serve. The backend closes that frontend's connection, logs the message, and waits for the next
 * frontend. Thrown and caught on the backend's thread.
 */
final class VhostUserProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    VhostUserProtocolException(String message) {
        super(message);
    }
}
