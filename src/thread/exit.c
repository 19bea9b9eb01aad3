/* placeholder until the thread module lands (same session) */
#include "../internal/hooks.h"
void conc__threads_at_init(void) {}
