/* conc_wait's process branch: a process is waited on through its sentinel, which becomes readable
 * once it ended (a pidfd for fork and spawn children; for a forkserver child the socket that
 * carries its status, readable once the status is there: src/process/proc.h). */
#include "wait.h"

int conc__wait_process_fd(conc_process_t *p) {
    return conc_process_sentinel(p);
}
