#!/usr/bin/env python3
"""Keeps ONE plumb comment per command and environments on a pull request, edited in place.

plumb writes its Markdown comment to FILE, and, when the comment is larger than one pull-request
comment can hold, its later parts to FILE-2, FILE-3, ... (docs/report.md, "Markdown"). Each part
is posted as its own comment whose first line is a hidden marker:

    <!-- plumb:parity:staging,production -->            part 1
    <!-- plumb:parity:staging,production:part-2 -->     part 2, ...

so a `diff` comment and an `audit` comment never overwrite each other. On every run the comments
carrying this run's markers are found (all pages of the pull request's comments), edited in place
when their text changed, created when absent, and the parts a shorter report no longer needs are
DELETED (an emptied comment would stay in the thread as noise; a later long report creates them
again). Comments with other markers, or none, are never touched.

Python 3 standard library only: it runs on any GitHub runner without installing anything.

Environment: GITHUB_TOKEN (or GH_TOKEN), GITHUB_API_URL (default https://api.github.com),
GITHUB_REPOSITORY and GITHUB_EVENT_PATH (the pull request's number) unless --repo / --pr are given.
Exit status: 0 done, 1 the GitHub API refused or failed, 2 bad input (no file, no token, no PR).
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

# GitHub refuses a comment body longer than this many characters.
BODY_MAX = 65536
USER_AGENT = "plumb-sticky-comment"


class ApiError(Exception):
    """A request the GitHub API refused or could not answer."""


class InputError(Exception):
    """Something this script was given (or not given) that it cannot work with."""


def marker_key(command):
    """`parity staging production` -> `parity:staging,production`; `audit` -> `audit:all`.

    Characters that could end or break an HTML comment become `_`.
    """
    words = [re.sub(r"[^A-Za-z0-9_.-]", "_", w).replace("--", "__") for w in command.split()]
    if not words:
        raise InputError("--command is empty: give plumb's command, e.g. 'audit' or 'parity staging production'")
    return "{}:{}".format(words[0], ",".join(words[1:]) or "all")


def marker(key, part):
    suffix = "" if part == 1 else ":part-{}".format(part)
    return "<!-- plumb:{}{} -->".format(key, suffix)


def part_of(body, key):
    """The part number a comment body's marker names for this key, or None when it is not ours."""
    first_line = (body or "").split("\n", 1)[0].rstrip("\r")
    found = re.fullmatch(r"<!-- plumb:{}(?::part-(\d+))? -->".format(re.escape(key)), first_line)
    if not found:
        return None
    return int(found.group(1) or 1)


def part_files(first):
    """FILE, FILE-2, FILE-3, ... as plumb writes them, while they exist."""
    if not os.path.isfile(first):
        raise InputError(
            "{}: no such file; run plumb with --report markdown={} first".format(first, first)
        )
    directory, name = os.path.split(first)
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    files = [first]
    while True:
        n = len(files) + 1
        candidate = os.path.join(directory, "{}-{}.{}".format(stem, n, ext) if ext else "{}-{}".format(stem, n))
        if not os.path.isfile(candidate):
            return files
        files.append(candidate)


def comment_body(key, part, text):
    """The marker line, then plumb's text; cut at a line when the marker pushes it over the limit."""
    head = marker(key, part) + "\n"
    body = head + text
    if len(body) <= BODY_MAX:
        return body
    note = "\n\n*(cut to fit one comment: the report file has the whole part)*\n"
    room = BODY_MAX - len(head) - len(note)
    cut = text[:room]
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else cut
    return head + cut + note


