"""Vectorized row building: a run of ordinary lines (see :mod:`jobcenter.graphs.chunks`) in, the
store rows of the lines that are valid out, with pyarrow doing the per-line work natively.

The rule that keeps the semantics exact: this module only *recognises* lines that are valid
beyond doubt, by forms that both pyarrow and the per-line converters of
:mod:`jobcenter.graphs.values` accept and read the same way (an int is ``-?[0-9]{1,9}``, not
``+7`` or ``1_000``, which Python's ``int`` also takes; a double has at most 20+20 digits and a
two-digit exponent, so it is finite). Every other line, good or bad, goes back to the per-line
builder of :mod:`jobcenter.graphs.loader`, which decides it and gives the reason, the message and
the line. So what this module gets wrong can only be speed, never a result.

Per run and per label: split the lines into fields (``split_pattern``), check the column count
and the label, resolve keys (one batched look-up in the key index per run), check and convert
every property column; the valid lines' rows stay Arrow columns
(:class:`~jobcenter.graphs.stores.base.Columns`), which a store writes as they are or turns
into rows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jobcenter.graphs.schema import LabelDef, PropertyDef
from jobcenter.graphs.stores.base import Columns, Same
from jobcenter.graphs.values import BadValue, converter

# The forms recognised per type: what both Python and pyarrow read, and always in range.
_INT_FORMS = {
    "int": "-?[0-9]{1,9}",
    "long": "-?[0-9]{1,18}",
    "uint32": "[0-9]{1,9}",
    "uint64": "[0-9]{1,18}",
}
# Keys in canonical form (``str(int(text)) == text``), as the key index holds them.
_KEY_FORMS = {
    "int": "0|-?[1-9][0-9]{0,8}",
    "long": "0|-?[1-9][0-9]{0,17}",
    "uint32": "0|[1-9][0-9]{0,8}",
    "uint64": "0|[1-9][0-9]{0,17}",
}
_FLOAT_FORM = "-?[0-9]{1,20}(\\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?"
_BOOLS = ["0", "false", "FALSE", "False", "1", "true", "TRUE", "True"]  # see values._TRUE
_STRING_KEYS = frozenset({"string", "char_array", "char"})
_NULL = pa.scalar(None, pa.string())


@dataclass
class Run:
    """What a run gave: ``positions`` of the lines that are valid (ascending, indexes into the
    run), their ``rows`` (as columns) and, for vertex lines, their ``keys``. Edge rows are
    store rows; vertex rows lack their leading vid (given in file order by the loader)."""

    positions: Sequence[int]
    rows: Columns
    keys: list[str] | None = None
    invalid: list[int] = dataclasses.field(default_factory=list)  # the other lines
    # The ends looked up for the edge lines that failed here (a missing end, a bad value):
    # (scope, keys, vids or None), which their per-line builders ask again.
    looked_up: list[tuple[str, list[str], list[int | None]]] = dataclasses.field(
        default_factory=list
    )


Lookup = Callable[[str, pa.Array], pa.Array]  # (scope, keys) -> vids, null where not found


def supported(label: LabelDef) -> bool:
    """Whether a label's primary key (GraphScope) has a form this module can recognise."""
    if label.primary_key is None:
        return True
    prop = label.property(label.primary_key)
    return prop is not None and (prop.type in _KEY_FORMS or prop.type in _STRING_KEYS)


def _values(column: pa.Array, prop: PropertyDef) -> tuple[Any, pa.Array | None]:
    """The stored values of one property column and which are recognised (None: all)."""
    empty = pc.equal(column, "")
    kind = prop.type
    if prop.cardinality != "single" or kind in ("date", "datetime"):
        return _python_values(column, prop)
    if kind in _INT_FORMS or kind in ("float", "double"):
        form = _INT_FORMS.get(kind, _FLOAT_FORM)
        ok = pc.match_substring_regex(column, f"^({form})?$")
        clean = pc.if_else(pc.and_(ok, pc.invert(empty)), column, _NULL)
        target = pa.int64() if kind in _INT_FORMS else pa.float64()
        return pc.cast(clean, target), ok
    if kind == "bool":
        code = pc.index_in(column, value_set=pa.array(_BOOLS))
        ok = pc.or_(pc.is_valid(code), empty)
        return pc.cast(pc.greater_equal(code, 4), pa.int64()), ok
    if kind == "enum":
        allowed = pa.array(list(prop.enum_values), pa.string())
        ok = pc.or_(pc.is_in(column, value_set=allowed), empty)
    elif kind == "char":
        ok = pc.less_equal(pc.utf8_length(column), 1)
    elif prop.max_length is not None:
        ok = pc.less_equal(pc.utf8_length(column), prop.max_length)
    else:
        ok = None
    return pc.if_else(empty, _NULL, column), ok


