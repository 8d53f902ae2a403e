"""The one error shape and the page envelope, shared by every endpoint."""

from __future__ import annotations

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    message = serializers.CharField(help_text="What went wrong, naming the parameter or field.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per parameter or field (dotted for nested fields); may be empty.",
    )


_PAGINATED: dict[type, type] = {}


def paginated(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page envelope around a list of ``item`` (one class per item, for the schema)."""
    if item not in _PAGINATED:
        name = "Paginated" + item.__name__.removesuffix("Serializer") + "List"
        _PAGINATED[item] = type(
            name,
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(
                    allow_null=True,
                    help_text=(
                        "Rows matching the request (offset mode); null in cursor mode. The job "
                        "list counts up to 10,000: beyond, this is 10000 and count_exact false."
                    ),
                ),
                "count_exact": serializers.BooleanField(
                    allow_null=True,
                    help_text=(
                        "False when more rows than `count` match (the job list stops counting "
                        "at 10,000); null in cursor mode."
                    ),
                ),
                "next": serializers.URLField(
                    allow_null=True, help_text="The next page, or null on the last one."
                ),
                "previous": serializers.URLField(
                    allow_null=True, help_text="The previous page, or null on the first one."
                ),
                "results": item(many=True),
                "__module__": __name__,
            },
        )
    return _PAGINATED[item]
