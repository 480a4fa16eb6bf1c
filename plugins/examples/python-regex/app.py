"""`regex.matches_pattern`: a filter operator written in Python, with the `re` module.

Built with componentize-py against `plugins/wit` (world `filter-operator`):

    componentize-py -d ../../wit -w filter-operator componentize app -o regex.wasm

`lower` keeps the contacts that have a value (the database decides that part) and asks
for the exact test as a residual; `matches` runs the pattern on those values, a batch at
a time. The compiled pattern is kept between the batches of one query (the host runs
them on one instance), so a pattern is compiled once per query, not once per batch.
"""

import json
import re

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import filter as f
from wit_world.imports import types as t

# Patterns compiled in this instance, by their text.
_COMPILED = {}
# The longest pattern accepted, in characters.
MAX_PATTERN = 500


def value_of(args, at=None):
    """The argument tree as a Python value (the root is the last node)."""
    nodes = args.nodes
    if not nodes:
        return None
    node = nodes[len(nodes) - 1 if at is None else at]
    if isinstance(node, t.ArgNode_List):
        return [value_of(args, i) for i in node.value]
    if isinstance(node, t.ArgNode_Object):
        return {key: value_of(args, i) for key, i in node.value}
    if isinstance(node, t.ArgNode_Null):
        return None
    return node.value


def pattern(args):
    """The compiled pattern of the arguments, or an error at `value`."""
    text = value_of(args)
    if not isinstance(text, str) or not text:
        raise Err(t.PluginError(message="expected a regular expression, a non-empty string", path="value"))
    if len(text) > MAX_PATTERN:
        raise Err(t.PluginError(message=f"a pattern is at most {MAX_PATTERN} characters", path="value"))
    if text not in _COMPILED:
        try:
            _COMPILED[text] = re.compile(text)
        except re.error as error:
            raise Err(t.PluginError(message=f"not a regular expression: {error}", path="value"))
    return _COMPILED[text]


class Filter(exports.Filter):
    def describe(self):
        schema = {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN, "title": "Regular expression (Python)"}
        kinds = [t.FieldKind.TEXT, t.FieldKind.LONG_TEXT, t.FieldKind.EMAIL, t.FieldKind.PHONE, t.FieldKind.URL]
        return f.Description(
            manifest=t.Manifest(
                name="regex",
                version="0.1.0",
                description="Regular expressions on text fields, with Python's re module.",
                capabilities=[],
            ),
            operators=[
                f.OperatorInfo(
                    name="matches_pattern",
                    label="matches the pattern",
                    applies_to=kinds,
                    args_schema=json.dumps(schema),
                )
            ],
        )

    def lower(self, op, field, args, context):
        if op != "matches_pattern":
            raise Err(t.PluginError(message=f"unknown operator `{op}`", path=None))
        pattern(args)  # a bad pattern fails when the filter is planned, not on a batch
        # Children before parents, the root last: and(not(is-null(field)), residual).
        return f.Predicate(
            nodes=[
                f.IrNode_IsNull(field.path),
                f.IrNode_Not(0),
                f.IrNode_Residual(f.Residual(op=op, field=field.path, args=args)),
                f.IrNode_And([1, 2]),
            ]
        )

    def matches(self, op, args, values):
        if op != "matches_pattern":
            raise Err(t.PluginError(message=f"unknown operator `{op}`", path=None))
        compiled = pattern(args)
        column = values.values
        if not isinstance(column, t.Column_Texts):
            raise Err(t.PluginError(message="expected a column of texts", path=None))
        text = bytes(column.value.bytes)
        answers = []
        start = 0
        for row, end in enumerate(column.value.ends):
            value = text[start:end].decode("utf-8")
            start = end
            answers.append(not values.nulls[row] and compiled.search(value) is not None)
        return answers
