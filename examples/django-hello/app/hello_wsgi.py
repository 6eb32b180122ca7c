"""The "hello world" that depc deploys: a WSGI application and a server for it.

Only the standard library, so the example needs no package index: the
virtualenv gives it an interpreter of its own, and its settings come from
the ini file that depc renders (path in HELLO_SETTINGS).
"""
import configparser
import os
from wsgiref.simple_server import make_server


def settings():
    parser = configparser.ConfigParser()
    path = os.environ["HELLO_SETTINGS"]
    if not parser.read(path):
        raise SystemExit(f"hello: cannot read settings {path}")
    return parser["hello"]


def application(environ, start_response):
    body = f"{settings()['greeting']}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def main():
    s = settings()
    with make_server(s.get("bind", "127.0.0.1"), int(s["port"]), application) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
