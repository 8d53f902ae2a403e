"""Row building per file layout: a line's fields -> a store row, or :class:`LineError` (with
the reason and the message) or :class:`~jobcenter.graphs.values.BadValue`. One builder per
layout (GES vertex and edge files, GraphScope mapped vertex and edge files), checking in the
order the loader's docstring gives; and the same layouts for the columnar path
(:mod:`jobcenter.graphs.columnar`), which only takes the lines these builders would accept."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jobcenter.graphs import columnar
from jobcenter.graphs.keyindex import VertexIndex
from jobcenter.graphs.plan import FileSpec, Reason
from jobcenter.graphs.rowcode import compile_values
from jobcenter.graphs.schema import GraphSchema, LabelDef
from jobcenter.graphs.values import BadValue, Convert, key_converter, shown


class _LabelRows:
    """How one label's properties are read from a line in one file layout: ``values`` is the
    compiled extraction (see :mod:`jobcenter.graphs.rowcode`), ``columns`` the number of
    fields a line of this label must have (GES layouts)."""

    __slots__ = ("columns", "label", "values")

    def __init__(
        self, label: LabelDef, columns: Sequence[int | None], width: int, prefix: int
    ) -> None:
        self.label = label
        self.values = compile_values(label.properties, columns, width, prefix)
        self.columns = 0


class RowBuilders:
    """The row builders of one import (its schema, store width and key index)."""

    def __init__(self, schema: GraphSchema, width: int, index: VertexIndex) -> None:
        self.schema = schema
        self.width = width
        self.index = index

    def builder(self, spec: FileSpec) -> RowBuilder:
        """The per-line builder of a data file."""
        return {
            "ges_vertex": self._ges_vertex_rows,
            "ges_edge": self._ges_edge_rows,
            "mapped_vertex": self._mapped_vertex_rows,
            "mapped_edge": self._mapped_edge_rows,
        }[spec.layout](spec)

    def columnar(self, spec: FileSpec) -> columnar.Rows | None:
        """The vectorized row builder of a file, or None when its layout has none (then the
        file is read record by record)."""
        common = {"delimiter": spec.csv.delimiter, "width": self.width, "lookup": self.index.vids}
        if spec.layout in ("ges_vertex", "ges_edge"):
            vertex = spec.layout == "ges_vertex"
            first = 2 if vertex else 3
            parts = [
                columnar.Part(
                    label,
                    [first + i for i in range(len(label.properties))],
                    columns=first + len(label.properties),
                )
                for label in self.schema.labels
                if label.kind in ("vertex" if vertex else "edge", "any")
            ]
            if not parts:
                return None
            if vertex:
                return columnar.Rows(
                    kind="vertex", parts=parts, label_column=1, key=(0, "", None), **common
                )
            return columnar.Rows(
                kind="edge", parts=parts, label_column=2, ends=((0, ""), (1, "")), **common
            )
        label = self.schema.label(spec.label or "")
        assert label is not None
        by_property = {c.property: c.index for c in spec.columns}
        props = [by_property.get(prop.name) for prop in label.properties]
        if spec.layout == "mapped_vertex":
            if not columnar.supported(label):
                return None
            key_column = by_property[label.primary_key or ""]
            part = columnar.Part(label, props, min_columns=_min_columns(spec))
            return columnar.Rows(
                kind="vertex",
                parts=[part],
                label_column=None,
                key=(key_column, label.name, columnar.key_form(label)),
                **common,
            )
        source = self.schema.label(spec.source_label or "")
        target = self.schema.label(spec.target_label or "")
        assert source is not None and target is not None
        if not (columnar.supported(source) and columnar.supported(target)):
            return None
        sc, tc = spec.source_column, spec.target_column
        part = columnar.Part(label, props, min_columns=_min_columns(spec, sc, tc))
        return columnar.Rows(
            kind="edge",
            parts=[part],
            label_column=None,
            ends=((sc, source.name), (tc, target.name)),
            **common,
        )

    # -- row builders: one per file layout ---------------------------------------------------

    def _ges_label_rows(
        self, first_property_column: int, kind: str, prefix: int
    ) -> dict[str, _LabelRows]:
        rows: dict[str, _LabelRows] = {}
        for label in self.schema.labels:
            if label.kind not in (kind, "any"):
                continue
            columns = [first_property_column + i for i in range(len(label.properties))]
            entry = _LabelRows(label, columns, self.width, prefix)
            entry.columns = first_property_column + len(label.properties)
            rows[label.name] = entry
        return rows

    def _ges_vertex_rows(self, spec: FileSpec) -> RowBuilder:
        """``id,label,props...`` -> ``(vid, "", id, label, p0..)``."""
        labels = self._ges_label_rows(2, "vertex", 4)
        index = self.index
        scope = index.scope("")
        taken, new = scope.get, scope.new

        def build(row: list[str]) -> tuple:
            if len(row) < 2:
                raise LineError(
                    Reason.COLUMN_COUNT, f"expected at least 2 columns (id,label), got {len(row)}"
                )
            entry = labels.get(row[1])
            if entry is None:
                raise LineError(
                    Reason.UNKNOWN_LABEL,
                    f"label {shown(row[1])} is not a vertex label of the schema",
                )
            if len(row) != entry.columns:
                raise LineError(Reason.COLUMN_COUNT, _column_message(entry, len(row), "id,label"))
            key = row[0]
            if not key:
                raise LineError(Reason.EMPTY_ID, "the vertex id is empty")
            if taken(key) is not None:
                raise LineError(Reason.DUPLICATE_ID, f"vertex id {shown(key)} already exists")
            vid = index.next_vid
            values = entry.values(row, vid, "", key, row[1])  # BadValue: the id stays free
            new[key] = vid
            index.next_vid = vid + 1
            return values

        return build

    def _ges_edge_rows(self, spec: FileSpec) -> RowBuilder:
        """``source,target,label,props...`` -> ``(label, src vid, dst vid, p0..)``."""
        labels = self._ges_label_rows(3, "edge", 3)
        vid_of = self.index.scope("").get

        def build(row: list[str]) -> tuple:
            if len(row) < 3:
                raise LineError(
                    Reason.COLUMN_COUNT,
                    f"expected at least 3 columns (source,target,label), got {len(row)}",
                )
            entry = labels.get(row[2])
            if entry is None:
                raise LineError(
                    Reason.UNKNOWN_LABEL,
                    f"label {shown(row[2])} is not an edge label of the schema",
                )
            if len(row) != entry.columns:
                raise LineError(
                    Reason.COLUMN_COUNT, _column_message(entry, len(row), "source,target,label")
                )
            src = vid_of(row[0])
            if src is None:
                raise LineError(
                    Reason.MISSING_VERTEX, f"source vertex {shown(row[0])} does not exist"
                )
            dst = vid_of(row[1])
            if dst is None:
                raise LineError(
                    Reason.MISSING_VERTEX, f"target vertex {shown(row[1])} does not exist"
                )
            return entry.values(row, row[2], src, dst)

        return build

    def _mapped_fields(self, label: LabelDef, spec: FileSpec, prefix: int) -> _LabelRows:
        by_property = {c.property: c.index for c in spec.columns}
        columns = [by_property.get(prop.name) for prop in label.properties]
        return _LabelRows(label, columns, self.width, prefix)

    def _mapped_vertex_rows(self, spec: FileSpec) -> RowBuilder:
        """GraphScope: mapped columns of a vertex type's file -> ``(vid, type, key, type,
        p0..)`` (the type is the key's scope: primary keys are unique per type)."""
        label = self.schema.label(spec.label or "")
        assert label is not None and label.primary_key is not None
        entry = self._mapped_fields(label, spec, 4)
        key_column = next(c.index for c in spec.columns if c.property == label.primary_key)
        to_key = _key_converter(label, "the primary key")
        need = _min_columns(spec)
        name = label.name
        index = self.index
        scope = index.scope(name)
        taken, new = scope.get, scope.new

        def build(row: list[str]) -> tuple:
            if len(row) < need:
                raise LineError(
                    Reason.COLUMN_COUNT, f"expected at least {need} columns, got {len(row)}"
                )
            if not row[key_column]:
                raise LineError(Reason.EMPTY_ID, f"the primary key {label.primary_key} is empty")
            key = to_key(row[key_column])
            if taken(key) is not None:
                raise LineError(
                    Reason.DUPLICATE_ID, f"{name} with primary key {shown(key)} already exists"
                )
            vid = index.next_vid
            values = entry.values(row, vid, name, key, name)  # BadValue: the key stays free
            new[key] = vid
            index.next_vid = vid + 1
            return values

        return build

    def _mapped_edge_rows(self, spec: FileSpec) -> RowBuilder:
        """GraphScope: -> ``(label, src vid, dst vid, p0..)``."""
        label = self.schema.label(spec.label or "")
        source = self.schema.label(spec.source_label or "")
        target = self.schema.label(spec.target_label or "")
        assert label is not None and source is not None and target is not None
        entry = self._mapped_fields(label, spec, 3)
        source_key = _key_converter(source, "source id")
        target_key = _key_converter(target, "target id")
        source_vid = self.index.scope(source.name).get
        target_vid = self.index.scope(target.name).get
        sc, tc = spec.source_column, spec.target_column
        need = _min_columns(spec, sc, tc)
        name, source_name, target_name = label.name, source.name, target.name

        def build(row: list[str]) -> tuple:
            if len(row) < need:
                raise LineError(
                    Reason.COLUMN_COUNT, f"expected at least {need} columns, got {len(row)}"
                )
            skey = source_key(row[sc])
            src = source_vid(skey)
            if src is None:
                raise LineError(
                    Reason.MISSING_VERTEX,
                    f"source vertex {source_name} {shown(skey)} does not exist",
                )
            tkey = target_key(row[tc])
            dst = target_vid(tkey)
            if dst is None:
                raise LineError(
                    Reason.MISSING_VERTEX,
                    f"target vertex {target_name} {shown(tkey)} does not exist",
                )
            return entry.values(row, name, src, dst)

        return build


class LineError(Exception):
    """A line that cannot be loaded; ``reason`` is its machine code."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


RowBuilder = Callable[[list[str]], tuple]


def first_line(last: int, row: list[str]) -> int:
    """The line a record starts on, from the line it ends on (a quoted field may hold line
    breaks); only worked out for failed lines, so the hot loop does not track it."""
    return last - sum(field.count("\n") for field in row)


def lines_of(last: int, row: list[str]) -> range:
    return range(first_line(last, row), last + 1)


def rows_scope(spec: FileSpec) -> str:
    """The key scope of a vertex file's lines: "" (GES ids are global) or the vertex type."""
    return spec.label or "" if spec.layout == "mapped_vertex" else ""


def _min_columns(spec: FileSpec, *extra: int) -> int:
    indexes = [c.index for c in spec.columns] + list(extra)
    return max(indexes, default=-1) + 1


def _column_message(entry: _LabelRows, got: int, leading: str) -> str:
    props = len(entry.label.properties)
    if props == 0:
        wanted = f"{entry.columns} columns ({leading}; label {entry.label.name} has no properties)"
    else:
        wanted = (
            f"{entry.columns} columns ({leading} and the {props} properties of label "
            f"{entry.label.name})"
        )
    return f"expected {wanted}, got {got}"


def _key_converter(label: LabelDef, what: str) -> Convert:
    """Primary-key text of ``label`` -> vertex key; a bad one names ``what`` it was."""
    assert label.primary_key is not None
    prop = label.property(label.primary_key)
    assert prop is not None
    to_key = key_converter(prop)

    def convert(text: str) -> str:
        try:
            return to_key(text)
        except BadValue as exc:
            raise BadValue(
                exc.reason, f"{what}: {shown(text)} is not a valid {label.name} primary key"
            ) from None

    return convert
