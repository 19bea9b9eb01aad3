/* The inside of conc_process_t and what the files of src/process share.
 *
 * One object per child, one malloc (the name lives in the same block). Every child a process starts
 * is on its children list until it has been reaped *and* its handle freed, so that exit can join
 * non-daemon children and terminate daemon ones even after the user dropped the handle (Python's
 * _children set). Entries are stamped with the pid of the process that started them: a fork child
 * inherits a copy of the list, and must neither join nor reap its siblings.
 *
 * How the end of a child is seen, per start method (docs/processes.md says why):
 * - fork, spawn: the child is ours. The sentinel is a pidfd (readable once the child exited); its
 *   status comes from waitid(P_PIDFD), which cannot hit a recycled pid.
 * - forkserver: the child is the server's. The server sends its pid and a pidfd (opened before the
 *   server could reap it, so signals through it are race-free) over a socket made for this child,
 *   and later its wait status over the same socket. The sentinel is that socket: readable once the
 *   status arrived, or at EOF if the server died without sending one. */
#ifndef CONC_PROCESS_PROC_H
#define CONC_PROCESS_PROC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "conc/process.h"
#include "../internal/base.h"

struct conc_process {
    struct conc_process *prev, *next; /* children list, under its lock */
    pid_t pid;
    pid_t owner; /* the process that started it */
    int method;  /* CONC_START_FORK, _SPAWN or _FORKSERVER */
    int pidfd;
    int status_fd;      /* forkserver: this child's socket to the server; else -1 */
    bool daemon;        /* set before start, then read-only */
    bool listed;        /* on the children list; under its lock */
    bool freed;         /* the handle was freed; under the list lock */
    uint32_t done;      /* atomic: reaped, code is final */
    uint32_t lost;      /* atomic, forkserver: the server closed without sending a status */
    int code;           /* exit status >= 0 or -signo, once done */
    pthread_mutex_t mu; /* serialises reaping */
    char name[];
};

/* ---- target.c ---- */
CONC_HIDDEN conc_target_fn conc__target_find(const char *name);

/* ---- state.c: what this process is (main process or which child) ---- */
#define CONC__IDENT_MAX 128
#define CONC__NAME_MAX  256
CONC_HIDDEN extern int conc__proc_initialised; /* conc_init ran: starting processes is allowed */
CONC_HIDDEN extern int conc__proc_daemonic;    /* this process is a daemon child */
CONC_HIDDEN extern int conc__proc_argc;
CONC_HIDDEN extern char **conc__proc_argv;
/* This process's identity ("" in the main process, "1:2" in the second child of the first child)
 * and name; the child counter. set_self keeps the pointers: they must live as long as the child. */
CONC_HIDDEN const char *conc__proc_identity(void);
CONC_HIDDEN void conc__proc_set_self(const char *identity, const char *name, bool daemon);
CONC_HIDDEN uint32_t conc__proc_next_number(void);
/* The objects a child was handed (conc_passed_*): the array is kept, not copied. */
CONC_HIDDEN void conc__proc_set_passed(const conc_obj_t *objs, size_t n);

/* ---- children.c: the list and the object's lifetime ---- */
CONC_HIDDEN conc_process_t *conc__proc_alloc(const char *name);
CONC_HIDDEN void conc__proc_destroy(conc_process_t *p);
CONC_HIDDEN void conc__proc_list_add(conc_process_t *p);
/* Reap and destroy children whose handle was freed and which have ended (Python's _cleanup). */
CONC_HIDDEN void conc__proc_sweep(void);
/* At exit: terminate daemon children, then join every child. */
CONC_HIDDEN void conc__proc_exit_children(void);

/* ---- wait.c ---- */
/* Reap without blocking if the child ended; true once done. */
CONC_HIDDEN bool conc__proc_reap(conc_process_t *p);
/* Wait for one fd to be readable until the absolute deadline (conc__wait_fds: in the main thread
 * after conc_init a SIGINT ends it). 0 readable, -ETIMEDOUT, -EINTR. */
CONC_HIDDEN int conc__poll_intr(int fd, double deadline);
CONC_HIDDEN int conc__pidfd_open(pid_t pid);
CONC_HIDDEN int conc__pidfd_signal(int pidfd, int sig);

