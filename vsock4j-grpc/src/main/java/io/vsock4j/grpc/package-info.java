/**
 * gRPC-java over vsock: {@link io.vsock4j.grpc.VsockGrpc} gives grpc-netty's server and channel builders
 * for a vsock address, on the channels of vsock4j-netty.
 */
package io.vsock4j.grpc;
