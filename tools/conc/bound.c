/* placeholder until the bound module lands (same session) */
#include <stdio.h>
#include "cli.h"
int conc_cli_bound(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "conc bound: not built yet\n");
    return 2;
}
