#!/usr/bin/python3
"""A small HTTP server for cbag's remote tests (tests/remote/run.sh).

Serves the files under ROOT on 127.0.0.1 with HEAD and single-range GET,
and injects faults chosen by the path, /fault/KIND/REST serving ROOT/REST:

  500-twice   the first two GETs of the path answer 500, then it is served
  503-always  every GET answers 503 (HEAD works)
  drop-at-N   the first GET sends N bytes of the body, then drops the
              connection (the Content-Length promised more)
  short-body  every GET sends half the body and closes
  403, 404    every request answers that status
  slow        the first GET sends 100 bytes, then stalls for 4 s
  norange     Range is ignored: always 200 with the whole file

Paths under /signed/ are a tiny S3 bucket "signed" (ROOT/signed): every
request must carry a valid AWS SigV4 signature for key "cbagkey", secret
"cbagsecret", or gets 403 SignatureDoesNotMatch. Any bucket (ROOT/NAME)
answers ListObjectsV2 (?list-type=2, 1000 keys a page) and takes uploads:
PUT, and multipart (POST ?uploads, PUT ?partNumber&uploadId, POST
?uploadId, DELETE ?uploadId); a part of a key containing "fail-part-2"
numbered 2 is refused with 403. GET /__aborted lists aborted uploads.

Usage: http_server.py ROOT PORTFILE  (binds a free port, writes it to
PORTFILE, serves until killed)."""
import hashlib
import hmac
import http.server
import os
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

ROOT = os.path.abspath(sys.argv[1])
counts = {}
uploads = {}   # id -> (key path, {part: bytes})
aborted = []
lock = threading.Lock()
KEY, SECRET = "cbagkey", "cbagsecret"


def bump(path):
    with lock:
        counts[path] = counts.get(path, 0) + 1
        return counts[path]


