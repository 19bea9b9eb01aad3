"""A Python client of a conc manager, for tests/unit/manager_python.c and the docs.

Usage: manager_client.py ADDRESS KEYFILE [MODE]

ADDRESS is a conc address ("tcp:HOST:PORT" or "unix:PATH"). MODE:
  auto    Python >= 3.12: multiprocessing.connection.Client does the handshake itself;
          older Pythons: the same 3.12 handshake written out over a plain Connection
  manual  always the written-out handshake
  legacy  Python <= 3.11's own Client, which only speaks HMAC-MD5: must be refused

Messages are msgpack, encoded by the tiny codec below (no msgpack module needed). Exit status 0
when every check passed; a failed check raises.
"""
import hmac
import os
import socket
import struct
import sys
from multiprocessing.connection import Client, Connection


def pack(x):
    if x is None:
        return b"\xc0"
    if isinstance(x, bool):
        return b"\xc3" if x else b"\xc2"
    if isinstance(x, int):
        if 0 <= x < 128:
            return bytes([x])
        if -32 <= x < 0:
            return struct.pack("b", x)
        return b"\xd3" + struct.pack(">q", x) if x < 0 else b"\xcf" + struct.pack(">Q", x)
    if isinstance(x, float):
        return b"\xcb" + struct.pack(">d", x)
    if isinstance(x, (bytes, bytearray)):
        return b"\xc6" + struct.pack(">I", len(x)) + bytes(x)
    if isinstance(x, str):
        b = x.encode()
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(x, (list, tuple)):
        return b"\xdd" + struct.pack(">I", len(x)) + b"".join(pack(i) for i in x)
    raise TypeError(type(x))


def unpack(b, i=0):
    """(value, next index) of the msgpack object at b[i]."""
    t = b[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xE0:
        return t - 256, i
    if 0x90 <= t <= 0x9F or t in (0xDC, 0xDD):
        if t <= 0x9F:
            n = t & 15
        elif t == 0xDC:
            (n,), i = struct.unpack_from(">H", b, i), i + 2
        else:
            (n,), i = struct.unpack_from(">I", b, i), i + 4
        out = []
        for _ in range(n):
            v, i = unpack(b, i)
            out.append(v)
        return out, i
    if 0xA0 <= t <= 0xBF:
        n = t & 31
        return b[i:i + n].decode(), i + n
    if t == 0xC0:
        return None, i
    if t in (0xC2, 0xC3):
        return t == 0xC3, i
    sizes = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}
    if t in sizes:
        k = sizes[t]
        n = int.from_bytes(b[i:i + k], "big")
        i += k
        v = bytes(b[i:i + n])
        return (v if t <= 0xC6 else v.decode()), i + n
    ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h",
            0xD2: ">i", 0xD3: ">q", 0xCA: ">f", 0xCB: ">d"}
    if t in ints:
        f = ints[t]
        return struct.unpack_from(f, b, i)[0], i + struct.calcsize(f)
    raise ValueError("unsupported msgpack byte 0x%02x" % t)


def handshake(conn, key):
    """Python 3.12's Client handshake: answer the server's challenge, then challenge it."""
    msg = conn.recv_bytes(256)
    assert msg.startswith(b"#CHALLENGE#{sha256}"), msg
    msg = msg[len(b"#CHALLENGE#"):]
    conn.send_bytes(b"{sha256}" + hmac.new(key, msg, "sha256").digest())
    if conn.recv_bytes(256) != b"#WELCOME#":
        raise PermissionError("digest sent was rejected")
    chal = b"{sha256}" + os.urandom(40)
    conn.send_bytes(b"#CHALLENGE#" + chal)
    ans = conn.recv_bytes(256)
    good = hmac.compare_digest(ans, b"{sha256}" + hmac.new(key, chal, "sha256").digest())
    conn.send_bytes(b"#WELCOME#" if good else b"#FAILURE#")
    if not good:
        raise PermissionError("the server does not know the key")


