/* conc/net.h - asyncio's I/O for tasks: sockets, streams and servers, loop signal handlers,
 * subprocesses.
 *
 * Everything here that waits is for a task (conc/task.h) and suspends only that task: the loop
 * goes on running the others. A wait returns -ECANCELED when its task is cancelled (the C
 * cancellation rule of conc/task.h applies) and, where there is a timeout, -ETIMEDOUT when it
 * expires (timeout < 0: forever; 0: try once). Called outside a task, a function that would have
 * to wait returns -EPERM instead. Errors are negative errno codes; CONC_ECLOSED means the other
 * side closed before the data asked for came.
 *
 * Sockets (loop.sock_*). Plain non-blocking file descriptors: conc_sock_* waits for readiness on
 * the running task's loop. One task may wait to read and one to write on a socket at a time (a
 * second one gets -EBUSY, as asyncio's "another coroutine is already waiting"). Close them with
 * conc_sock_close, which also forgets the loop's registration.
 *
 * Streams (asyncio.StreamReader/StreamWriter in one object). A stream owns its socket (or pipe).
 * Reading: the loop receives into the stream's buffer while someone reads or the buffer is below
 * twice the limit (default 64 KiB, conc_stream_set_limit); past that it stops reading from the
 * kernel, so a fast sender never grows a slow reader's memory. readline/readuntil fail with
 * -ENOBUFS when the separator is not found within the limit. Writing: conc_stream_write sends at
 * once what the kernel takes and buffers the rest without ever blocking; conc_stream_drain waits
 * while the buffer is above the high water mark, until it is at or below the low one (defaults
 * 64 KiB and 16 KiB, asyncio's). A write error or a reset peer is reported by the next write,
 * drain or read: -EPIPE, -ECONNRESET. A stream is used by one task at a time for reading and one
 * for writing (-EBUSY otherwise).
 *
 * Servers. conc_start_server listens and runs each client in a task of its own, with a stream
 * that the server closes when the client function returns (the client may close it earlier with
 * conc_stream_close). conc_server_close stops accepting; conc_server_wait_closed waits for the
 * client tasks to end (conc_server_cancel_clients asks them to); conc_server_free frees it.
 *
 * Only the loop's thread may use its sockets, streams and servers. */
#ifndef CONC_NET_H
#define CONC_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "conc/error.h"
#include "conc/loop.h"

typedef struct conc_stream conc_stream_t;
typedef struct conc_server conc_server_t;
struct addrinfo;

#ifdef __cplusplus
extern "C" {
#endif

/* ---- readiness and sockets ---- */

/* Wait until fd is readable / writable (any fd epoll takes: sockets, pipes, eventfds...). */
CONC_API int conc_wait_readable(int fd, double timeout);
CONC_API int conc_wait_writable(int fd, double timeout);

/* socket(2), non-blocking and close-on-exec: the fd or -errno. */
CONC_API int conc_sock_socket(int family, int type, int protocol);
/* loop.sock_connect: 0, -errno (ECONNREFUSED...), -ETIMEDOUT, -ECANCELED. On a timeout or a
 * cancellation the attempt is abandoned: close the socket. */
CONC_API int conc_sock_connect(int fd, const struct sockaddr *addr, socklen_t len, double timeout);
/* loop.sock_accept: the new connection's fd (non-blocking, close-on-exec); addr/len may be NULL. */
CONC_API int conc_sock_accept(int fd, struct sockaddr *addr, socklen_t *len, double timeout);
/* loop.sock_recv: up to n bytes (0 at EOF, or for n == 0). */
CONC_API ssize_t conc_sock_recv(int fd, void *buf, size_t n, double timeout);
/* One send: how many bytes the kernel took (at least 1 unless n == 0). Never raises SIGPIPE. */
CONC_API ssize_t conc_sock_send(int fd, const void *buf, size_t n, double timeout);
/* loop.sock_sendall: all n bytes, or an error (timeout covers the whole call; what was sent before
 * an error is lost to the caller, as in asyncio). */
CONC_API int conc_sock_sendall(int fd, const void *buf, size_t n, double timeout);
/* Forget the fd in the running loop (if it was waited on), then close it. */
CONC_API int conc_sock_close(int fd);

/* loop.getaddrinfo without blocking the loop: numeric hosts are resolved in place, other names on
 * a thread of their own while the task waits (cancellable: the lookup's result is then dropped).
 * 0 and *res (freeaddrinfo it), a negative EAI_* code as getaddrinfo (gai_strerror), -ECANCELED.
 * Outside a task it simply calls getaddrinfo. */
CONC_API int conc_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                              struct addrinfo **res);

/* Connected / listening TCP sockets by name (IPv4 or IPv6: every address is tried in turn), and
 * Unix stream sockets by path. Return the fd or a negative code. listen ones set SO_REUSEADDR;
 * port 0 picks a free port (read it with getsockname or conc_server_port). */
