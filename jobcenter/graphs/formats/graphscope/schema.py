"""GraphScope Interactive's graph definition (``graph.yaml`` / CreateGraphRequest) read into the
normalised schema (per-type ids), and given back as GraphScope writes it. See
../shared/reference/graphscope-interactive.md section 5."""

from __future__ import annotations

from typing import Any

from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.schema import GraphSchema, LabelDef, PropertyDef, Relation

PRIMITIVE_TYPES = {
    "DT_SIGNED_INT32": "int",
    "DT_UNSIGNED_INT32": "uint32",
    "DT_SIGNED_INT64": "long",
    "DT_UNSIGNED_INT64": "uint64",
    "DT_BOOL": "bool",
    "DT_FLOAT": "float",
    "DT_DOUBLE": "double",
    "DT_STRING": "string",
}
PAIR_EXTRAS = "_pair_extras"


def parse_graph_definition(definition: dict[str, Any]) -> GraphSchema:
    """A CreateGraphRequest (or graph.yaml) -> the normalised schema (per-type ids)."""
    if not isinstance(definition, dict):
        raise PlanError("the graph definition must be an object")
    schema = definition.get("schema", definition)
    if not isinstance(schema, dict):
        raise PlanError("schema must be an object", field="schema")
    vertex_types = schema.get("vertex_types") or []
    edge_types = schema.get("edge_types") or []
    if not isinstance(vertex_types, list) or not isinstance(edge_types, list):
        raise PlanError("schema.vertex_types and schema.edge_types must be lists", field="schema")
    if not vertex_types:
        raise PlanError("the schema needs at least one vertex type", field="schema.vertex_types")
    labels = [
        _vertex_type(item, f"schema.vertex_types[{i}]") for i, item in enumerate(vertex_types)
    ]
    labels += [_edge_type(item, f"schema.edge_types[{i}]") for i, item in enumerate(edge_types)]
    try:
        return GraphSchema.build("label", labels)
    except PlanError as exc:
        raise PlanError(exc.message, field=exc.field or "schema") from None


def _type_name(item: Any, where: str) -> str:
    if not isinstance(item, dict):
        raise PlanError(f"{where} must be an object", field=where)
    name = item.get("type_name")
    if not isinstance(name, str) or not name:
        raise PlanError(f"{where}.type_name must be a non-empty string", field=where)
    return name


def _properties(item: dict[str, Any], where: str) -> tuple[PropertyDef, ...]:
    props = item.get("properties") or []
    if not isinstance(props, list):
        raise PlanError(f"{where}.properties must be a list", field=where)
    return tuple(_property(p, f"{where}.properties[{i}]") for i, p in enumerate(props))


def _property(item: Any, where: str) -> PropertyDef:
    if not isinstance(item, dict):
        raise PlanError(f"{where} must be an object", field=where)
    name = item.get("property_name")
    if not isinstance(name, str) or not name:
        raise PlanError(f"{where}.property_name must be a non-empty string", field=where)
    ptype = item.get("property_type")
    kind, max_length = _data_type(ptype, f"{where}.property_type")
    return PropertyDef(
        name=name, type=kind, max_length=max_length, original={"property_type": ptype}
    )


def _data_type(value: Any, where: str) -> tuple[str, int | None]:
    if not isinstance(value, dict) or len(value) != 1:
        raise PlanError(
            f"{where} must be one of {{primitive_type}}, {{string}} or {{temporal}}", field=where
        )
    ((form, detail),) = value.items()
    if form == "primitive_type":
        if not isinstance(detail, str) or detail not in PRIMITIVE_TYPES:
            raise PlanError(
                f"{where}.primitive_type must be one of {', '.join(PRIMITIVE_TYPES)}, "
                f"not {detail!r}",
                field=where,
            )
        return PRIMITIVE_TYPES[detail], None
    if form == "string":
        if not isinstance(detail, dict) or len(detail) != 1:
            raise PlanError(f"{where}.string must be long_text, var_char or char", field=where)
        ((kind, spec),) = detail.items()
        if kind == "long_text":
            return "string", None
        if kind == "var_char":
            return "string", _length(spec, "max_length", f"{where}.string.var_char")
        if kind == "char":
            return "char_array", _length(spec, "fixed_length", f"{where}.string.char")
        raise PlanError(f"{where}.string must be long_text, var_char or char", field=where)
    if form == "temporal":
        if isinstance(detail, dict) and len(detail) == 1:
            kind = next(iter(detail))
            if kind == "timestamp":
                return "datetime", None
            if kind == "date32":
                return "date", None
        raise PlanError(f"{where}.temporal must be timestamp or date32", field=where)
    raise PlanError(f"{where}: unknown data type form {form!r}", field=where)


