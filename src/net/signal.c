/* placeholder until loop signal handlers land */
#include "../internal/net.h"
void conc__net_sig_free(struct conc__net *net) {
    (void)net;
}
