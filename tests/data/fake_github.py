#!/usr/bin/env python3
"""A local fake of the GitHub REST endpoints the Action's sticky-comment script calls, for
tests/sticky_comment.rs: list an issue's comments (paginated, with a Link header, never more than
--page-size per page whatever per_page asks, as GitHub caps it at 100), create, update and delete
a comment. Comments live in memory; every request is checked for `Authorization: Bearer TOKEN`
(or `token TOKEN`), and a body over 65,536 characters is refused as GitHub refuses it.

Usage: fake_github.py --token T --state FILE [--seed FILE] [--page-size N]
Prints the port it listens on (127.0.0.1) on its first line. After every request it rewrites
FILE (atomically) with {"comments": [...], "requests": [...]}, so the test reads what happened
without an HTTP client of its own.
"""

import argparse
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BODY_MAX = 65536


class State:
    def __init__(self, seed, path):
        self.lock = threading.Lock()
        self.path = path
        self.comments = []  # {"id", "issue", "body", "user"}
        self.requests = []  # {"method", "path", "authorized"}
        self.next_id = 1000
        for entry in seed:
            self.add(entry["issue"], entry["body"], entry.get("user", "someone"))
        self.save()

    def add(self, issue, body, user):
        self.next_id += 7  # ids are not consecutive on GitHub either
        comment = {"id": self.next_id, "issue": issue, "body": body, "user": {"login": user}}
        self.comments.append(comment)
        return comment

    def save(self):
        temporary = self.path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump({"comments": self.comments, "requests": self.requests}, f, indent=1)
        os.replace(temporary, self.path)


def handler_for(state, token, repo, page_size):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, payload=None, headers=()):
            raw = b"" if payload is None else json.dumps(payload).encode("utf-8")
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def handle_any(self, method):
            url = urlparse(self.path)
            authorized = self.headers.get("Authorization") in ("Bearer " + token, "token " + token)
            with state.lock:
                state.requests.append({"method": method, "path": self.path, "authorized": authorized})
                try:
                    if not authorized:
                        return self.reply(401, {"message": "Bad credentials"})
                    return self.route(method, url)
                finally:
                    state.save()

        def route(self, method, url):
            prefix = "/repos/{}/".format(repo)
            if not url.path.startswith(prefix):
                return self.reply(404, {"message": "Not Found"})
            rest = url.path[len(prefix):]
            listing = re.fullmatch(r"issues/(\d+)/comments", rest)
            single = re.fullmatch(r"issues/comments/(\d+)", rest)
            if listing and method == "GET":
                issue = int(listing.group(1))
                query = parse_qs(url.query)
                per_page = min(int(query.get("per_page", ["30"])[0]), page_size)
                page = int(query.get("page", ["1"])[0])
                mine = [c for c in state.comments if c["issue"] == issue]
                last = max(1, -(-len(mine) // per_page))
                links = []
                base = "http://{}:{}{}".format(*self.server.server_address, url.path)
                if page < last:
                    links.append('<{}?per_page={}&page={}>; rel="next"'.format(base, per_page, page + 1))
                links.append('<{}?per_page={}&page={}>; rel="last"'.format(base, per_page, last))
                return self.reply(
                    200, mine[(page - 1) * per_page: page * per_page], [("Link", ", ".join(links))]
                )
            if listing and method == "POST":
                body = self.body().get("body", "")
                if len(body) > BODY_MAX:
                    return self.reply(422, {"message": "Body is too long (maximum is 65536 characters)"})
                return self.reply(201, state.add(int(listing.group(1)), body, "github-actions[bot]"))
            if single:
                found = [c for c in state.comments if c["id"] == int(single.group(1))]
                if not found:
                    return self.reply(404, {"message": "Not Found"})
                if method == "PATCH":
                    body = self.body().get("body", "")
                    if len(body) > BODY_MAX:
                        return self.reply(422, {"message": "Body is too long (maximum is 65536 characters)"})
                    found[0]["body"] = body
                    return self.reply(200, found[0])
                if method == "DELETE":
                    state.comments.remove(found[0])
                    return self.reply(204)
            return self.reply(404, {"message": "Not Found"})

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def do_PATCH(self):
            self.handle_any("PATCH")

        def do_DELETE(self):
            self.handle_any("DELETE")

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--repo", default="acme/gitops")
    parser.add_argument("--state", required=True)
    parser.add_argument("--seed")
    parser.add_argument("--page-size", type=int, default=2)
    args = parser.parse_args()
    seed = []
    if args.seed:
        with open(args.seed, encoding="utf-8") as f:
            seed = json.load(f)
    state = State(seed, args.state)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state, args.token, args.repo, args.page_size))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