CONC_API int conc_tcp_connect(const char *host, int port, double timeout);
CONC_API int conc_tcp_listen(const char *host, int port, int backlog);
CONC_API int conc_unix_connect(const char *path, double timeout);
CONC_API int conc_unix_listen(const char *path, int backlog); /* a stale socket file is replaced */

/* ---- streams ---- */

/* asyncio.open_connection: connect (in a task) and wrap the socket in a stream. */
CONC_API int conc_open_connection(const char *host, int port, conc_stream_t **s);
CONC_API int conc_open_unix_connection(const char *path, conc_stream_t **s);
/* Wrap a connected socket or a pipe end (made non-blocking) in a stream on loop (NULL: the running
 * one). The stream owns fd from then on, even on failure. */
CONC_API int conc_stream_open_fd(conc_loop_t *loop, int fd, conc_stream_t **s);

CONC_API ssize_t conc_stream_read(conc_stream_t *s, void *buf, size_t n); /* up to n; 0 at EOF */
/* n bytes, or CONC_ECLOSED at an early EOF (the partial data stays in the buffer, readable with
 * conc_stream_read), or the connection's error. */
CONC_API ssize_t conc_stream_readexactly(conc_stream_t *s, void *buf, size_t n);
/* Through '\n' (included) and returns its length; at EOF what is left (0 at the end). -ENOBUFS if
 * no '\n' comes within the limit (the over-long data is discarded, as asyncio's readline);
 * -EMSGSIZE if the line is longer than cap (it stays buffered). */
CONC_API ssize_t conc_stream_readline(conc_stream_t *s, void *buf, size_t cap);
/* Through the separator: its length; -ENOBUFS past the limit (data stays buffered, as asyncio's
 * LimitOverrunError), -EMSGSIZE past cap, CONC_ECLOSED at EOF before the separator. */
CONC_API ssize_t conc_stream_readuntil(conc_stream_t *s, const void *sep, size_t seplen, void *buf,
                                       size_t cap);
CONC_API bool conc_stream_at_eof(conc_stream_t *s); /* EOF seen and the buffer is empty */

CONC_API int conc_stream_write(conc_stream_t *s, const void *buf,
                               size_t n);         /* buffers; never blocks */
CONC_API int conc_stream_drain(conc_stream_t *s); /* waits while above the high water mark */
CONC_API int
conc_stream_write_eof(conc_stream_t *s); /* shutdown(SHUT_WR) once the buffer is sent */
CONC_API size_t conc_stream_write_buffer_size(conc_stream_t *s);
/* set_write_buffer_limits: high 0 -> 64 KiB; low > high -> -EINVAL; low (size_t)-1 -> high / 4 */
CONC_API int conc_stream_set_write_limits(conc_stream_t *s, size_t high, size_t low);
CONC_API int conc_stream_set_limit(conc_stream_t *s, size_t limit); /* readline's; >= 1 */
CONC_API int conc_stream_fd(conc_stream_t *s);

/* Close: what is buffered is still sent in the background (the fd is closed once it is, or at an
 * error, or when the loop is freed), then the stream is freed. Does not wait. Any thread that is
 * the loop's. */
CONC_API int conc_stream_close(conc_stream_t *s);
/* transport.abort: close now, dropping unsent data, and free. */
CONC_API void conc_stream_abort(conc_stream_t *s);

/* ---- servers ---- */

/* asyncio.start_server: listen on host:port (NULL host: every IPv4 address; "::" every IPv6 one)
 * and run client(stream, arg) in a new task for each connection. Call it in a task of loop, or
 * before the loop runs (loop must not be NULL then). port 0 picks a free port. */
CONC_API int conc_start_server(conc_loop_t *loop, const char *host, int port,
                               void (*client)(conc_stream_t *s, void *arg), void *arg,
                               conc_server_t **srv);
CONC_API int conc_start_unix_server(conc_loop_t *loop, const char *path,
                                    void (*client)(conc_stream_t *s, void *arg), void *arg,
                                    conc_server_t **srv);
/* Serve an already listening socket (the server owns it). */
CONC_API int conc_server_from_fd(conc_loop_t *loop, int fd,
                                 void (*client)(conc_stream_t *s, void *arg), void *arg,
                                 conc_server_t **srv);
CONC_API int conc_server_port(conc_server_t *srv);  /* TCP port, or -EINVAL for a Unix server */
CONC_API int conc_server_close(conc_server_t *srv); /* stop accepting (closes the listening fd) */
CONC_API int conc_server_wait_closed(conc_server_t *srv);     /* and wait for the client tasks */
CONC_API void conc_server_cancel_clients(conc_server_t *srv); /* cancel the running client tasks */
CONC_API size_t conc_server_clients(conc_server_t *srv);      /* client tasks still running */
/* The limit (conc_stream_set_limit) of the streams of clients accepted from now on. */
CONC_API int conc_server_set_limit(conc_server_t *srv, size_t limit);
/* Close if needed and free; client tasks still running keep what they use alive. */
CONC_API void conc_server_free(conc_server_t *srv);

/* ---- signals (loop.add_signal_handler) ---- */

