"""The one normalised graph schema that both dialects (GES, GraphScope) are parsed into.

A schema is a tuple of labels; a label has ordered properties. Property ``i`` of a label is
stored in column ``p{i}`` of the graph store, so the order of properties in a label never
changes once a label exists: :meth:`GraphSchema.merge` only adds labels, it never edits one.

``id_scope`` says how vertex ids work:

- ``"global"`` (GES): a vertex id is unique across all labels, edges name endpoints by id only.
- ``"label"`` (GraphScope): ids are unique per vertex type; the id is the primary key value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from jobcenter.core.errors import PlanError

IdScope = Literal["global", "label"]
LabelKind = Literal["vertex", "edge", "any"]
Cardinality = Literal["single", "list", "set"]

PROPERTY_TYPES: frozenset[str] = frozenset(
    {
        "char",
        "char_array",
        "float",
        "double",
        "bool",
        "int",
        "long",
        "uint32",
        "uint64",
        "date",
        "datetime",
        "enum",
        "string",
    }
)
CARDINALITIES: frozenset[str] = frozenset({"single", "list", "set"})
LABEL_KINDS: frozenset[str] = frozenset({"vertex", "edge", "any"})
RELATIONS: frozenset[str] = frozenset({"MANY_TO_MANY", "ONE_TO_MANY", "MANY_TO_ONE", "ONE_TO_ONE"})
ID_SCOPES: frozenset[str] = frozenset({"global", "label"})
# Types a GraphScope primary key may have (it becomes the vertex id text).
PRIMARY_KEY_TYPES: frozenset[str] = frozenset(
    {"int", "long", "uint32", "uint64", "string", "char_array", "char"}
)
MAX_NAME_LENGTH = 256
_FORBIDDEN_NAME_CHARS = frozenset("<>&")


@dataclass(frozen=True)
class PropertyDef:
    """One property of a label.

    ``max_length`` is the char array ``maxDataSize`` (GES) or ``var_char``/``char`` length
    (GraphScope), counted in characters. ``original`` keeps the dialect's own type form so a
    schema can be given back in that dialect; it does not take part in schema comparison.
    """

    name: str
    type: str
    cardinality: str = "single"
    max_length: int | None = None
    enum_values: tuple[str, ...] = ()
    original: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    def same_definition(self, other: PropertyDef) -> bool:
        return (
            self.name == other.name
            and self.type == other.type
            and self.cardinality == other.cardinality
            and self.max_length == other.max_length
            and self.enum_values == other.enum_values
        )

    def describe(self) -> str:
        """Short human form, e.g. ``char_array(5)``, ``set<string>``, ``enum(F, M)``."""
        text = self.type
        if self.max_length is not None:
            text += f"({self.max_length})"
        if self.enum_values:
            text += "(" + ", ".join(self.enum_values) + ")"
        if self.cardinality != "single":
            text = f"{self.cardinality}<{text}>"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "cardinality": self.cardinality,
            "max_length": self.max_length,
            "enum_values": list(self.enum_values),
            "original": self.original,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "property") -> PropertyDef:
        _require_mapping(data, where)
        max_length = data.get("max_length")
        if max_length is not None and (
            isinstance(max_length, bool) or not isinstance(max_length, int)
        ):
            raise PlanError(f"{where}: max_length must be an integer", field=f"{where}.max_length")
        enum_values = data.get("enum_values") or ()
        if not isinstance(enum_values, list | tuple) or not all(
            isinstance(v, str) for v in enum_values
        ):
            raise PlanError(f"{where}: enum_values must be a list of strings", field=where)
        original = data.get("original")
        if original is not None and not isinstance(original, dict):
            raise PlanError(f"{where}: original must be an object", field=where)
        return cls(
            name=_require_str(data, "name", where),
            type=_require_str(data, "type", where),
            cardinality=data.get("cardinality", "single"),
            max_length=max_length,
            enum_values=tuple(enum_values),
            original=original,
        )


@dataclass(frozen=True)
class Relation:
    """An allowed (source vertex label, target vertex label) pair of an edge label."""

    source: str
    target: str
    relation: str = "MANY_TO_MANY"

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "relation": self.relation}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "relation") -> Relation:
        _require_mapping(data, where)
        return cls(
            source=_require_str(data, "source", where),
            target=_require_str(data, "target", where),
            relation=data.get("relation", "MANY_TO_MANY"),
        )


@dataclass(frozen=True)
class LabelDef:
    """A vertex or edge label (GES labels are ``any``: the schema does not say which)."""

    name: str
    kind: str = "any"
    properties: tuple[PropertyDef, ...] = ()
    primary_key: str | None = None
    relations: tuple[Relation, ...] = ()
    original: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    def property(self, name: str) -> PropertyDef | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None

    def property_index(self, name: str) -> int:
        """Position of a property (its store column); -1 when the label has no such property."""
        for i, prop in enumerate(self.properties):
            if prop.name == name:
                return i
        return -1

    def same_definition(self, other: LabelDef) -> bool:
        return (
            self.name == other.name
            and self.kind == other.kind
            and self.primary_key == other.primary_key
            and self.relations == other.relations
            and len(self.properties) == len(other.properties)
            and all(
                a.same_definition(b) for a, b in zip(self.properties, other.properties, strict=True)
            )
        )

    def difference(self, other: LabelDef) -> str:
        """Why ``other`` is not the same label definition as this one (for error messages)."""
        if self.kind != other.kind:
            return f"kind {self.kind} vs {other.kind}"
        if self.primary_key != other.primary_key:
            return f"primary key {self.primary_key!r} vs {other.primary_key!r}"
        mine = {p.name: p for p in self.properties}
        theirs = {p.name: p for p in other.properties}
        for name, prop in mine.items():
            if name not in theirs:
                return f"property {name!r} is missing in the new definition"
            if not prop.same_definition(theirs[name]):
                return (
                    f"property {name!r} is {prop.describe()} but the new definition says "
                    f"{theirs[name].describe()}"
                )
        for name in theirs:
            if name not in mine:
                return f"property {name!r} is new"
        if [p.name for p in self.properties] != [p.name for p in other.properties]:
            return "the properties are in a different order"
        if self.relations != other.relations:
            return "the source/target relations differ"
        return "the definitions differ"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "properties": [p.to_dict() for p in self.properties],
            "primary_key": self.primary_key,
            "relations": [r.to_dict() for r in self.relations],
            "original": self.original,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "label") -> LabelDef:
        _require_mapping(data, where)
        props = data.get("properties") or []
        relations = data.get("relations") or []
        if not isinstance(props, list) or not isinstance(relations, list):
            raise PlanError(f"{where}: properties and relations must be lists", field=where)
        original = data.get("original")
        if original is not None and not isinstance(original, dict):
            raise PlanError(f"{where}: original must be an object", field=where)
        return cls(
            name=_require_str(data, "name", where),
            kind=data.get("kind", "any"),
            properties=tuple(
                PropertyDef.from_dict(p, where=f"{where}.properties[{i}]")
                for i, p in enumerate(props)
            ),
            primary_key=data.get("primary_key"),
            relations=tuple(
                Relation.from_dict(r, where=f"{where}.relations[{i}]")
                for i, r in enumerate(relations)
            ),
            original=original,
        )


@dataclass(frozen=True)
class GraphSchema:
    """All labels of a graph. Construct through :meth:`build` (or ``from_dict``) to validate."""

    id_scope: str
    labels: tuple[LabelDef, ...] = ()

    @classmethod
    def build(cls, id_scope: str, labels: Iterable[LabelDef]) -> GraphSchema:
        schema = cls(id_scope=id_scope, labels=tuple(labels))
        schema.validate()
        return schema

    @cached_property
    def by_name(self) -> dict[str, LabelDef]:
        return {label.name: label for label in self.labels}

    def label(self, name: str) -> LabelDef | None:
        return self.by_name.get(name)

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def vertex_labels(self) -> tuple[LabelDef, ...]:
        """Labels that can hold vertices (``vertex`` or ``any``)."""
        return tuple(label for label in self.labels if label.kind != "edge")

    def edge_labels(self) -> tuple[LabelDef, ...]:
        """Labels that can hold edges (``edge`` or ``any``)."""
        return tuple(label for label in self.labels if label.kind != "vertex")

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise :class:`PlanError` naming the first problem found."""
        if not _one_of(self.id_scope, ID_SCOPES):
            raise PlanError(f"id_scope must be 'global' or 'label', not {self.id_scope!r}")
        seen: set[str] = set()
        for label in self.labels:
            _check_name(label.name, "label")
            if label.name in seen:
                raise PlanError(f"label {label.name!r} is defined twice")
            seen.add(label.name)
            _validate_label(label, self.id_scope)
        for label in self.labels:
            for rel in label.relations:
                for end in (rel.source, rel.target):
                    target = self.by_name.get(end)
                    if target is None or target.kind == "edge":
                        raise PlanError(
                            f"edge label {label.name!r}: relation endpoint {end!r} is not a "
                            "vertex label of the schema"
                        )
        if self.id_scope == "global":
            _check_shared_property_names(self.labels)

    # -- combination ----------------------------------------------------------------------------

    def merge(self, other: GraphSchema) -> GraphSchema:
        """This schema plus the labels of ``other`` that it does not have yet.

        A label present in both must be defined identically; GES's rule that one property name
        has one type across labels is checked on the result.
        """
        if not self.labels:  # an empty schema adopts the other one, id scope included
            return GraphSchema.build(other.id_scope, other.labels)
        if other.id_scope != self.id_scope:
            raise PlanError(
                f"cannot combine a schema with id_scope {other.id_scope!r} into a graph whose "
                f"id_scope is {self.id_scope!r}"
            )
        labels = list(self.labels)
        for label in other.labels:
            mine = self.by_name.get(label.name)
            if mine is None:
                labels.append(label)
            elif not mine.same_definition(label):
                raise PlanError(
                    f"label {label.name!r} already exists with a different definition: "
                    f"{mine.difference(label)}"
                )
        return GraphSchema.build(self.id_scope, labels)

    # -- serialisation --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"id_scope": self.id_scope, "labels": [label.to_dict() for label in self.labels]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GraphSchema:
        _require_mapping(data, "schema")
        labels = data.get("labels") or []
        if not isinstance(labels, list):
            raise PlanError("schema: labels must be a list", field="labels")
        return cls.build(
            data.get("id_scope", "global"),
            (LabelDef.from_dict(item, where=f"labels[{i}]") for i, item in enumerate(labels)),
        )