def _python_values(column: pa.Array, prop: PropertyDef) -> tuple[Any, pa.Array | None]:
    """Types converted by their per-line converter, value by value (dates, lists, sets)."""
    convert = converter(prop)
    values: list = []
    ok: list[bool] = []
    for text in column.to_pylist():
        if not text:
            values.append(None)
            ok.append(True)
            continue
        try:
            values.append(convert(text) if convert is not None else text)
            ok.append(True)
        except BadValue:
            values.append(None)
            ok.append(False)
    flags = None if all(ok) else pa.array(ok, pa.bool_())
    if all(type(v) is str or v is None for v in values):  # dates, lists as JSON text
        return pa.array(values, pa.string()), flags
    return values, flags


def _kept(values: pa.Array, mask: pa.Array) -> pa.Array:
    """``pc.filter(values, mask)`` (``mask`` without nulls), not copied when every value is
    kept (a run's lines are mostly of one label and length)."""
    if len(mask) == len(values) and pc.all(mask).as_py() and not mask.null_count:
        return values
    return pc.filter(values, mask)


class Fields:
    """Lines split into fields, as the split's flat ``values`` and where each line's fields
    start (``starts``) and how many it has (``counts``). Keeping some lines moves only the
    starts and counts, and a column is one ``take`` from the values: a filter of the split's
    list array copied every field's bytes (1.7 ms a chunk of 46,000 edge lines, twice in a
    run with lines of other lengths or labels), and ``list_element`` took 0.7 ms a column
    where the take takes 0.3."""

    def __init__(
        self,
        values: pa.Array,
        starts: pa.Array,
        counts: pa.Array,
        trim: tuple[str, frozenset[int]] | None = None,
    ) -> None:
        self.values, self.starts, self.counts = values, starts, counts
        self.trim = trim  # (a quote character, the fields trimmed of it when taken)

    @classmethod
    def split(
        cls,
        lines: pa.Array,
        delimiter: str,
        unquote: str = "",
        quoted: frozenset[int] | None = None,
    ) -> Fields:
        """``lines`` (text without nulls) split at ``delimiter``; ``unquote``: a quote
        character trimmed from the ends of the fields ``quoted`` (their places; None: every
        field), the others have none (trimming one column, not every field, saved 0.75 ms a
        chunk with quotes in one field)."""
        lists = pc.split_pattern(lines, delimiter)
        values = lists.values  # (all of them; the offsets below point into it)
        trim = None
        if unquote and quoted is None:
            values = pc.ascii_trim(values, unquote)
        elif unquote:
            trim = (unquote, quoted)
        starts = lists.offsets.slice(0, len(lists))
        return cls(values, starts, pc.list_value_length(lists), trim)

    def __len__(self) -> int:
        return len(self.starts)

    def kept(self, mask: pa.Array) -> Fields:
        """The lines where ``mask`` (without nulls) is true."""
        return Fields(self.values, _kept(self.starts, mask), _kept(self.counts, mask), self.trim)

    def column(self, index: int) -> pa.Array:
        """Field ``index`` of every line (each has more than ``index`` fields)."""
        if not len(self.starts):
            return pa.array([], self.values.type)
        at = self.starts if not index else pc.add(self.starts, pa.scalar(index, self.starts.type))
        column = pc.take(self.values, at)
        if self.trim is not None and index in self.trim[1]:
            column = pc.ascii_trim(column, self.trim[0])
        return column


def _and(a: pa.Array | None, b: pa.Array | None) -> pa.Array | None:
    if a is None:
        return b
    if b is None:
        return a
    return pc.and_(a, b)


@dataclass
class Part:
    """The lines of one label in a file layout: ``label_column`` names the label (GES) or is
    None (GraphScope: one label per file); ``columns`` the exact field count (GES) or
    ``min_columns`` the least (GraphScope); ``props`` the property columns (None: absent)."""

    label: LabelDef
    props: Sequence[int | None]
    columns: int | None = None
    min_columns: int = 0


