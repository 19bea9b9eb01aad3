/* `conc manager serve --address ADDR --authkey-file FILE [--max-message BYTES]`: run a manager
 * server in this process until a client asks it to shut down or Ctrl+C.
 *
 * The key is the file's bytes exactly (no newline stripping: a Python client reading the same file
 * with open(f, "rb").read() must get the same key). The first line on stdout is
 * "conc manager: serving on ADDRESS" with the real address (port 0 resolved), flushed at once, so
 * a script can start the server and read where it listens. Exit status 0 after a shutdown request,
 * 130 after SIGINT, 1 on an error (said on stderr), 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conc.h"
#include "cli.h"

static int usage(void) {
    fputs("usage: conc manager serve --address ADDR --authkey-file FILE [--max-message BYTES]\n"
          "  ADDR: unix:PATH | unix:@NAME | tcp:HOST:PORT | tcp:[V6ADDR]:PORT (port 0: any)\n",
          stderr);
    return 2;
}

static void ready(const char *address, void *arg) {
    (void)arg;
    printf("conc manager: serving on %s\n", address);
    fflush(stdout);
}

static int read_key(const char *path, unsigned char *key, size_t cap, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    *len = fread(key, 1, cap, f);
    int extra = fgetc(f);
    fclose(f);
    return extra == EOF && *len > 0 ? 0 : -1;
}

int conc_cli_manager(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "serve") != 0) return usage();
    const char *address = NULL, *keyfile = NULL;
    size_t max = 0;
    for (int i = 2; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--address"))
            address = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--authkey-file"))
            keyfile = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--max-message"))
            max = strtoull(argv[++i], NULL, 10);
        else
            return usage();
    }
    if (!address || !keyfile) return usage();
    unsigned char key[4096];
    size_t klen;
    if (read_key(keyfile, key, sizeof key, &klen) < 0) {
        fprintf(stderr, "conc manager: cannot read a key (1 to %zu bytes) from %s\n", sizeof key,
                keyfile);
        return 1;
    }
    conc_manager_opts_t o = {
        .address = address, .authkey = key, .authkey_len = klen, .max_message = max};
    int r = conc_manager_serve_notify(&o, ready, NULL);
    memset(key, 0, sizeof key);
    if (r == -EINTR) return 130;
    if (r < 0) {
        fprintf(stderr, "conc manager: %s: %s\n", address, conc_strerror(r));
        return 1;
    }
    return 0;
}