def _one_of(value: object, allowed: Iterable[str]) -> bool:
    """``value in allowed`` for values read from user documents, which may be lists or
    objects (unhashable: a set lookup would raise TypeError instead of saying what is wrong)."""
    return isinstance(value, str) and value in allowed


def _validate_label(label: LabelDef, id_scope: str) -> None:
    where = f"label {label.name!r}"
    if not _one_of(label.kind, LABEL_KINDS):
        raise PlanError(f"{where}: kind must be vertex, edge or any, not {label.kind!r}")
    names: set[str] = set()
    for prop in label.properties:
        _check_name(prop.name, f"{where}: property")
        if prop.name in names:
            raise PlanError(f"{where}: property {prop.name!r} is defined twice")
        names.add(prop.name)
        _validate_property(prop, where)
    if label.primary_key is not None:
        prop = label.property(label.primary_key)
        if prop is None:
            raise PlanError(f"{where}: primary key {label.primary_key!r} is not a property")
        if prop.cardinality != "single" or not _one_of(prop.type, PRIMARY_KEY_TYPES):
            raise PlanError(
                f"{where}: primary key {prop.name!r} must be a single integer or string "
                f"property, not {prop.describe()}"
            )
    if id_scope == "label" and label.kind == "vertex" and label.primary_key is None:
        raise PlanError(f"{where}: a vertex type needs a primary key")
    if id_scope == "label" and label.kind == "any":
        raise PlanError(f"{where}: with per-label ids every label must be a vertex or edge type")
    if label.relations and label.kind == "vertex":
        raise PlanError(f"{where}: only edge labels have source/target relations")
    for rel in label.relations:
        if not _one_of(rel.relation, RELATIONS):
            raise PlanError(
                f"{where}: relation must be one of {', '.join(sorted(RELATIONS))}, "
                f"not {rel.relation!r}"
            )