class Rows:
    """Builds the rows of one file layout. ``kind`` is ``vertex`` or ``edge``. Vertices:
    ``keys`` is ``(column, scope, key form)``; edges: ``ends`` the ``(column, scope)`` of
    source and target. ``scope`` of a vertex row is the key's scope."""

    def __init__(
        self,
        *,
        kind: str,
        delimiter: str,
        parts: Sequence[Part],
        label_column: int | None,
        width: int,
        lookup: Lookup,
        key: tuple[int, str, str | None] | None = None,
        ends: tuple[tuple[int, str], tuple[int, str]] | None = None,
    ) -> None:
        self.kind = kind
        self.delimiter = delimiter
        self.parts = parts
        self.label_column = label_column
        self.width = width
        self.lookup = lookup
        self.key = key
        self.ends = ends

    def run(self, lines: pa.Array, unquote: str = "", quoted: frozenset[int] | None = None) -> Run:
        """The rows of ``lines``; ``unquote``: a quote character that wraps whole fields only
        (where it is in a line at all; lines with other quotes are not taken from the run),
        in the fields ``quoted`` (their places; None: any field)."""
        fields = Fields.split(lines, self.delimiter, unquote, quoted)
        counts = fields.counts
        runs: list[Run] = []
        if self.label_column is not None:
            least = min(part.columns or 0 for part in self.parts)
            base = pc.greater_equal(counts, max(least, self.label_column + 1))
            where = pc.indices_nonzero(base)
            fields = fields.kept(base)
            counts = fields.counts
            labels = fields.column(self.label_column)
            taken = None  # of the lines in ``where``: those valid
            for part in self.parts:
                mask = pc.and_(pc.equal(labels, part.label.name), pc.equal(counts, part.columns))
                run, ok = self._part(part, fields.kept(mask), _kept(where, mask))
                runs.append(run)
                valid = mask if ok is None else pc.replace_with_mask(mask, mask, ok)
                taken = valid if taken is None else pc.or_(taken, valid)
        else:
            part = self.parts[0]
            base = pc.greater_equal(counts, part.min_columns)
            run, taken = self._part(part, fields.kept(base), pc.indices_nonzero(base))
            runs.append(run)
        if taken is None:
            valid = base
        else:
            valid = pc.replace_with_mask(base, base, taken) if len(taken) else base
        looked_up = [entry for run in runs for entry in run.looked_up]
        runs = [r for r in runs if r.positions]
        merged = runs[0] if len(runs) == 1 else _merge(runs, self.kind == "vertex")
        merged.looked_up = looked_up
        if len(merged.positions) < len(lines):
            merged.invalid = pc.indices_nonzero(pc.invert(valid)).to_pylist()
        return merged

    def _part(self, part: Part, fields: Fields, where: pa.Array) -> tuple[Run, Any]:
        """The run of one label's lines (``where`` they are in the run) and which of them
        are valid (None: all)."""
        if len(fields) == 0:
            return Run([], Columns([], 0), [] if self.kind == "vertex" else None), None
        name = part.label.name
        ok: pa.Array | None = None
        leading: list[Any] = []
        keys: list[str] | None = None
        looked: list[tuple[str, pa.Array, pa.Array]] = []  # (scope, keys, vids) of the ends
        if self.kind == "vertex":
            assert self.key is not None
            column, scope, form = self.key
            key = fields.column(column)
            ok = pc.not_equal(key, "")
            if form is not None:
                ok = pc.and_(ok, pc.match_substring_regex(key, f"^({form})$"))
            keys = key.to_pylist()
            leading = [Same(scope), key, Same(name)]
        else:
            assert self.ends is not None
            leading = [Same(name)]
            (source, source_scope), (target, target_scope) = self.ends
            sources = fields.column(source)
            targets = fields.column(target)
            if source_scope == target_scope:  # one look-up for both ends
                asked = pa.concat_arrays([sources, targets])
                both = self.lookup(source_scope, asked)
                ends = [both.slice(0, len(sources)), both.slice(len(sources))]
                looked = [(source_scope, asked, both)]
            else:
                ends = [self.lookup(source_scope, sources), self.lookup(target_scope, targets)]
                looked = [(source_scope, sources, ends[0]), (target_scope, targets, ends[1])]
            for vids in ends:
                ok = _and(ok, pc.is_valid(vids))
                leading.append(vids)
        values: list[Any] = []
        for prop, column in zip(part.label.properties, part.props, strict=True):
            if column is None:
                values.append(Same(None))
                continue
            got, good = _values(fields.column(column), prop)
            values.append(got)
            ok = _and(ok, good)
        values += [Same(None)] * (self.width - len(part.label.properties))
        rows = Columns([*leading, *values], len(fields))
        if ok is None or pc.all(ok).as_py():
            return Run(_sequence(where), rows, keys), None
        good = pc.fill_null(ok, False)
        positions = _sequence(pc.filter(where, good))
        kept = pc.filter(key, good).to_pylist() if keys is not None else None
        run = Run(positions, rows.filter(good), kept)
        if looked:
            bad = pc.invert(good)
            for scope, asked, vids in looked:
                # (both ends in one look-up: the failed lines' sources, then their targets)
                mask = bad if len(asked) == len(bad) else pa.concat_arrays([bad, bad])
                run.looked_up.append(
                    (scope, pc.filter(asked, mask).to_pylist(), pc.filter(vids, mask).to_pylist())
                )
        return run, ok


