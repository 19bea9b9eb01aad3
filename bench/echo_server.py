"""The asyncio (or uvloop) streams echo server of bench/echo.c: serves the listening socket whose
fd is argv[1] until killed. argv[2] == "uvloop" runs it on uvloop."""
import asyncio
import socket
import sys


async def client(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # the benchmark client just goes away
    writer.close()


async def main(fd):
    sock = socket.socket(fileno=fd)
    server = await asyncio.start_server(client, sock=sock)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(int(sys.argv[1])))
