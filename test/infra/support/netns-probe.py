# netns-probe: the two ends of a TCP connection in the redirection test (mesh-redirect.test.ts).
#
#   serve NAME:PORT[:ADDRESS] ...  listens on each port (0.0.0.0 unless ADDRESS), prints "ready"
#                                  once all are bound, and answers every connection with one
#                                  line: "<name> <original destination>", read with
#                                  SO_ORIGINAL_DST (where a REDIRECT rule sent it from).
#   connect HOST PORT              connects, prints the line it gets (or "error <reason>").
import select
import socket
import struct
import sys

SO_ORIGINAL_DST = 80


def original_destination(conn):
    try:
        raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        port, packed = struct.unpack_from("!2xH4s", raw)
        return "%s:%d" % (socket.inet_ntoa(packed), port)
    except OSError:
        # No conntrack entry to read: the connection's own destination is the original one.
        host, port = conn.getsockname()[:2]
        return "%s:%d" % (host, port)


def serve(specs):
    names = {}
    for spec in specs:
        parts = spec.split(":")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((parts[2] if len(parts) > 2 else "0.0.0.0", int(parts[1])))
        listener.listen(16)
        names[listener] = parts[0]
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select(list(names), [], [])
        for listener in readable:
            conn, _ = listener.accept()
            try:
                conn.sendall(("%s %s\n" % (names[listener], original_destination(conn))).encode())
            finally:
                conn.close()


def connect(host, port):
    try:
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(256)
                if not chunk:
                    break
                data += chunk
            print(data.decode().strip() or "error empty answer")
    except OSError as error:
        print("error %s" % error)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        connect(sys.argv[2], sys.argv[3])
