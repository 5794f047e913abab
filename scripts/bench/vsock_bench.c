/*
 * vsock_bench: the C baseline for docs/benchmarks-kernel.md. One STREAM connection over AF_VSOCK,
 * 64 KiB writes; the receiver prints Gbit/s from its first byte to EOF.
 *
 *   vsock_bench recv PORT [COUNT]        accept COUNT transfers (default 1), one line each
 *   vsock_bench send CID PORT BYTES [COUNT]
 *
 * Run it only inside the project's QEMU guest (guest/run.sh): guest_guard.h makes it refuse elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#include "guest_guard.h"

#define CHUNK (64 * 1024)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    static char buf[CHUNK];
    guest_guard("vsock_bench");
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    if (s < 0) { perror("socket"); return 1; }
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "recv")) {
        int count = argc == 4 ? atoi(argv[3]) : 1;
        struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = atoi(argv[2])};
        if (bind(s, (void *)&a, sizeof a) || listen(s, 1)) { perror("bind/listen"); return 1; }
        for (int i = 0; i < count; i++) {
            int c = accept(s, NULL, NULL);
            if (c < 0) { perror("accept"); return 1; }
            long long total = 0, reads = 0;
            double start = 0;
            struct rusage r0, r1;
            getrusage(RUSAGE_SELF, &r0);
            for (;;) {
                ssize_t n = read(c, buf, sizeof buf);
                if (n < 0) { perror("read"); return 1; }
                if (n == 0) break;
                if (total == 0) start = now();
                total += n;
                reads++;
            }
            double secs = now() - start;
            getrusage(RUSAGE_SELF, &r1);
            close(c);
            double mib = total / 1048576.0;
            /* per MiB: the reads it took and the receiver's voluntary context switches (a wake-up each) */
            printf("c-recv bytes=%lld seconds=%.3f gbits=%.3f start=%.6f reads/MiB=%.1f wakeups/MiB=%.1f\n", total, secs,
                   total * 8 / secs / 1e9, start, reads / mib, (r1.ru_nvcsw - r0.ru_nvcsw) / mib);
            fflush(stdout);
        }
        return 0;
    }
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "send")) {
        int count = argc == 6 ? atoi(argv[5]) : 1;
        struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = atoi(argv[2]), .svm_port = atoi(argv[3])};
        long long want = atoll(argv[4]);
        memset(buf, 'v', sizeof buf);
        for (int i = 0; i < count; i++) {
            if (i > 0 && (s = socket(AF_VSOCK, SOCK_STREAM, 0)) < 0) { perror("socket"); return 1; }
            for (int tries = 0; connect(s, (void *)&a, sizeof a); tries++) {
                if (tries == 3000) { perror("connect"); return 1; }
                close(s);
                usleep(100 * 1000); /* the receiver may still be warming up (minutes under TCG) */
                s = socket(AF_VSOCK, SOCK_STREAM, 0);
            }
            for (long long sent = 0; sent < want; ) {
                ssize_t n = write(s, buf, want - sent < CHUNK ? want - sent : CHUNK);
                if (n < 0) { perror("write"); return 1; }
                sent += n;
            }
            close(s);
        }
        return 0;
    }
    fprintf(stderr, "usage: vsock_bench recv PORT [COUNT] | send CID PORT BYTES [COUNT]\n");
    return 2;
}