/* ---- request.c: a start request on the wire (spawn and forkserver) ---- */
#define CONC__PASS_MAX_OBJS 256 /* objects handed to one child (their fds: at most 253 in all) */
typedef struct {
    const char *target;
    const char *name;
    const char *identity; /* the child's */
    const void *arg;
    size_t len;
    bool daemon;
    int method; /* the child's default start method */
    const conc_obj_t *pass;
    size_t n_pass;
} conc__request_t;
#define CONC__MAX_FDS 253 /* SCM_MAX_FD: fds in one message */
/* A request ready to send: iov covers it all (total bytes), fds are the passed objects'. */
typedef struct {
    unsigned char hdr[64];
    struct iovec iov[6];
    int niov;
    size_t total;
    int fds[CONC__MAX_FDS];
    size_t nfds;
    char *objs;
} conc__wire_t;
/* Export the passed objects and lay the request out; conc__request_done frees what it holds. */
CONC_HIDDEN int conc__request_build(const conc__request_t *rq, conc__wire_t *m);
CONC_HIDDEN void conc__request_done(conc__wire_t *m);
/* Build and write the whole request to fd (blocking). */
CONC_HIDDEN int conc__request_send(int fd, const conc__request_t *rq);
/* sendmsg until all is sent; fds go with the first byte. Never SIGPIPE. */
CONC_HIDDEN int conc__sendmsg_all(int fd, struct iovec *iov, int niov, const int *fds, size_t nfds);
/* In a child: read the request (from memory if mem, with its fds; else streamed from fd), set up
 * this process, run the target, exit. Never returns. fd is closed once read. ppid: the expected
 * parent, for a daemon's parent-death check. forked: a forkserver child (ends as a fork child). */
CONC_HIDDEN _Noreturn void conc__child_main(int fd, const void *mem, size_t len, int *fds,
                                            size_t nfds, pid_t ppid, bool forked);
/* Make a daemon child die with its parent: PR_SET_PDEATHSIG, then check the parent is still the
 * one we were started by (it may have died before the prctl). */
CONC_HIDDEN void conc__die_with_parent(pid_t ppid);
/* End a child with status after Python's _bootstrap epilogue: threads, then children, then stdio. */
CONC_HIDDEN _Noreturn void conc__child_exit_fork(int status);
/* fflush stdout and stderr if they hold data (before a fork: nothing is written twice). */
CONC_HIDDEN void conc__flush_std(void);

/* ---- the start methods ---- */
CONC_HIDDEN int conc__start_fork(conc_process_t *p, conc_target_fn fn, const void *arg, size_t len,
                                 const conc_obj_t *pass, size_t n_pass, const char *identity);
CONC_HIDDEN int conc__start_spawn(conc_process_t *p, const conc__request_t *rq);
CONC_HIDDEN int conc__start_forkserver(conc_process_t *p, const conc__request_t *rq);

/* ---- init.c: conc_init's hook and the exit handler (installed by start.c's constructor) ---- */
CONC_HIDDEN int conc__process_init_hook(int argc, char **argv);
CONC_HIDDEN void conc__process_at_exit(void);

/* ---- exec.c: posix_spawn of /proc/self/exe with a marker (and extra_env, if not NULL, a
 * NULL-terminated list of NAME=value that set or replace variables); fd is handed over as fd 3 ---- */
#define CONC__MARKER_ENV "CONC_PROCESS_CHILD"
CONC_HIDDEN int conc__exec_self(pid_t *pid, int fd, const char *marker,
                                const char *const *extra_env);

/* ---- forkserver.c and server.c: the control message ---- */
#define CONC__CTL_MAGIC  0x43464b53u /* "CFKS" */
#define CONC__INLINE_MAX (60 * 1024) /* requests up to this size ride in the control message */
struct conc__ctl_hdr {
    uint32_t magic;
    uint32_t inline_len; /* bytes of request that follow; 0: streamed over the child's socket */
};

/* ---- server.c ---- */
/* bound_now: the client set LD_BIND_NOW; rseq_mode: it set GLIBC_TUNABLES (1) or appended to the
 * user's (2) to turn glibc's rseq off (forkserver.c); the children get the user's values back. */
CONC_HIDDEN _Noreturn void conc__forkserver_main(int ctl, bool pdeathsig, pid_t ppid,
                                                 bool bound_now, int rseq_mode);
/* The server's pid, 0 if none is running (tests). */
CONC_HIDDEN pid_t conc__forkserver_pid(void);

#endif
