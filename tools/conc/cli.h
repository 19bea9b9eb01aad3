/* Subcommands of the conc CLI: each takes argv starting at its own name, returns the exit status. */
#ifndef CONC_CLI_H
#define CONC_CLI_H
int conc_cli_bound(int argc, char **argv);
int conc_cli_vm(int argc, char **argv);
int conc_cli_demo(int argc, char **argv);
int conc_cli_manager(int argc, char **argv);
#endif