def connect(address, key, mode):
    if address.startswith("unix:"):
        family, addr = socket.AF_UNIX, address[5:].replace("@", "\0", 1)
    else:
        host, port = address[4:].rsplit(":", 1)
        family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
        addr = (host.strip("[]"), int(port))
    if mode == "auto" and sys.version_info >= (3, 12) or mode == "legacy":
        return Client(addr, authkey=key)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect(addr)
    conn = Connection(s.detach())
    handshake(conn, key)
    return conn


class Manager:
    def __init__(self, conn):
        self.conn, self.msgid = conn, 0

    def call(self, method, name, *args):
        self.msgid += 1
        self.conn.send_bytes(pack([self.msgid, method, name, list(args)]))
        (msgid, err, result), _ = unpack(self.conn.recv_bytes())
        assert msgid == self.msgid, (msgid, self.msgid)
        return err, result

    def ok(self, method, name, *args):
        err, result = self.call(method, name, *args)
        assert err == 0, (method, err)
        return result


def main():
    address, keyfile = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "auto"
    key = open(keyfile, "rb").read()
    if mode == "legacy":
        try:
            connect(address, key, mode)
        except Exception as e:  # AuthenticationError or EOFError: refused either way
            print("legacy client refused:", type(e).__name__, e)
            return 0
        raise AssertionError("a HMAC-MD5 client got in")
    m = Manager(connect(address, key, mode))
    ENOENT, ERANGE, ETIMEDOUT, EPERM, ENOSYS, EINVAL = 2, 34, 110, 1, 38, 22
    # the dict the C side filled
    assert m.ok("dict.get", "shared", b"from-c") == b"hello from C"
    m.ok("dict.set", "shared", b"from-python", b"hello from Python %d" % sys.version_info[1])
    # dict
    m.ok("dict.open", "d")
    m.ok("dict.set", "d", b"k", b"v")
    assert m.ok("dict.get", "d", b"k") == b"v"
    assert m.call("dict.get", "d", b"nope")[0] == -ENOENT
    m.ok("dict.update", "d", [[b"a", b"1"], [b"b", b"2"]])
    assert m.ok("dict.len", "d") == 3
    assert m.ok("dict.items", "d") == [[b"k", b"v"], [b"a", b"1"], [b"b", b"2"]]
    m.ok("dict.del", "d", b"a")
    assert m.call("dict.del", "d", b"a")[0] == -ENOENT
    # list
    m.ok("list.append", "l", b"x")
    m.ok("list.append", "l", b"y")
    assert m.ok("list.get", "l", -1) == b"y"
    m.ok("list.set", "l", 0, b"X")
    assert m.call("list.get", "l", 5)[0] == -ERANGE
    assert m.ok("list.pop", "l", 0) == b"X"
    assert m.ok("list.len", "l") == 1
    # value
    m.ok("value.set", "v", 40)
    assert m.ok("value.add", "v", 2) == 42
    assert m.ok("value.get", "v") == 42
    m.ok("value.set", "v", -7)
    assert m.ok("value.get", "v") == -7
    # queue
    m.ok("queue.open", "q", 1)
    m.ok("queue.put", "q", b"item", 1.0)
    assert m.call("queue.put", "q", b"more", 0)[0] == -ETIMEDOUT
    assert m.ok("queue.get", "q", -1) == b"item"
    assert m.call("queue.get", "q", 0.05)[0] == -ETIMEDOUT
    # lock and event
    m.ok("lock.acquire", "lk", 1)
    m.ok("lock.release", "lk")
    assert m.call("lock.release", "lk")[0] == -EPERM
    m.ok("event.set", "e")
    m.ok("event.wait", "e", 0)
    m.ok("event.clear", "e")
    assert m.call("event.wait", "e", 0)[0] == -ETIMEDOUT
    # errors
    assert m.call("dict.explode", "d")[0] == -ENOSYS
    assert m.call("nosuch.get", "d")[0] == -ENOSYS
    assert m.call("dict.get", "d", 1)[0] == -EINVAL
    assert m.call("dict.set", "d", b"only-key")[0] == -EINVAL
    print("python %d.%d (%s): all manager methods passed" % (sys.version_info[:2] + (mode,)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
