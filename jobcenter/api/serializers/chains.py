"""Job chains (issue 17): the dependency fields every submit body takes, and a chain's steps."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobcenter.api.serializers.fields import TextField
from jobcenter.api.serializers.jobs import JobSerializer
from jobcenter.jobs.chains import MAX_CHAIN_STEPS, MAX_DEPENDENCIES

DEPENDS_ON_HELP = (
    "Ids of jobs of the same project this job waits for: it stays `waiting` until they have "
    "succeeded, and ends `cancelled` (naming the job) if one fails or is cancelled."
)
ACCEPT_PARTIAL_HELP = "Also run after a dependency that partially failed."


class StrictBooleanField(serializers.BooleanField):
    """true or false only (JSON): DRF would also take 0, 1, "yes"... (a form field, where every
    value is text, uses DRF's own)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class DependsOnSerializer(serializers.Serializer):
    """The fields by which any submitted job names the jobs it waits for."""

    depends_on = serializers.ListField(
        child=TextField(max_length=64),
        required=False,
        default=list,
        max_length=MAX_DEPENDENCIES,
        help_text=DEPENDS_ON_HELP,
    )
    accept_partial = StrictBooleanField(
        required=False, default=False, help_text=ACCEPT_PARTIAL_HELP
    )


# The keys of :class:`DependsOnSerializer`: what every submit body may hold besides its kind's own.
DEPENDENCY_KEYS = frozenset({"depends_on", "accept_partial"})


def dependency_fields(data: dict[str, Any]) -> tuple[list[str], bool]:
    """Take the dependency fields out of a validated body (the rest goes to the service)."""
    return list(data.pop("depends_on", None) or []), bool(data.pop("accept_partial", False))


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class StepRefField(serializers.Field):
    """A step of the same chain (its index, from 0) or an existing job (its id)."""

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            raise serializers.ValidationError("give a step index (a number) or a job id (text)")
        if isinstance(data, str) and not 0 < len(data) <= 64:
            raise serializers.ValidationError("a job id is 1 to 64 characters")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


STEP_TYPES = (
    "import",
    "algorithm",
    "query",
    "index",
    "export",
    "graph_operation",
    "start_graph",
    "close_graph",
)


class ChainStepSerializer(serializers.Serializer):
    """One job of a chain: its type and graph, what it waits for, and the body of its kind's
    own submit endpoint (the other keys, checked by that endpoint's rules)."""

    type = serializers.ChoiceField(
        choices=STEP_TYPES,
        help_text=(
            "The kind of job; its other keys are those of the kind's own endpoint: `import` "
            "(POST graphs/{id}/import/, JSON), `algorithm`, `query`, `index`, `export` (a whole "
            "graph, or with `job` a job's result), `graph_operation` (clear, backup, restore), "
            "`start_graph`, `close_graph`."
        ),
    )
    graph = TextField(
        required=False,
        max_length=64,
        help_text="The graph's id (in the chain's project); not for the export of a result.",
    )
    job = StepRefField(
        required=False,
        help_text=(
            "`export` of a job's result: the step (index) or job (id) whose result is written; "
            "the export waits for it."
        ),
    )
    depends_on = serializers.ListField(
        child=StepRefField(),
        required=False,
        default=list,
        max_length=MAX_DEPENDENCIES,
        help_text="Steps of this chain (their index, from 0) and existing jobs (their id) this "
        "step waits for.",
    )
    accept_partial = StrictBooleanField(
        required=False, default=False, help_text=ACCEPT_PARTIAL_HELP
    )


class ChainInputSerializer(serializers.Serializer):
    """A chain as the view reads it: each step's own keys are checked by its kind's rules."""

    steps = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=MAX_CHAIN_STEPS,
        help_text="The jobs to submit, in any order (a step may wait for a later one).",
    )


class ChainRequestSerializer(serializers.Serializer):
    """A chain as the OpenAPI description shows it."""

    steps = ChainStepSerializer(
        many=True,
        help_text=(
            "The jobs to submit. Besides the keys below, each step has the body of its kind's "
            "own submit endpoint (e.g. `algorithm` and `parameters`)."
        ),
    )


class ChainResultSerializer(serializers.Serializer):
    jobs = JobSerializer(many=True, help_text="The jobs created, in step order.")
