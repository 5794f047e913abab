/*
 * guest_guard.h: the one check every C program here makes before it opens a kernel AF_VSOCK socket.
 * These programs are benchmarks for the project's QEMU guest (guest/run.sh), whose kernel command line
 * carries vsock4j.guest=1. On any other machine a kernel vsock connect leaves the machine for a host that
 * is not ours, so there they refuse to start: exit status 3, before any socket exists.
 */
#ifndef VSOCK4J_GUEST_GUARD_H
#define VSOCK4J_GUEST_GUARD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void guest_guard(const char *program) {
    char line[4096] = {0};
    FILE *f = fopen("/proc/cmdline", "r");
    if (!f || !fgets(line, sizeof line, f) || !strstr(line, "vsock4j.guest=1")) {
        fprintf(stderr, "%s: not inside the vsock4j guest; refusing\n", program);
        exit(3);
    }
    fclose(f);
}

#endif
