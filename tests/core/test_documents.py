"""The one reader of JSON and YAML documents (jobcenter.core.documents): what it accepts, and
every hostile document refused quickly with a message naming the document, the problem and,
for YAML, the line and column."""

from __future__ import annotations

import pytest

from jobcenter.core.documents import (
    MAX_DOCUMENT_BYTES,
    DocumentError,
    read_document,
    read_document_file,
)
from jobcenter.core.errors import InvalidInput
from tests.documents import HOSTILE_JSON, HOSTILE_YAML, quickly
from tests.factories.files import shared_data


def refused(source: str | bytes, **options) -> DocumentError:
    with quickly(), pytest.raises(DocumentError) as info:
        read_document(source, what="mapping", **options)
    return info.value


def test_plain_json_data_from_yaml_and_json():
    text = (
        "name: modern\n"
        "flags: [yes, No, true, ~, null, '']\n"
        "numbers: [1, -2, 0x1F, 1_000, 2.5, 1e3, '7']\n"
        "when: 2024-01-01\n"  # a date stays the text it is (no JSON type)
        "at: 2001-12-14t21:59:43.10-05:00\n"
        'quoted: "yes"\n'
        "block: |\n  two\n  lines\n"
    )
    assert read_document(text, what="mapping") == {
        "name": "modern",
        "flags": [True, False, True, None, None, ""],
        "numbers": [1, -2, 31, 1000, 2.5, "1e3", "7"],
        "when": "2024-01-01",
        "at": "2001-12-14t21:59:43.10-05:00",
        "quoted": "yes",
        "block": "two\nlines\n",
    }
    assert read_document('{"a": [1, 2.5, null, true, "x"]}', what="body") == {
        "a": [1, 2.5, None, True, "x"]
    }
    assert read_document("{a: 1, b: [x]}", what="m") == {"a": 1, "b": ["x"]}  # flow YAML
    assert read_document(b"\xef\xbb\xbfa: 1\n", what="m") == {"a": 1}  # BOM dropped
    assert read_document("[1, 2]", what="body", expect_object=False) == [1, 2]


def test_the_example_graph_documents_read_as_before():
    import yaml

    for name in ("graph.yaml", "bulk_load.yaml"):
        text = shared_data("modern_graph", name).read_text()
        assert read_document(text, what=name) == yaml.safe_load(text)


@pytest.mark.parametrize("name", list(HOSTILE_YAML))
def test_hostile_yaml(name):
    text, message = HOSTILE_YAML[name]
    error = refused(text)
    assert isinstance(error, InvalidInput)  # every face maps it as bad input
    assert error.message.startswith("the mapping: ")
    assert message in error.message, error.message


@pytest.mark.parametrize("name", list(HOSTILE_JSON))
def test_hostile_json(name):
    body, message = HOSTILE_JSON[name]
    error = refused(body, syntax="json", expect_object=False)
    assert message in error.message, error.message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "the mapping: empty"),
        ("# only a comment\n", "must be a mapping (an object), not empty"),
        ("- 1\n", "must be a mapping (an object), not a list"),
        ("just text", "must be a mapping (an object), not a value"),
        ("a: [1\n", "neither valid YAML nor JSON: "),
        ('{"a": 1,, }', "neither valid YAML nor JSON: Expecting property name enclosed in "),
        ("a: 1\n---\nb: 2\n", "more than one YAML document (line 2, column 1)"),
        (
            "a: {x: 1}\nb:\n  <<: {y: 2}\n",
            "YAML merge keys (<<) are not accepted (line 3, column 3)",
        ),
        ("a: ! 12\n", "YAML tags (!) are not accepted"),
        ("a: !local x\n", "YAML tags (!local) are not accepted"),
        ("a: .inf\n", "'.inf' is not a finite number (line 1, column 4)"),
        ("a: .nan\n", "'.nan' is not a finite number"),
        ("a: 1.0e+999\n", "is not a finite number"),
        ("a: " + "9" * 5000 + "\n", "Exceeds the limit (4300 digits)"),
        ('{"a": ' + "9" * 5000 + "}", "Exceeds the limit (4300 digits)"),
        (
            'a:\n  b: "x\\0y"\n',
            "a.b holds a NUL character or an unpaired surrogate (line 2, column 6)",
        ),
        ('{"a": {"b": ["x\\u0000"]}}', "a.b.0 holds a NUL character"),
        ('{"a\\ud800": 1}', "a key in the top level holds a NUL or unpaired surrogate"),
        ("? [a]\n: b\n", "a key in the top level is an object or a list, not a string"),
        ("a:\n  b: 1\n  b: 2\n", "key 'b' appears twice in a (line 3, column 3)"),
        (b"a: \xff\n", "not UTF-8 text (byte 3)"),
        ('{"a": Infinity}', "Infinity is not a finite number"),
    ],
)
def test_refusals_name_the_problem(source, message):
    error = refused(source)
    assert message in error.message, error.message


def test_a_limit_of_the_face():
    assert "larger than 10 bytes" in refused("a: 12345678\n", max_bytes=10).message
    error = refused("{a: 1}", syntax="json")  # JSON only: flow YAML is not JSON
    assert error.message.startswith("the mapping: not valid JSON: ") and error.line == 1


def test_strings_left_to_the_face():
    assert read_document('{"a": "x\\u0000"}', what="body", strings=False) == {"a": "x\x00"}


def test_files(tmp_path):
    path = tmp_path / "bulk_load.yaml"
    path.write_text("a: &x 1\n")
    with pytest.raises(DocumentError) as info:
        read_document_file(path, what="--mapping file")
    assert info.value.message == (
        "the --mapping file: YAML anchors (&x) are not accepted (line 1, column 4)"
    )
    with pytest.raises(DocumentError, match="cannot be read: No such file or directory"):
        read_document_file(tmp_path / "missing.yaml")
    big = tmp_path / "big.yaml"
    with big.open("w") as handle:
        handle.write("a: ")
        handle.write("x" * (MAX_DOCUMENT_BYTES + 10))
    with quickly(), pytest.raises(DocumentError, match=f"larger than {MAX_DOCUMENT_BYTES} bytes"):
        read_document_file(big)