def _sequence(indexes: pa.Array) -> Sequence[int]:
    """Indexes (uint64, no nulls) as a sequence of ints, their buffer not copied: a run's
    positions are read a few at a time (a list of 46,000 took 0.7 ms a chunk)."""
    assert indexes.type == pa.uint64() and not indexes.null_count
    if not len(indexes):
        return []
    buffer = indexes.buffers()[1]
    start = indexes.offset * 8
    return memoryview(buffer).cast("B")[start : start + len(indexes) * 8].cast("Q")


def _merge(runs: list[Run], vertex: bool) -> Run:
    """The runs of several labels as one, in line order."""
    if not runs:
        return Run([], Columns([], 0), [] if vertex else None)
    order = sorted(
        (position, k, n) for k, run in enumerate(runs) for n, position in enumerate(run.positions)
    )
    starts = [0]
    for run in runs:
        starts.append(starts[-1] + run.rows.length)
    picks = pa.array([starts[k] + n for _, k, n in order], pa.int64())
    columns = [
        _merged([run.rows.columns[i] for run in runs], [run.rows.length for run in runs], picks)
        for i in range(len(runs[0].rows.columns))
    ]
    return Run(
        [position for position, _, _ in order],
        Columns(columns, len(order)),
        [runs[k].keys[n] for _, k, n in order] if vertex else None,  # type: ignore[index]
    )


def _merged(columns: list[Any], lengths: list[int], picks: pa.Array) -> Any:
    """One column of several runs, its rows taken in ``picks`` order: an Arrow array when the
    runs' values have one type, else a Python list."""
    if all(type(c) is Same for c in columns) and len({c.value for c in columns}) == 1:
        return columns[0]
    types = {c.type for c in columns if isinstance(c, pa.Array)}
    if len(types) <= 1 and all(type(c) is Same or isinstance(c, pa.Array) for c in columns):
        kind = types.pop() if types else pa.array([columns[0].value]).type
        try:
            parts = [
                _filled(c.value, n, kind) if type(c) is Same else c
                for c, n in zip(columns, lengths, strict=True)
            ]
            return pc.take(pa.concat_arrays(parts), picks)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass
    values: list[Any] = []
    for c, n in zip(columns, lengths, strict=True):
        values.extend(Columns([c], n).rows())
    flat = [row[0] for row in values]
    return [flat[i] for i in picks.to_pylist()]


def _filled(value: Any, n: int, kind: pa.DataType) -> pa.Array:
    return pa.nulls(n, kind) if value is None else pa.repeat(pa.scalar(value, kind), n)


def key_form(label: LabelDef) -> str | None:
    """The recognised form of a label's primary key (None: any non-empty text)."""
    assert label.primary_key is not None
    prop = label.property(label.primary_key)
    assert prop is not None
    return _KEY_FORMS.get(prop.type)


def json_keys(keys: list[str]) -> str:
    return json.dumps(keys, ensure_ascii=False)
