"""GES metadata: ``schema.xml`` (PMML labels) read safely into the normalised schema, and
written back. See ../shared/reference/ges.md section 6 for the format."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.schema import GraphSchema, LabelDef, PropertyDef

MAX_SCHEMA_BYTES = 10 * 1024 * 1024
DATA_TYPES = {
    "char": "char",
    "char array": "char_array",
    "float": "float",
    "double": "double",
    "bool": "bool",
    "long": "long",
    "int": "int",
    "date": "date",
    "enum": "enum",
    "string": "string",
}


def _local(tag: str) -> str:
    """Tag name without its XML namespace."""
    return tag.rsplit("}", 1)[-1]


def parse_schema_xml(source: bytes) -> GraphSchema:
    """Parse GES metadata (PMML ``<labels><label><properties><property/>``) safely: no
    entity expansion, no external references. Raises PlanError naming the problem."""
    if len(source) > MAX_SCHEMA_BYTES:
        raise PlanError(f"the schema file is larger than {MAX_SCHEMA_BYTES // (1024 * 1024)} MB")
    try:
        root = SafeET.fromstring(source)
    except DefusedXmlException as exc:
        raise PlanError(f"the schema file uses forbidden XML features ({exc})") from None
    except SafeET.ParseError as exc:
        raise PlanError(f"the schema file is not well-formed XML: {exc}") from None
    labels_elements = [el for el in root.iter() if _local(el.tag) == "labels"]
    if not labels_elements:
        raise PlanError("the schema file has no <labels> element")
    labels: list[LabelDef] = []
    for element in labels_elements[0]:
        if _local(element.tag) != "label":
            continue
        labels.append(_label(element))
    if not labels:
        raise PlanError("the schema file defines no labels")
    return GraphSchema.build("global", labels)


def _label(element: Element) -> LabelDef:
    name = element.get("name")
    if not name:
        raise PlanError("a <label> has no name attribute")
    kind = element.get("type", "any")
    if kind not in ("vertex", "edge", "any", "general"):
        raise PlanError(f"label {name!r}: type must be vertex, edge or general, not {kind!r}")
    props: list[PropertyDef] = []
    for holder in element:
        if _local(holder.tag) != "properties":
            continue
        for prop in holder:
            if _local(prop.tag) == "property":
                props.append(_property(name, prop))
    return LabelDef(
        name=name,
        kind="any" if kind == "general" else kind,
        properties=tuple(props),
        original={"type": kind} if kind != "any" else None,
    )


def _property(label: str, element: Element) -> PropertyDef:
    where = f"label {label!r}"
    name = element.get("name")
    if not name:
        raise PlanError(f"{where}: a <property> has no name attribute")
    where = f"{where}: property {name!r}"
    raw_type = (element.get("dataType") or "").strip()
    data_type = DATA_TYPES.get(raw_type) or DATA_TYPES.get(raw_type.lower())
    if data_type is None:
        raise PlanError(
            f"{where}: unknown dataType {raw_type!r} (expected one of {', '.join(DATA_TYPES)})"
        )
    cardinality = (element.get("cardinality") or "single").strip().lower()
    max_length = None
    if data_type == "char_array":
        size = element.get("maxDataSize")
        if size is None:
            raise PlanError(f"{where}: a char array needs maxDataSize")
        max_length = _positive_int(size, f"{where}: maxDataSize")
    enum_values: tuple[str, ...] = ()
    if data_type == "enum":
        count = _positive_int(element.get("typeNameCount"), f"{where}: typeNameCount")
        values = []
        for i in range(1, count + 1):
            value = element.get(f"typeName{i}")
            if value is None:
                raise PlanError(f"{where}: typeNameCount is {count} but typeName{i} is missing")
            values.append(value)
        enum_values = tuple(values)
    return PropertyDef(
        name=name,
        type=data_type,
        cardinality=cardinality,
        max_length=max_length,
        enum_values=enum_values,
        original={"dataType": raw_type},
    )


def _positive_int(text: str | None, what: str) -> int:
    try:
        value = int(text or "")
    except ValueError:
        raise PlanError(f"{what} must be a positive integer, not {text!r}") from None
    if value <= 0:
        raise PlanError(f"{what} must be a positive integer, not {text!r}")
    return value


def schema_xml(schema: GraphSchema) -> str:
    """A schema back in GES's schema.xml form (for exports and for showing it to GES users)."""
    from xml.sax.saxutils import quoteattr

    reverse = {v: k for k, v in DATA_TYPES.items()}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<PMML version="3.0" xmlns="http://www.dmg.org/PMML-3-0">',
        "  <labels>",
    ]
    for label in schema.labels:
        # The kind too (GES's optional type attribute), so that a re-import is identical.
        kind = f' type="{label.kind}"' if label.kind in ("vertex", "edge") else ""
        out.append(f"    <label name={quoteattr(label.name)}{kind}>")
        out.append("      <properties>")
        for prop in label.properties:
            attrs = [
                f"name={quoteattr(prop.name)}",
                f"cardinality={quoteattr(prop.cardinality)}",
                f"dataType={quoteattr(reverse.get(prop.type, 'string'))}",
            ]
            if prop.type == "char_array" and prop.max_length:
                attrs.append(f'maxDataSize="{prop.max_length}"')
            if prop.enum_values:
                attrs.append(f'typeNameCount="{len(prop.enum_values)}"')
                attrs.extend(
                    f"typeName{i}={quoteattr(v)}" for i, v in enumerate(prop.enum_values, 1)
                )
            out.append(f"        <property {' '.join(attrs)}/>")
        out.append("      </properties>")
        out.append("    </label>")
    out += ["  </labels>", "</PMML>", ""]
    return "\n".join(out)
