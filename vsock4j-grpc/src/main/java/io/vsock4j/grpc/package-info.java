/**
 * gRPC-java over vsock: {@link io.vsock4j.grpc.VsockGrpc} gives grpc-netty's server and channel builders
 * for a vsock address, on the channels of vsock4j-netty, so a service and its clients run over any
 * vsock4j provider: the Java loopback (CID 1) in one JVM, the user's shared machine between processes,
 * a VM's host or guest.
 */
package io.vsock4j.grpc;
