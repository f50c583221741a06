# Sends raw bytes (a python bytes expression written by the spec) to
# 127.0.0.1:<port> and prints what comes back until the server closes the
# connection (exit 0) or <wait> s (default 15) pass (exit 3).
#   python3 raw_http.py <port> <python-bytes-expression> [wait]
# e.g. python3 raw_http.py 8080 'b"GET / HTTP/1.1\r\n\r\n"'
import socket, sys

port, data = int(sys.argv[1]), eval(sys.argv[2], {"__builtins__": {}})
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 15
s = socket.create_connection(("127.0.0.1", port), timeout=wait)
s.sendall(data)
reply = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
except (socket.timeout, TimeoutError):
    sys.stdout.buffer.write(reply)
    sys.exit(3)
except ConnectionResetError:
    pass
sys.stdout.buffer.write(reply)
