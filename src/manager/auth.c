/* The authentication handshake of Python 3.12's multiprocessing.connection, byte for byte.
 *
 * The side that challenges sends "#CHALLENGE#" + "{sha256}" + 40 random bytes; the answer is
 * "{sha256}" + HMAC-SHA256(key, "{sha256}" + those 40 bytes) - the MAC covers the prefix, so a
 * peer cannot talk the other down to a weaker digest - and the challenger replies "#WELCOME#" or
 * "#FAILURE#". Client() answers the server's challenge first, then challenges the server (mutual:
 * a fake server that does not know the key is caught too). Python <= 3.11 only speaks a bare
 * HMAC-MD5 variant; it is refused here (docs/managers.md says what that means for 3.11 clients).
 *
 * libsodium does the cryptography: HMAC-SHA256 in its init/update/final form (the one-shot form
 * wants a 32-byte key, Python's keys are any length), its CSPRNG for the nonce, and sodium_memcmp,
 * a constant-time compare, so the time a wrong answer takes to reject says nothing about the key. */
#define _GNU_SOURCE
#include <sodium.h>
#include <string.h>
#include "mgr.h"

#define CHAL_HDR (sizeof CONC__AUTH_CHALLENGE - 1)
#define PREFIX   (sizeof CONC__AUTH_PREFIX - 1)

static int sodium_ready(void) {
    static int ok; /* sodium_init is itself thread-safe and idempotent */
    if (!__atomic_load_n(&ok, __ATOMIC_ACQUIRE)) {
        if (sodium_init() < 0) return -ENOSYS;
        __atomic_store_n(&ok, 1, __ATOMIC_RELEASE);
    }
    return 0;
}

int conc__random(void *buf, size_t n) {
    int r = sodium_ready();
    if (r < 0) return r;
    randombytes_buf(buf, n);
    return 0;
}

static void hmac(const void *key, size_t klen, const void *msg, size_t len, unsigned char out[32]) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, msg, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

int conc__auth_challenge(unsigned char out[CONC__AUTH_CHAL_LEN]) {
    memcpy(out, CONC__AUTH_CHALLENGE CONC__AUTH_PREFIX, CHAL_HDR + PREFIX);
    return conc__random(out + CHAL_HDR + PREFIX, CONC__AUTH_NONCE);
}

int conc__auth_answer(const void *key, size_t klen, const void *chal, size_t len,
                      unsigned char out[CONC__AUTH_RESP_LEN]) {
    const unsigned char *c = chal;
    /* Python's answer_challenge wants at least 20 bytes after the marker; with the prefix that
     * leaves 12 bytes of nonce, which we accept as Python does. */
    if (len < CHAL_HDR + 20 || memcmp(c, CONC__AUTH_CHALLENGE, CHAL_HDR) != 0 ||
        memcmp(c + CHAL_HDR, CONC__AUTH_PREFIX, PREFIX) != 0)
        return -EINVAL;
    int r = sodium_ready();
    if (r < 0) return r;
    memcpy(out, CONC__AUTH_PREFIX, PREFIX);
    hmac(key, klen, c + CHAL_HDR, len - CHAL_HDR, out + PREFIX);
    return 0;
}

bool conc__auth_verify(const void *key, size_t klen, const void *chal, size_t clen,
                       const void *resp, size_t rlen) {
    unsigned char want[CONC__AUTH_RESP_LEN];
    if (rlen != sizeof want || conc__auth_answer(key, klen, chal, clen, want) < 0) return false;
    bool ok = sodium_memcmp(want, resp, sizeof want) == 0;
    sodium_memzero(want, sizeof want);
    return ok;
}

static int recv_msg(conc_conn_t *c, void **buf, size_t *len, double deadline) {
    double left = deadline - conc_monotonic();
    if (left <= 0) return CONC_EAUTH;
    int r = conc_conn_recv(c, buf, len, left);
    /* A peer that hangs up, times out or sends a frame over 256 bytes mid-handshake has refused
     * us (a Python server closes on #FAILURE# too) - except for SIGINT, which is the caller's. */
    if (r == -EINTR || r == -ENOMEM) return r;
    return r < 0 ? CONC_EAUTH : 0;
}

static bool is(const void *buf, size_t len, const char *s) {
    return len == strlen(s) && memcmp(buf, s, len) == 0;
}

int conc__auth_client(conc_conn_t *c, const void *key, size_t klen, double deadline) {
    void *buf;
    size_t len;
    unsigned char ans[CONC__AUTH_RESP_LEN], chal[CONC__AUTH_CHAL_LEN];
    int r = recv_msg(c, &buf, &len, deadline);
    if (r < 0) return r;
    r = conc__auth_answer(key, klen, buf, len, ans);
    free(buf);
    if (r < 0) return r == -EINVAL ? CONC_EAUTH : r;
    if ((r = conc_conn_send(c, ans, sizeof ans)) < 0) return r == -EINTR ? r : CONC_EAUTH;
    if ((r = recv_msg(c, &buf, &len, deadline)) < 0) return r;
    bool welcome = is(buf, len, CONC__AUTH_WELCOME);
    free(buf);
    if (!welcome) return CONC_EAUTH;
    /* Now the server proves it knows the key. */
    if ((r = conc__auth_challenge(chal)) < 0) return r;
    if ((r = conc_conn_send(c, chal, sizeof chal)) < 0) return r == -EINTR ? r : CONC_EAUTH;
    if ((r = recv_msg(c, &buf, &len, deadline)) < 0) return r;
    bool ok = conc__auth_verify(key, klen, chal, sizeof chal, buf, len);
    free(buf);
    const char *verdict = ok ? CONC__AUTH_WELCOME : CONC__AUTH_FAILURE;
    r = conc_conn_send(c, verdict, strlen(verdict));
    if (!ok) return CONC_EAUTH;
    return r < 0 ? (r == -EINTR ? r : CONC_EAUTH) : 0;
}
