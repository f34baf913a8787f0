#!/usr/bin/env python3
"""The Python structural peer for plumb's benchmarks.

    peer-deepdiff.py LEFT_DIR RIGHT_DIR

Loads every *.yaml/*.yml file under both directories with PyYAML's C loader, keys each object
by (apiVersion group, kind, namespace, name), runs deepdiff.DeepDiff (ignore_order=False) on
every pair, and prints counts: objects per side, pairs, pairs that differ, differences (the sum
of DeepDiff's report items) and objects found on one side only. This is what a hand-rolled
"diff two environments" script does, without any of plumb's normalization.
"""

import os
import sys

import yaml
from deepdiff import DeepDiff


def identity(obj):
    api_version = obj.get("apiVersion") or ""
    group = api_version.split("/")[0] if "/" in api_version else ""
    metadata = obj.get("metadata") or {}
    return (group, obj.get("kind"), metadata.get("namespace"), metadata.get("name"))


def load(root):
    objects = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                for doc in yaml.load_all(f, Loader=yaml.CSafeLoader):
                    if isinstance(doc, dict):
                        objects[identity(doc)] = doc
    return objects


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    left, right = load(sys.argv[1]), load(sys.argv[2])
    pairs = differing = differences = 0
    for key, l in left.items():
        r = right.get(key)
        if r is None:
            continue
        pairs += 1
        result = DeepDiff(l, r, ignore_order=False)
        if result:
            differing += 1
            differences += sum(len(items) for items in result.values())
    only_left = len(left.keys() - right.keys())
    only_right = len(right.keys() - left.keys())
    print(f"left {len(left)} right {len(right)} pairs {pairs} differing {differing} "
          f"differences {differences} only-left {only_left} only-right {only_right}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
