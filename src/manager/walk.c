/* The bounded msgpack walker: the only code that looks at a frame's bytes before they are known to
 * be well-formed.
 *
 * Neither msgpack library on Debian is safe on hostile bytes (docs/managers.md, "Why a walker"):
 * msgpack-c allocates whatever an array header announces (5 bytes ask for 128 GiB), and msgpuck
 * 1.0.3's mp_check keeps its pending count in an int that a 0xffffffff array header wraps, so it
 * calls 5 bytes of nothing valid. So a frame is walked here first, iteratively with a fixed stack:
 * every string, binary or extension length must fit in the bytes that remain, every container's
 * element count too (each element takes at least a byte), nesting is capped, the reserved byte 0xc1
 * is refused, and the object must end exactly at the end of the frame. Only then do msgpuck's
 * decoders (codec.c) read it; they allocate nothing and cannot step outside what was walked. */
#define _GNU_SOURCE
#include "mgr.h"

static uint64_t be(const unsigned char *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

int conc__mp_walk(const void *buf, size_t len, unsigned max_depth) {
    const unsigned char *p = buf;
    uint64_t pending[CONC__MP_MAX_DEPTH + 1];
    if (max_depth > CONC__MP_MAX_DEPTH) max_depth = CONC__MP_MAX_DEPTH;
    size_t pos = 0;
    unsigned depth = 0;
    pending[0] = 1;
    for (;;) {
        while (pending[depth] == 0) {
            if (depth == 0) return pos == len ? 0 : -EINVAL;
            depth--;
        }
        pending[depth]--;
        if (pos >= len) return -EINVAL;
        unsigned b = p[pos++];
        uint64_t skip = 0, children = 0;
        unsigned nlen = 0; /* bytes of a length field that follow */
        int kind = 0;      /* 0 scalar, 1 array, 2 map, 3 bytes, 4 ext */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        } else if (b <= 0x8f) {
            children = 2 * (uint64_t)(b & 0x0f);
        } else if (b <= 0x9f) {
            children = b & 0x0f;
        } else if (b <= 0xbf) {
            skip = b & 0x1f;
        } else {
            switch (b) {
            case 0xc4: nlen = 1, kind = 3; break;
            case 0xc5: nlen = 2, kind = 3; break;
            case 0xc6: nlen = 4, kind = 3; break;
            case 0xc7: nlen = 1, kind = 4; break;
            case 0xc8: nlen = 2, kind = 4; break;
            case 0xc9: nlen = 4, kind = 4; break;
            case 0xca: skip = 4; break;
            case 0xcb: skip = 8; break;
            case 0xcc:
            case 0xd0: skip = 1; break;
            case 0xcd:
            case 0xd1: skip = 2; break;
            case 0xce:
            case 0xd2: skip = 4; break;
            case 0xcf:
            case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xd9: nlen = 1, kind = 3; break;
            case 0xda: nlen = 2, kind = 3; break;
            case 0xdb: nlen = 4, kind = 3; break;
            case 0xdc: nlen = 2, kind = 1; break;
            case 0xdd: nlen = 4, kind = 1; break;
            case 0xde: nlen = 2, kind = 2; break;
            case 0xdf: nlen = 4, kind = 2; break;
            default: return -EINVAL; /* 0xc1, never used */
            }
        }
        if (nlen) {
            if (len - pos < nlen) return -EINVAL;
            uint64_t n = be(p + pos, nlen);
            pos += nlen;
            if (kind == 1)
                children = n;
            else if (kind == 2)
                children = 2 * n;
            else
                skip = n + (kind == 4); /* an extension's type byte */
        }
        if (skip > len - pos) return -EINVAL;
        pos += (size_t)skip;
        if (children) {
            if (children > len - pos || depth + 1 > max_depth) return -EINVAL;
            pending[++depth] = children;
        }
    }
}
