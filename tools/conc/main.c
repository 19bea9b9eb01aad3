#include <stdio.h>
#include <string.h>
#include "conc.h"
#include "cli.h"

static void usage(FILE *f) {
    fprintf(f, "usage: conc COMMAND [ARGS...]\n"
               "commands:\n"
               "  bound [--json] -- CMD [ARGS...]  run CMD and say whether it is CPU- or IO-bound\n"
               "  vm run FILE [--threads N]        run a VM assembly program under the GIL\n"
               "  demo [--quick] [--json]          the Python guide's experiments, measured\n"
               "  manager serve --address ADDR --authkey-file FILE  run a manager server\n");
}

int main(int argc, char **argv) {
    conc_init(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "bound")) return conc_cli_bound(argc - 1, argv + 1);
    if (!strcmp(argv[1], "vm")) return conc_cli_vm(argc - 1, argv + 1);
    if (!strcmp(argv[1], "demo")) return conc_cli_demo(argc - 1, argv + 1);
    if (!strcmp(argv[1], "manager")) return conc_cli_manager(argc - 1, argv + 1);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "conc: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