/* Run cb(signo, arg) on loop (NULL: the running one) as a loop callback whenever signo arrives;
 * signals that come before it runs are merged. Call it in the loop's thread: signo is blocked
 * there (and read through a signalfd), and a forwarding handler re-sends it to that thread from
 * whichever thread the kernel picks. Replacing a handler keeps the signal set up. While installed
 * it replaces conc_init's SIGINT routing or a conc_signal_handle handler for signo (the last one
 * installed wins). -EINVAL for SIGKILL, SIGSTOP, the fault signals and numbers outside 1..64;
 * -EBUSY if another loop handles signo. */
CONC_API int conc_loop_add_signal_handler(conc_loop_t *loop, int signo,
                                          void (*cb)(int signo, void *arg), void *arg);
/* Remove it, restore the signal's previous disposition and unblock it in the calling thread (a
 * signal that came but was not handled yet is dropped). false if there was none. Also done for
 * every handler when the loop is freed. */
CONC_API bool conc_loop_remove_signal_handler(conc_loop_t *loop, int signo);

/* ---- subprocesses (asyncio.create_subprocess_exec) ----
 *
 * The child's exit is observed through a pidfd watched by the loop: no SIGCHLD handler is
 * installed, nothing else the program does with SIGCHLD is disturbed (but a program that reaps
 * every child itself, waitpid(-1), takes the status away: the return code is then 255, as
 * Python's). The child starts with an empty signal mask and default dispositions for the signals
 * this process handles, whatever the loop blocked. */
typedef struct conc_subprocess conc_subprocess_t;

enum {
    CONC_SUBPROCESS_INHERIT = 0, /* the parent's fd */
    CONC_SUBPROCESS_PIPE,        /* a pipe, as a stream (conc_subprocess_stdin/stdout/stderr) */
    CONC_SUBPROCESS_DEVNULL,     /* /dev/null */
    CONC_SUBPROCESS_STDOUT,      /* stderr only: where stdout goes */
    CONC_SUBPROCESS_FD,          /* the fd in stdin_fd / stdout_fd / stderr_fd (not closed) */
};

typedef struct {
    int stdin_mode, stdout_mode, stderr_mode; /* CONC_SUBPROCESS_* */
    int stdin_fd, stdout_fd, stderr_fd;       /* for CONC_SUBPROCESS_FD */
    const char *cwd;                          /* NULL: the parent's */
    char *const *env;                         /* NULL: the parent's environ */
} conc_subprocess_opts_t;

/* Start file (searched in PATH when it has no '/') with argv (argv[0] first, NULL-terminated) on
 * the running loop. opts NULL: everything inherited. -ENOENT / -EACCES... when it cannot be
 * executed, -EPERM without a running loop. */
CONC_API int conc_subprocess_exec(const char *file, char *const argv[],
                                  const conc_subprocess_opts_t *opts, conc_subprocess_t **p);
CONC_API pid_t conc_subprocess_pid(conc_subprocess_t *p);
/* The pipes (borrowed: the subprocess owns them); NULL unless CONC_SUBPROCESS_PIPE. Closing the
 * stdin stream (conc_stream_close, which sends what is buffered first) is the child's EOF; it
 * is then gone from the subprocess (conc_subprocess_stdin returns NULL). */
CONC_API conc_stream_t *conc_subprocess_stdin(conc_subprocess_t *p);
CONC_API conc_stream_t *conc_subprocess_stdout(conc_subprocess_t *p);
CONC_API conc_stream_t *conc_subprocess_stderr(conc_subprocess_t *p);
/* Wait for the child to exit: 0 and *returncode (may be NULL) as Python's: the exit status, or
 * -N when killed by signal N; -ECANCELED. */
CONC_API int conc_subprocess_wait(conc_subprocess_t *p, int *returncode);
/* 0 and *returncode once it exited, -EAGAIN while it runs. */
CONC_API int conc_subprocess_returncode(conc_subprocess_t *p, int *returncode);
/* Send input (may be NULL/0) to stdin and close it, read stdout and stderr to their ends, all at
 * once (no pipe deadlock whatever the sizes), then wait. *out / *err (each may be NULL: the output is
 * read and dropped) get malloc'd, NUL-terminated copies (free them), NULL for a stream that is not a
 * pipe. A child that stops reading its stdin early is not an error. A cancellation stops it all
 * (the child runs on: kill it if needed). */
CONC_API int conc_subprocess_communicate(conc_subprocess_t *p, const void *input, size_t n,
                                         char **out, size_t *outlen, char **err, size_t *errlen);
CONC_API int conc_subprocess_send_signal(conc_subprocess_t *p, int signo); /* -ESRCH once exited */
CONC_API int conc_subprocess_terminate(conc_subprocess_t *p);              /* SIGTERM */
CONC_API int conc_subprocess_kill(conc_subprocess_t *p);                   /* SIGKILL */
/* Close the pipes and free. A child still running is left running, unreaped by conc. */
CONC_API void conc_subprocess_free(conc_subprocess_t *p);

#ifdef __cplusplus
}
#endif
#endif