def sigv4_ok(h, method, path, query):
    auth = h.headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False
    try:
        f = dict(p.strip().split("=", 1) for p in auth[17:].split(","))
        cred = f["Credential"].split("/")
        signed = f["SignedHeaders"].split(";")
    except (KeyError, ValueError):
        return False
    if cred[0] != KEY or "host" not in signed:
        return False
    q = "&".join(sorted(query.split("&"))) if query else ""
    canon_h = "".join("%s:%s\n" % (k, " ".join(h.headers.get(k, "").split()))
                      for k in signed)
    payload = h.headers.get("x-amz-content-sha256", "")
    creq = "\n".join([method, path, q, canon_h, ";".join(signed), payload])
    sts = "\n".join(["AWS4-HMAC-SHA256", h.headers.get("x-amz-date", ""),
                     "/".join(cred[1:]),
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + SECRET).encode()
    for m in cred[1:]:
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(
        hmac.new(k, sts.encode(), hashlib.sha256).hexdigest(), f["Signature"])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if os.environ.get("CBAG_HTTP_LOG"):
            sys.stderr.write("http_server: " + fmt % args + "\n")

    def reply(self, status, body=b"", ctype="application/xml", extra=(),
              length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def s3_error(self, status, code, msg):
        self.reply(status, ("<?xml version=\"1.0\"?><Error><Code>%s</Code>"
                            "<Message>%s</Message></Error>" % (code, msg)).encode())

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        raw_path, _, query = self.path.partition("?")
        path = urllib.parse.unquote(raw_path)
        qs = urllib.parse.parse_qs(query, keep_blank_values=True)
        if path == "/__aborted":
            with lock:
                return self.reply(200, "\n".join(aborted).encode(), "text/plain")
        if path.startswith("/signed/") or path == "/signed":
            if not sigv4_ok(self, self.command, raw_path, query):
                self.body()
                return self.s3_error(403, "SignatureDoesNotMatch",
                                     "The request signature we calculated does not match")
        kind = None
        if path.startswith("/fault/"):
            _, _, kind, rest = path.split("/", 3)
            path = "/" + rest
        parts = path.strip("/").split("/", 1)
        if "list-type" in qs:
            return self.list_objects(parts[0], qs)
        if self.command in ("PUT", "POST", "DELETE"):
            return self.upload(path, qs)
        if kind in ("403", "404"):
            return self.s3_error(int(kind), "AccessDenied" if kind == "403"
                                 else "NoSuchKey", "injected")
        full = os.path.join(ROOT, path.lstrip("/"))
        if not os.path.isfile(full):
            return self.s3_error(404, "NoSuchKey", "The specified key does not exist.")
        size = os.path.getsize(full)
        if self.command == "HEAD":
            return self.reply(200, b"", "application/octet-stream",
                              length=size)
        n = bump(self.path) if kind else 0
        if kind == "500-twice" and n <= 2:
            return self.s3_error(500, "InternalError", "injected")
        if kind == "503-always":
            return self.s3_error(503, "SlowDown", "injected")
        start, end, status = 0, size, 200
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and kind != "norange":
            a, _, b = rng[6:].partition("-")
            start = int(a)
            end = min(int(b) + 1, size) if b else size
            if start >= size:
                return self.reply(416, b"", extra=[
                    ("Content-Range", "bytes */%d" % size)])
            status = 206
        with open(full, "rb") as f:
            f.seek(start)
            body = f.read(end - start)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size))
        self.end_headers()
        cut = None
        if kind and kind.startswith("drop-at-") and n == 1:
            cut = int(kind[8:])
        elif kind == "short-body":
            cut = len(body) // 2
        elif kind == "slow" and n == 1:
            self.wfile.write(body[:100])
            self.wfile.flush()
            time.sleep(4)
            cut = 100
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    def list_objects(self, bucket, qs):
        base = os.path.join(ROOT, bucket)
        prefix = qs.get("prefix", [""])[0]
        token = qs.get("continuation-token", [""])[0]
        keys = []
        for d, _, files in os.walk(base):
            for fn in files:
                k = os.path.relpath(os.path.join(d, fn), base)
                if k.startswith(prefix):
                    keys.append(k)
        keys.sort()
        if token:
            keys = [k for k in keys if k > token]
        page, more = keys[:1000], len(keys) > 1000
        out = ["<?xml version=\"1.0\"?><ListBucketResult><Name>%s</Name>" % bucket]
        for k in page:
            out.append("<Contents><Key>%s</Key><Size>%d</Size></Contents>"
                       % (escape(k), os.path.getsize(os.path.join(base, k))))
        out.append("<IsTruncated>%s</IsTruncated>" % ("true" if more else "false"))
        if more:
            out.append("<NextContinuationToken>%s</NextContinuationToken>" % escape(page[-1]))
        out.append("</ListBucketResult>")
        self.reply(200, "".join(out).encode())

    def upload(self, path, qs):
        data = self.body()
        full = os.path.join(ROOT, path.lstrip("/"))
        if self.command == "POST" and "uploads" in qs:
            uid = uuid.uuid4().hex
            with lock:
                uploads[uid] = (full, {})
            return self.reply(200, ("<InitiateMultipartUploadResult><UploadId>%s"
                                    "</UploadId></InitiateMultipartUploadResult>" % uid).encode())
        uid = qs.get("uploadId", [None])[0]
        if uid is not None and uid not in uploads:
            return self.s3_error(404, "NoSuchUpload", "no such upload")
        if self.command == "PUT" and uid:
            no = int(qs["partNumber"][0])
            if "fail-part-2" in path and no == 2:
                return self.s3_error(403, "AccessDenied", "injected")
            with lock:
                uploads[uid][1][no] = data
            return self.reply(200, b"", extra=[("ETag", '"%s"' % hashlib.md5(data).hexdigest())])
        if self.command == "POST" and uid:
            with lock:
                target, parts = uploads.pop(uid)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                for no in sorted(parts):
                    f.write(parts[no])
            return self.reply(200, b"<CompleteMultipartUploadResult/>")
        if self.command == "DELETE" and uid:
            with lock:
                target, _ = uploads.pop(uid)
                aborted.append(os.path.relpath(target, ROOT))
            return self.reply(204)
        if self.command == "PUT":
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
            return self.reply(200, b"", extra=[("ETag", '"%s"' % hashlib.md5(data).hexdigest())])
        return self.s3_error(405, "MethodNotAllowed", "no")

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