def _validate_property(prop: PropertyDef, where: str) -> None:
    what = f"{where}: property {prop.name!r}"
    if not _one_of(prop.type, PROPERTY_TYPES):
        raise PlanError(f"{what}: unknown data type {prop.type!r}")
    if not _one_of(prop.cardinality, CARDINALITIES):
        raise PlanError(
            f"{what}: cardinality must be single, list or set, not {prop.cardinality!r}"
        )
    if prop.type == "char_array":
        if prop.cardinality != "single":
            raise PlanError(f"{what}: a char array can only have cardinality single")
        if prop.max_length is None or prop.max_length <= 0:
            raise PlanError(f"{what}: a char array needs a positive maximum length")
    elif prop.max_length is not None:
        if prop.type != "string":
            raise PlanError(f"{what}: only string and char array properties have a max length")
        if prop.max_length <= 0:
            raise PlanError(f"{what}: the maximum length must be positive")
    if prop.type == "enum":
        if not prop.enum_values:
            raise PlanError(f"{what}: an enum needs at least one value")
        if len(set(prop.enum_values)) != len(prop.enum_values):
            raise PlanError(f"{what}: the enum values are not unique")
        if any(not value for value in prop.enum_values):
            raise PlanError(f"{what}: an enum value cannot be empty")
    elif prop.enum_values:
        raise PlanError(f"{what}: only enum properties have enum values")


def _check_shared_property_names(labels: Iterable[LabelDef]) -> None:
    """GES: a property name means the same type and cardinality in every label."""
    first: dict[str, tuple[str, PropertyDef]] = {}
    for label in labels:
        for prop in label.properties:
            seen = first.get(prop.name)
            if seen is None:
                first[prop.name] = (label.name, prop)
                continue
            other_label, other = seen
            if (prop.type, prop.cardinality) != (other.type, other.cardinality):
                raise PlanError(
                    f"property {prop.name!r} is {other.describe()} in label {other_label!r} but "
                    f"{prop.describe()} in label {label.name!r}; a property name must have the "
                    "same data type and cardinality in every label"
                )


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not name:
        raise PlanError(f"{what} name must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise PlanError(f"{what} name {name[:40]!r}... is longer than {MAX_NAME_LENGTH} characters")
    bad = _FORBIDDEN_NAME_CHARS.intersection(name)
    if bad or any(ord(ch) < 32 for ch in name):
        raise PlanError(f"{what} name {name!r} contains a forbidden character (<, >, & or control)")


def _require_mapping(data: object, where: str) -> None:
    if not isinstance(data, Mapping):
        raise PlanError(f"{where} must be an object")


def _require_str(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise PlanError(f"{where}: {key} must be a string", field=f"{where}.{key}")
    return value
