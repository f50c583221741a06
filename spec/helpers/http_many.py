# <n> concurrent HTTP clients (one thread and one connection each) against
# 127.0.0.1:<port>/test/echo?i=<k>; prints "ok <n>" when every answer is
# right, else the first wrong answer.  python3 http_many.py <port> <n>
import sys, threading, urllib.request

port, n = int(sys.argv[1]), int(sys.argv[2])
answers = [None] * n
start = threading.Barrier(n)

def client(k):
    start.wait()
    url = "http://127.0.0.1:%d/test/echo?i=%d" % (port, k)
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            answers[k] = (r.status, r.read().decode())
    except Exception as e:
        answers[k] = ("error", repr(e))

threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
for t in threads: t.start()
for t in threads: t.join()
for k, a in enumerate(answers):
    if a != (200, "i=%d|" % k):
        print("client", k, "got", a)
        sys.exit(1)
print("ok", n)
