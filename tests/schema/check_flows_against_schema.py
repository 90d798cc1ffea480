#!/usr/bin/env python3
"""Check every flow in the repository against flows/flow.schema.json.

Usage: check_flows_against_schema.py REPO_ROOT

Validates flows/*.json and examples/**/*.json (files under a tests/ directory
and *.schema.json files are skipped), checks that the schema itself is a valid
draft 2020-12 schema, and runs negative checks: broken copies of
flows/chat.json must be rejected, so the test cannot pass vacuously.

Prints "ok <path>" or "FAIL <path>" plus one line per error with its JSON
path, then "N passed, M failed". Exit status 0 only if everything passed.
"""

import copy
import json
import sys
from pathlib import Path

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - reported, not hidden
    print("FAIL jsonschema is not installed (apt-get install python3-jsonschema)")
    print("0 passed, 1 failed")
    sys.exit(1)

SCHEMA_REL = Path("flows") / "flow.schema.json"


def json_path(parts):
    """Render an error's absolute_path as a JSON path: $.services[0].onConnect.nodes[2]."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + json.dumps(part) + "]"
    return out


def error_lines(validator, instance):
    """All validation errors as sorted 'path: message' lines."""
    errors = sorted(validator.iter_errors(instance),
                    key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [(e, f"{json_path(e.absolute_path)}: {e.message}") for e in errors]


def find_flow_files(root):
    files = sorted((root / "flows").glob("*.json"))
    files += sorted((root / "examples").glob("**/*.json"))
    result = []
    for f in files:
        rel = f.relative_to(root)
        if "tests" in rel.parts:
            continue
        if f.name.endswith(".schema.json"):
            continue
        result.append(f)
    return result


def iter_nodes(value):
    """Every node object (a dict with a string "node") anywhere in a flow, depth first."""
    if isinstance(value, dict):
        if isinstance(value.get("node"), str):
            yield value
        for v in value.values():
            yield from iter_nodes(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_nodes(v)


def first_node(flow, kind):
    for n in iter_nodes(flow):
        if n["node"] == kind:
            return n
    return None


def break_remove_variable(flow):
    n = first_node(flow, "VARIABLE")
    if n is None:
        return False
    del n["variable"]
    return True


def break_unknown_kind(flow):
    n = next(iter_nodes(flow), None)
    if n is None:
        return False
    n["node"] = "NOPE"
    return True


def break_empty_branches(flow):
    n = first_node(flow, "IF")
    if n is None:
        return False
    n["branches"] = []
    return True


# (description, mutator, validator keyword that must be among the errors)
NEGATIVE_CHECKS = [
    ("VARIABLE node without \"variable\"", break_remove_variable, "required"),
    ("node kind \"NOPE\"", break_unknown_kind, "enum"),
    ("IF node with empty \"branches\"", break_empty_branches, "minItems"),
]


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} REPO_ROOT", file=sys.stderr)
        return 2
    root = Path(argv[1]).resolve()
    passed = 0
    failed = 0

    # 1. The schema itself.
    schema_path = root / SCHEMA_REL
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as exc:
        msg = getattr(exc, "message", None) or str(exc)
        print(f"FAIL {SCHEMA_REL} (schema): {msg}")
        print(f"{passed} passed, {failed + 1} failed")
        return 1
    print(f"ok {SCHEMA_REL} (valid draft 2020-12 schema)")
    passed += 1
    validator = Draft202012Validator(schema)

    # 2. Every flow in the repository.
    for f in find_flow_files(root):
        rel = f.relative_to(root)
        try:
            flow = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"FAIL {rel}")
            print(f"  not readable JSON: {exc}")
            failed += 1
            continue
        errors = error_lines(validator, flow)
        if errors:
            print(f"FAIL {rel}")
            for _, line in errors:
                print(f"  {line}")
            failed += 1
        else:
            print(f"ok {rel}")
            passed += 1

    # 3. Negative checks on broken copies of flows/chat.json.
    chat_rel = Path("flows") / "chat.json"
    try:
        chat = json.loads((root / chat_rel).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        chat = None
        print(f"FAIL negative checks: cannot read {chat_rel}: {exc}")
        failed += len(NEGATIVE_CHECKS)
    if chat is not None:
        for what, mutate, keyword in NEGATIVE_CHECKS:
            name = f"negative: {chat_rel} with {what} is rejected"
            broken = copy.deepcopy(chat)
            if not mutate(broken):
                print(f"FAIL {name}")
                print(f"  {chat_rel} has no node to break this way")
                failed += 1
                continue
            errors = error_lines(validator, broken)
            if not errors:
                print(f"FAIL {name}")
                print("  the broken copy was accepted")
                failed += 1
            elif not any(e.validator == keyword for e, _ in errors):
                print(f"FAIL {name}")
                print(f"  rejected, but not with a '{keyword}' error:")
                for _, line in errors:
                    print(f"    {line}")
                failed += 1
            else:
                first = next(line for e, line in errors if e.validator == keyword)
                print(f"ok {name} ({first})")
                passed += 1

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
