"""Reads plumb's output back with real parsers and prints what they saw, as JSON, for
tests/formats.rs and tests/schema.rs. Usage: check_formats.py sarif FILE SCHEMA | junit FILE |
prom FILE | jsonschema SCHEMA INSTANCE..."""
import json
import sys


def sarif(path, schema_path):
    import jsonschema

    with open(schema_path) as f:
        schema = json.load(f)
    with open(path) as f:
        log = json.load(f)
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    print(json.dumps({"errors": [f"{list(e.path)}: {e.message}" for e in errors]}))


def junit(path):
    from junitparser import JUnitXml, TestSuite

    xml = JUnitXml.fromfile(path)
    suites = xml if not isinstance(xml, TestSuite) else [xml]
    out = {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "suites": []}
    for suite in suites:
        cases = []
        for case in suite:
            cases.append(
                {
                    "name": case.name,
                    "classname": case.classname,
                    "results": [type(r).__name__ for r in case.result],
                    "failure": "\n".join((r.text or "") for r in case.result),
                    "out": case.system_out or "",
                }
            )
        out["suites"].append(
            {
                "name": suite.name,
                "tests": suite.tests,
                "failures": suite.failures,
                "errors": suite.errors,
                "cases": cases,
            }
        )
    print(json.dumps(out))


def prom(path):
    from prometheus_client.parser import text_string_to_metric_families

    with open(path) as f:
        text = f.read()
    families = []
    for family in text_string_to_metric_families(text):
        families.append(
            {
                "name": family.name,
                "type": family.type,
                "help": family.documentation,
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples
                ],
            }
        )
    print(json.dumps(families))


def json_schema(schema_path, instance_paths):
    """Checks the schema against draft 2020-12's metaschema (a SchemaError fails the run), then
    prints each JSON instance's validation errors: {path: [error, ...]}."""
    from jsonschema import Draft202012Validator

    with open(schema_path) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    out = {}
    for path in instance_paths:
        with open(path) as f:
            instance = json.load(f)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        out[path] = [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    print(json.dumps(out))


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "sarif":
        sarif(sys.argv[2], sys.argv[3])
    elif kind == "junit":
        junit(sys.argv[2])
    elif kind == "prom":
        prom(sys.argv[2])
    elif kind == "jsonschema":
        json_schema(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(f"unknown format {kind}")
