"""Field text -> stored value, per schema type; and the compiled form the loader uses."""

from __future__ import annotations

import pytest

from jobcenter.graphs.rowcode import compile_values
from jobcenter.graphs.schema import PropertyDef
from jobcenter.graphs.values import BadValue, converter, key_converter


def prop(type_: str, **extra) -> PropertyDef:
    return PropertyDef(name="P", type=type_, **extra)


@pytest.mark.parametrize(
    ("definition", "text", "value"),
    [
        (prop("int"), "-12", -12),
        (prop("int"), "+7", 7),
        (prop("long"), "9223372036854775807", 2**63 - 1),
        (prop("uint64"), "18446744073709551615", 2**64 - 1),
        (prop("double"), "3.5", 3.5),
        (prop("float"), "1e3", 1000.0),
        (prop("bool"), "true", 1),
        (prop("bool"), "0", 0),
        (prop("date"), "2020-02-29", "2020-02-29"),
        (prop("date"), "2000-11-21 15:33:18", "2000-11-21 15:33:18"),
        (prop("date"), "2000-11-21T15:33:18", "2000-11-21 15:33:18"),
        (prop("enum", enum_values=("F", "M")), "M", "M"),
        (prop("char"), "x", "x"),
        (prop("char_array", max_length=3), "abc", "abc"),
        (prop("string", cardinality="list"), "b;a;b", '["b", "a", "b"]'),
        (prop("string", cardinality="set"), "b;a;b", '["b", "a"]'),
        (prop("int", cardinality="list"), "1;2", "[1, 2]"),
    ],
)
def test_valid_text(definition, text, value):
    assert converter(definition)(text) == value


@pytest.mark.parametrize(
    ("definition", "text", "reason", "message"),
    [
        (prop("int"), "four", "bad_type", "P: 'four' is not an int"),
        (prop("int"), "2147483648", "bad_type", "out of range for an int"),
        (prop("int"), "1_000", "bad_type", "is not an int"),
        (prop("uint32"), "-1", "bad_type", "out of range for a uint32"),
        (prop("double"), "nan", "bad_type", "is not a double"),
        (prop("double"), "inf", "bad_type", "is not a double"),
        (prop("bool"), "yes", "bad_type", "is not a bool"),
        (prop("date"), "2020-13-45", "bad_date", "is not a valid date"),
        (prop("date"), "2020-1-5", "bad_date", "is not a valid date"),
        (prop("date"), "20200105", "bad_date", "is not a valid date"),
        (prop("enum", enum_values=("F", "M")), "X", "not_in_enum", "values F, M"),
        (prop("char"), "xy", "too_long", "single character"),
        (prop("char_array", max_length=3), "abcd", "too_long", "maxDataSize 3"),
        (prop("string", max_length=2), "abc", "too_long", "maximum length 2"),
        (prop("int", cardinality="set"), "1;x", "bad_type", "'x' is not an int"),
    ],
)
def test_invalid_text_names_property_value_and_rule(definition, text, reason, message):
    with pytest.raises(BadValue) as info:
        converter(definition)(text)
    assert info.value.reason == reason
    assert message in info.value.message


def test_int_keys_are_canonical():
    assert key_converter(prop("long"))("007") == "7"
    assert key_converter(prop("string"))("007") == "007"


def test_compiled_values_match_the_converters_and_pad_to_the_width():
    props = (prop("string"), prop("int"), prop("double"), prop("enum", enum_values=("a",)))
    values = compile_values(props, [2, 3, 4, None], width=6, prefix=2)
    assert values(["x", "y", "s", "5", "2.5"], "A", "B") == (
        "A",
        "B",
        "s",
        5,
        2.5,
        None,
        None,
        None,
    )
    assert values(["x", "y", "", "", ""], "A", "B") == (
        "A",
        "B",
        None,
        None,
        None,
        None,
        None,
        None,
    )
    for bad, message in (("5.5", "'5.5' is not an int"), ("99999999999", "out of range")):
        with pytest.raises(BadValue, match=message):
            values(["x", "y", "s", bad, "1"], "A", "B")
    with pytest.raises(BadValue, match="'inf' is not a double"):
        values(["x", "y", "s", "1", "inf"], "A", "B")
    assert compile_values((), [], width=0, prefix=1)([], "only") == ("only",)
