/*
 * mdwx-exec: runs a command under the seccomp rules systemd uses for
 * MemoryDenyWriteExecute=yes (systemd 252, seccomp_memory_deny_write_execute):
 * mmap with PROT_WRITE and PROT_EXEC together, mprotect/pkey_mprotect adding
 * PROT_EXEC, and shmat with SHM_EXEC fail with EPERM. So CI can show that
 * herold runs under the unit's setting without systemd as PID 1.
 *
 *   cc -O2 -o mdwx-exec packaging/ci/mdwx-exec.c && ./mdwx-exec herold serve ...
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARG2 offsetof(struct seccomp_data, args[2]) /* low 32 bits on x86_64 */
#define DENY 17
#define ALLOW 18
/* Jump offset from instruction `from` to instruction `to`. */
#define TO(from, to) ((to) - (from) - 1)

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
        return 64;
    }
    struct sock_filter code[] = {
        /*  0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /*  1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, TO(1, ALLOW)),
        /*  2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /*  3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, TO(3, 8), 0),
        /*  4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, TO(4, 11), 0),
        /*  5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pkey_mprotect, TO(5, 11), 0),
        /*  6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_shmat, TO(6, 14), 0),
        /*  7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /*  8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG2),           /* mmap: prot */
        /*  9 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
        /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, TO(10, DENY), TO(10, ALLOW)),
        /* 11 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG2),           /* mprotect: prot */
        /* 12 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_EXEC),
        /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_EXEC, TO(13, DENY), TO(13, ALLOW)),
        /* 14 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG2),           /* shmat: shmflg */
        /* 15 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, SHM_EXEC),
        /* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SHM_EXEC, TO(16, DENY), TO(16, ALLOW)),
        /* 17 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        /* 18 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = { .len = sizeof code / sizeof code[0], .filter = code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        fprintf(stderr, "mdwx-exec: cannot install the filter: %s\n", strerror(errno));
        return 71;
    }
    /* The filter must bite: a writable and executable mapping is refused. */
    void *probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (probe != MAP_FAILED || errno != EPERM) {
        fprintf(stderr, "mdwx-exec: the filter did not refuse a W+X mapping\n");
        return 70;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "mdwx-exec: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