def _length(spec: Any, key: str, where: str) -> int:
    value = spec.get(key) if isinstance(spec, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PlanError(f"{where}.{key} must be a positive integer", field=where)
    return value


def _vertex_type(item: Any, where: str) -> LabelDef:
    name = _type_name(item, where)
    keys = item.get("primary_keys") or []
    if not isinstance(keys, list) or len(keys) != 1 or not isinstance(keys[0], str):
        raise PlanError(
            f"{where} ({name}): primary_keys must name exactly one property", field=where
        )
    return LabelDef(
        name=name,
        kind="vertex",
        properties=_properties(item, where),
        primary_key=keys[0],
        original=_extras(item, ("type_name", "properties", "primary_keys")),
    )


def _edge_type(item: Any, where: str) -> LabelDef:
    name = _type_name(item, where)
    pairs = item.get("vertex_type_pair_relations") or []
    if not isinstance(pairs, list) or not pairs:
        raise PlanError(
            f"{where} ({name}): vertex_type_pair_relations needs at least one pair", field=where
        )
    relations = []
    pair_extras: list[dict[str, Any]] = []
    for i, pair in enumerate(pairs):
        pw = f"{where}.vertex_type_pair_relations[{i}]"
        if not isinstance(pair, dict):
            raise PlanError(f"{pw} must be an object", field=pw)
        source, target = pair.get("source_vertex"), pair.get("destination_vertex")
        if not isinstance(source, str) or not isinstance(target, str):
            raise PlanError(f"{pw}: source_vertex and destination_vertex are required", field=pw)
        relation = pair.get("relation", "MANY_TO_MANY")
        if not isinstance(relation, str):
            raise PlanError(f"{pw}.relation must be a string", field=pw)
        relations.append(Relation(source, target, relation))
        pair_extras.append(_extras(pair, ("source_vertex", "destination_vertex", "relation")) or {})
    original = _extras(item, ("type_name", "properties", "vertex_type_pair_relations")) or {}
    if any(pair_extras):
        original[PAIR_EXTRAS] = pair_extras
    return LabelDef(
        name=name,
        kind="edge",
        properties=_properties(item, where),
        relations=tuple(relations),
        original=original or None,
    )


def _extras(item: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any] | None:
    """What the definition said beyond our model (descriptions, x_csr_params...), kept so the
    definition can be given back as it was submitted."""
    extra = {k: v for k, v in item.items() if k not in known}
    return extra or None


def graph_definition(schema: GraphSchema, *, name: str, description: str = "") -> dict[str, Any]:
    """The schema in GraphScope's GetGraphSchemaResponse form (with type and property ids)."""
    vertex_types, edge_types = [], []
    for label in schema.labels:
        props = [
            {
                "property_id": i,
                "property_name": p.name,
                "property_type": _blank_nulls((p.original or {}).get("property_type"))
                or _type_of(p),
            }
            for i, p in enumerate(label.properties)
        ]
        extra = dict(label.original or {})
        extra.pop("type", None)
        pair_extras = extra.pop(PAIR_EXTRAS, [])
        if label.kind == "edge":
            edge_types.append(
                {
                    **extra,
                    "type_id": len(edge_types),
                    "type_name": label.name,
                    "vertex_type_pair_relations": [
                        {
                            **(pair_extras[i] if i < len(pair_extras) else {}),
                            "source_vertex": r.source,
                            "destination_vertex": r.target,
                            "relation": r.relation,
                        }
                        for i, r in enumerate(label.relations)
                    ],
                    "properties": props,
                }
            )
        else:
            vertex_types.append(
                {
                    **extra,
                    "type_id": len(vertex_types),
                    "type_name": label.name,
                    "properties": props,
                    "primary_keys": [label.primary_key] if label.primary_key else [],
                }
            )
    return {
        "name": name,
        "description": description,
        "schema": {"vertex_types": vertex_types, "edge_types": edge_types},
    }


def _blank_nulls(value: Any) -> Any:
    """YAML's bare ``long_text:`` is null; GraphScope writes it as an empty string."""
    if isinstance(value, dict):
        return {k: "" if v is None else _blank_nulls(v) for k, v in value.items()}
    return value


def _type_of(prop: PropertyDef) -> dict[str, Any]:
    reverse = {v: k for k, v in PRIMITIVE_TYPES.items()}
    if prop.type in reverse and prop.type != "string":
        return {"primitive_type": reverse[prop.type]}
    if prop.type == "char_array":
        return {"string": {"char": {"fixed_length": prop.max_length}}}
    if prop.type == "string" and prop.max_length:
        return {"string": {"var_char": {"max_length": prop.max_length}}}
    if prop.type == "date":
        return {"temporal": {"date32": ""}}
    if prop.type == "datetime":
        return {"temporal": {"timestamp": ""}}
    return {"string": {"long_text": ""}}
