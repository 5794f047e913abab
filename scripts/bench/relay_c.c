/*
 * relay_c: the smallest useful vsock <-> TCP relay, in C, as a yardstick for `vsock proxy` in the guest
 * (docs/benchmarks.md, "A relay in C as the yardstick"). One forked child per connection, one thread per
 * direction, each moving up to 128 KiB per step either by read(2)/write(2) through a buffer ("copy") or by
 * splice(2) through a pipe ("splice"). At end of stream a direction half-closes the other socket
 * (shutdown SHUT_WR) and ends. No allowlist, no timeouts, no error reporting beyond perror: a benchmark tool.
 *
 *   relay_c copy|splice v2t VSOCK_PORT TCP_PORT   listens on vsock VSOCK_PORT, connects 127.0.0.1:TCP_PORT
 *   relay_c copy|splice t2v TCP_PORT VSOCK_PORT   listens on 127.0.0.1:TCP_PORT, connects vsock 1:VSOCK_PORT
 *
 * Kernel vsock sockets: run it only inside the project's QEMU guest (guest/run.sh); through guest_guard.h it
 * refuses to start anywhere else (the guest's kernel command line has vsock4j.guest=1).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_guard.h"

#define STEP (128 * 1024)

static int by_splice;

struct direction {
    int from, to;
};

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Reaps finished children, so their CPU time shows in the listener's cutime/cstime (the benchmark reads it). */
static void reap(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

static int write_all(int fd, const char *p, ssize_t n) {
    while (n > 0) {
        ssize_t m = write(fd, p, n);
        if (m < 0 && errno == EINTR) continue;
        if (m <= 0) return -1;
        p += m;
        n -= m;
    }
    return 0;
}

static int splice_all(int pipe_out, int fd, ssize_t n) {
    while (n > 0) {
        ssize_t m = splice(pipe_out, NULL, fd, NULL, n, SPLICE_F_MOVE | SPLICE_F_MORE);
        if (m < 0 && errno == EINTR) continue;
        if (m <= 0) return -1;
        n -= m;
    }
    return 0;
}

static void *pump(void *arg) {
    struct direction *d = arg;
    int p[2] = {-1, -1};
    char *buf = NULL;
    if (by_splice) {
        if (pipe(p)) die("pipe");
        fcntl(p[1], F_SETPIPE_SZ, STEP);
    } else if (!(buf = malloc(STEP))) {
        die("malloc");
    }
    for (;;) {
        ssize_t n = by_splice ? splice(d->from, NULL, p[1], NULL, STEP, SPLICE_F_MOVE | SPLICE_F_MORE)
                              : read(d->from, buf, STEP);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if ((by_splice ? splice_all(p[0], d->to, n) : write_all(d->to, buf, n)) < 0) break;
    }
    shutdown(d->to, SHUT_WR);
    if (by_splice) {
        close(p[0]);
        close(p[1]);
    }
    free(buf);
    return NULL;
}

/* TCP is always 127.0.0.1; vsock takes the CID given (VMADDR_CID_ANY to listen, VMADDR_CID_LOCAL to dial). */
static socklen_t address(int family, int port, unsigned int vsock_cid, struct sockaddr_storage *a) {
    memset(a, 0, sizeof *a);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)a;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *in;
    }
    struct sockaddr_vm *vm = (struct sockaddr_vm *)a;
    vm->svm_family = AF_VSOCK;
    vm->svm_port = port;
    vm->svm_cid = vsock_cid;
    return sizeof *vm;
}

static int listener(int family, int port) {
    struct sockaddr_storage a;
    int s = socket(family, SOCK_STREAM, 0), one = 1;
    if (s < 0) die("socket");
    if (family == AF_INET) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, address(family, port, VMADDR_CID_ANY, &a))) die("bind");
    if (listen(s, 64)) die("listen");
    return s;
}

static int dial(int family, int port) {
    struct sockaddr_storage a;
    int s = socket(family, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    if (connect(s, (struct sockaddr *)&a, address(family, port, VMADDR_CID_LOCAL, &a))) die("connect");
    return s;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "copy") && strcmp(argv[1], "splice")) ||
        (strcmp(argv[2], "v2t") && strcmp(argv[2], "t2v"))) {
        fprintf(stderr, "usage: relay_c copy|splice v2t|t2v LISTEN_PORT TARGET_PORT\n");
        return 2;
    }
    guest_guard("relay_c");
    by_splice = !strcmp(argv[1], "splice");
    int v2t = !strcmp(argv[2], "v2t");
    int listen_port = atoi(argv[3]), target_port = atoi(argv[4]);
    struct sigaction sa = {.sa_handler = reap};
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int l = listener(v2t ? AF_VSOCK : AF_INET, listen_port);
    fprintf(stderr, "relay_c: listening\n");
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR) continue;
            die("accept");
        }
        if (fork() == 0) {
            close(l);
            int t = dial(v2t ? AF_INET : AF_VSOCK, target_port);
            struct direction there = {c, t}, back = {t, c};
            pthread_t th;
            if (pthread_create(&th, NULL, pump, &back)) die("pthread_create");
            pump(&there);
            pthread_join(th, NULL);
            _exit(0);
        }
        close(c);
    }
}
