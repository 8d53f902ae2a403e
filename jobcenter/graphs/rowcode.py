"""Compiled extraction of a label's property values from the fields of one CSV line.

This is the loader's innermost loop (once per line of every import), so instead of looping
over converters it builds, once per label and file, a small function with the conversions
written out, the way ``dataclasses`` builds ``__init__``. Strings are taken as they are, ints
and floats are converted inline, every other type calls its converter from
:mod:`jobcenter.graphs.values`. Only column indexes and generated variable names appear in the
source; property names, labels and limits are passed in as objects, never as text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jobcenter.graphs.plan import Reason
from jobcenter.graphs.schema import PropertyDef
from jobcenter.graphs.values import INT32, INT64, UINT32, UINT64, BadValue, converter, shown

Values = Callable[..., tuple]
_INT_RANGES = {"int": INT32, "long": INT64, "uint32": UINT32, "uint64": UINT64}
_ARTICLES = {
    "int": "an int",
    "long": "a long",
    "uint32": "a uint32",
    "uint64": "a uint64",
    "float": "a float",
    "double": "a double",
}


def _raiser(prop: PropertyDef) -> Callable[[str], Any]:
    """Raises the BadValue of an int/float property for a field's text."""
    what = _ARTICLES[prop.type]
    low_high = _INT_RANGES.get(prop.type)

    def bad(text: str) -> Any:
        if low_high is not None and "_" not in text:
            try:
                int(text)
            except ValueError:
                pass
            else:
                low, high = low_high
                raise BadValue(
                    Reason.BAD_TYPE,
                    f"{prop.name}: {text} is out of range for {what} ({low}..{high})",
                )
        raise BadValue(Reason.BAD_TYPE, f"{prop.name}: {shown(text)} is not {what}")

    return bad


def compile_values(
    properties: Sequence[PropertyDef], columns: Sequence[int | None], width: int, prefix: int
) -> Values:
    """``f(fields, a, b, ...) -> (a, b, ..., p0, ..., p{width-1})``: the ``prefix`` leading
    values as given (ids, label), then property ``i`` from field ``columns[i]`` (None: the file
    has no column for it, NULL), padded with NULLs to the store's width."""
    namespace: dict[str, Any] = {}
    leading = [f"a{i}" for i in range(prefix)]
    lines = [f"def values({', '.join(['row', *leading])}):"]
    names = list(leading)
    for i, (prop, column) in enumerate(zip(properties, columns, strict=True)):
        v = f"v{i}"
        names.append(v)
        if column is None:
            lines.append(f"    {v} = None")
            continue
        lines.append(f"    t = row[{column}]")
        if prop.cardinality == "single" and prop.type in _INT_RANGES:
            low, high = _INT_RANGES[prop.type]
            namespace[f"bad{i}"], namespace[f"lo{i}"], namespace[f"hi{i}"] = (
                _raiser(prop),
                low,
                high,
            )
            lines += [
                "    if t:",
                "        try:",
                f"            {v} = int(t)",
                "        except ValueError:",
                f"            {v} = bad{i}(t)",
                f"        if not lo{i} <= {v} <= hi{i} or '_' in t:",
                f"            bad{i}(t)",
                "    else:",
                f"        {v} = None",
            ]
        elif prop.cardinality == "single" and prop.type in ("float", "double"):
            namespace[f"bad{i}"] = _raiser(prop)
            lines += [
                "    if t:",
                "        try:",
                f"            {v} = float(t)",
                "        except ValueError:",
                f"            {v} = bad{i}(t)",
                # inf - inf and nan - nan are nan, which is != 0.0
                f"        if {v} - {v} != 0.0 or '_' in t:",
                f"            bad{i}(t)",
                "    else:",
                f"        {v} = None",
            ]
        else:
            convert = converter(prop)
            if convert is None:
                lines.append(f"    {v} = t or None")
            else:
                namespace[f"c{i}"] = convert
                lines.append(f"    {v} = c{i}(t) if t else None")
    names += ["None"] * (width + prefix - len(names))
    lines.append(f"    return ({', '.join(names)}{',' if len(names) == 1 else ''})")
    if not names:
        lines[-1] = "    return ()"
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<jobcenter row values>", "exec"), namespace)  # noqa: S102
    function = namespace["values"]
    function.__doc__ = source
    return function