class GitHub:
    def __init__(self, api_url, token, repo):
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.repo = repo

    def request(self, method, url, payload=None):
        """One request; returns (decoded JSON or None, response headers)."""
        if not url.startswith(self.api_url + "/"):
            # A pagination link elsewhere would carry the token off the API host.
            raise ApiError("refusing to send the token to {} (not under {})".format(url, self.api_url))
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", USER_AGENT)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                raw = response.read()
                return (json.loads(raw) if raw else None), response.headers
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("message", detail)
            except (ValueError, AttributeError):
                pass
            hint = ""
            if error.code in (401, 403, 404):
                hint = " (the token needs `pull-requests: write`; a fork's pull request gets a read-only token)"
            raise ApiError("{} {}: HTTP {} {}{}".format(method, url, error.code, detail, hint)) from None
        except urllib.error.URLError as error:
            raise ApiError("{} {}: {}".format(method, url, error.reason)) from None

    def comments(self, pr):
        """Every comment on the pull request, following the Link header's `next` page."""
        url = "{}/repos/{}/issues/{}/comments?per_page=100".format(self.api_url, self.repo, pr)
        found = []
        while url:
            page, headers = self.request("GET", url)
            found.extend(page or [])
            url = next_link(headers.get("Link", ""))
        return found

    def create(self, pr, body):
        url = "{}/repos/{}/issues/{}/comments".format(self.api_url, self.repo, pr)
        return self.request("POST", url, {"body": body})[0]

    def update(self, comment_id, body):
        url = "{}/repos/{}/issues/comments/{}".format(self.api_url, self.repo, comment_id)
        return self.request("PATCH", url, {"body": body})[0]

    def delete(self, comment_id):
        url = "{}/repos/{}/issues/comments/{}".format(self.api_url, self.repo, comment_id)
        self.request("DELETE", url)


def next_link(link_header):
    for entry in link_header.split(","):
        found = re.match(r'\s*<([^>]+)>\s*;\s*rel="next"', entry)
        if found:
            return found.group(1)
    return None


def pull_request_number(event_path):
    if not event_path or not os.path.isfile(event_path):
        raise InputError("no --pr and no GITHUB_EVENT_PATH: run on a pull_request event or give --pr")
    with open(event_path, encoding="utf-8") as f:
        event = json.load(f)
    number = (event.get("pull_request") or {}).get("number") or (event.get("issue") or {}).get("number")
    if not number:
        raise InputError("{}: not a pull request event; give --pr".format(event_path))
    return int(number)


def sync(github, pr, key, texts):
    """Makes the pull request's comments for `key` hold exactly `texts`, one comment per part."""
    ours = {}
    for comment in sorted(github.comments(pr), key=lambda c: c["id"]):
        part = part_of(comment.get("body"), key)
        if part is not None:
            ours.setdefault(part, []).append(comment)
    for part, text in enumerate(texts, start=1):
        body = comment_body(key, part, text)
        existing = ours.pop(part, [])
        if existing:
            keep, duplicates = existing[0], existing[1:]
            if keep.get("body") == body:
                print("part {}: comment {} unchanged".format(part, keep["id"]))
            else:
                github.update(keep["id"], body)
                print("part {}: comment {} updated".format(part, keep["id"]))
            # Two runs racing may both have created a part: the oldest stays.
            for duplicate in duplicates:
                github.delete(duplicate["id"])
                print("part {}: duplicate comment {} deleted".format(part, duplicate["id"]))
        else:
            created = github.create(pr, body)
            print("part {}: comment {} created".format(part, created.get("id")))
    for part, stale in sorted(ours.items()):
        for comment in stale:
            github.delete(comment["id"])
            print("part {}: comment {} deleted (the report has {} part(s) now)".format(part, comment["id"], len(texts)))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="plumb's Markdown report (--report markdown=FILE); FILE-2, ... are its later parts")
    parser.add_argument("--command", required=True, help="plumb's command and environments, e.g. 'parity staging production'")
    parser.add_argument("--key", help="the marker's key instead of one derived from --command (two jobs running one command)")
    parser.add_argument("--repo", default=os.environ.get("GITHUB_REPOSITORY"), help="owner/name (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--pr", type=int, help="the pull request's number (default: from $GITHUB_EVENT_PATH)")
    args = parser.parse_args(argv)
    try:
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        if not token:
            raise InputError("no GITHUB_TOKEN (or GH_TOKEN) in the environment")
        if not args.repo:
            raise InputError("no --repo and no GITHUB_REPOSITORY")
        key = args.key or marker_key(args.command)
        if "--" in key or ">" in key:
            raise InputError("--key {!r}: `--` and `>` would end the hidden marker".format(key))
        texts = []
        for path in part_files(args.file):
            with open(path, encoding="utf-8") as f:
                texts.append(f.read())
        pr = args.pr or pull_request_number(os.environ.get("GITHUB_EVENT_PATH"))
        api_url = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
        sync(GitHub(api_url, token, args.repo), pr, key, texts)
    except InputError as error:
        print("sticky-comment: {}".format(error), file=sys.stderr)
        return 2
    except ApiError as error:
        print("sticky-comment: {}".format(error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
