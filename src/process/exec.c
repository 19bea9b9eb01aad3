/* A fresh exec of this program, for a spawned child and for the forkserver (CPython's
 * spawnv_passfds of `python -c 'from multiprocessing.spawn import spawn_main; ...'`).
 *
 * posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK), no page-table copy) of /proc/self/exe - the
 * same binary even if its file was replaced meanwhile - with the parent's argv, so that main runs
 * as it did in the parent up to conc_init, which sees the marker variable and takes over. Nothing
 * is inherited but stdin, stdout, stderr and the one socket, moved to fd 3 and closed above it, as
 * CPython's close_fds=True; the signal mask starts empty, since conc's own threads block the
 * asynchronous signals and the caller may be one of them. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc.h"

extern char **environ;

#define CHILD_FD 3

/* Is env the variable that "NAME=..." sets? */
static bool same_name(const char *env, const char *set) {
    size_t len = strcspn(set, "=");
    return strncmp(env, set, len) == 0 && env[len] == '=';
}

int conc__exec_self(pid_t *pid, int fd, const char *marker, const char *const *extra_env) {
    /* The environment, minus any marker inherited from our own parent and any variable extra_env
     * replaces, plus ours. */
    size_t n = 0, nextra = 0;
    for (char **e = environ; e && *e; e++) n++;
    while (extra_env && extra_env[nextra]) nextra++;
    char **envp = malloc((n + nextra + 2) * sizeof *envp);
    char var[128];
    if (!envp) return -ENOMEM;
    snprintf(var, sizeof var, "%s=%s", CONC__MARKER_ENV, marker);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool drop = same_name(environ[i], var);
        for (size_t j = 0; j < nextra; j++) drop = drop || same_name(environ[i], extra_env[j]);
        if (!drop) envp[k++] = environ[i];
    }
    envp[k++] = var;
    for (size_t j = 0; j < nextra; j++) envp[k++] = (char *)extra_env[j];
    envp[k] = NULL;

    char *fallback[] = {program_invocation_name, NULL};
    char **argv = conc__proc_argv && conc__proc_argc > 0 ? conc__proc_argv : fallback;

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none;
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    /* dup2 onto itself clears close-on-exec (glibc >= 2.29), so fd 3 == fd is fine too. */
    posix_spawn_file_actions_adddup2(&fa, fd, CHILD_FD);
    posix_spawn_file_actions_addclosefrom_np(&fa, CHILD_FD + 1);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    int r = posix_spawn(pid, "/proc/self/exe", &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    return -r;
}
