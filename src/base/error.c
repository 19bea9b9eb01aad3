#define _GNU_SOURCE
/* Error names and messages for every code the library returns: negated errno values and the
 * library's own codes below -4000. */
#include <string.h>
#include "conc/error.h"

struct own_code {
    int code;
    const char *name, *msg;
};

static const struct own_code own_codes[] = {
    {CONC_EBROKEN, "CONC_EBROKEN", "broken: a barrier or pool can no longer be used"},
    {CONC_ECLOSED, "CONC_ECLOSED", "closed: the queue or connection is closed or its peer is gone"},
    {CONC_EAUTH, "CONC_EAUTH", "authentication failed"},
    {CONC_EOWNERDEAD, "CONC_EOWNERDEAD", "acquired a lock whose previous owner died holding it"},
    {CONC_EPROTO, "CONC_EPROTO", "malformed message on the wire"},
};

static const struct own_code *own(int err) {
    for (size_t i = 0; i < sizeof own_codes / sizeof own_codes[0]; i++)
        if (own_codes[i].code == err) return &own_codes[i];
    return NULL;
}

const char *conc_errname(int err) {
    const struct own_code *o = own(err);
    if (o) return o->name;
    if (err == 0) return "OK";
    if (err < 0 && err > -4000) {
        const char *n = strerrorname_np(-err);
        if (n) return n;
    }
    return "UNKNOWN";
}

const char *conc_strerror(int err) {
    const struct own_code *o = own(err);
    if (o) return o->msg;
    if (err == 0) return "success";
    if (err < 0 && err > -4000) {
        const char *d = strerrordesc_np(-err);
        if (d) return d;
    }
    return "unknown error code";
}
