"""Projects and their members: the projects you belong to (with your role), creating one (site
administrators), changing one (project admins), and who is a member with which role."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.pagination import PAGE_PARAMS, paginate
from jobcenter.api.permissions import IsSiteAdmin, require_role
from jobcenter.api.schema import errors, ok, page_parameters
from jobcenter.api.serializers.common import paginated
from jobcenter.api.serializers.projects import (
    MemberInputSerializer,
    MemberSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
)
from jobcenter.api.views.base import REF, ApiView, created, path_ref
from jobcenter.core.errors import Conflict, InvalidInput, NotFound
from jobcenter.projects.choices import Role
from jobcenter.projects.selectors import (
    project_get_for_user,
    project_list_with_role,
    project_members,
    project_role,
    user_get_by_username,
)
from jobcenter.projects.services import (
    membership_remove,
    membership_set,
    project_create,
    project_update,
)

_USERNAME = re.compile(r"[\w.@+-]{1,150}")

PROJECT = OpenApiParameter(
    "project",
    {"type": "string", "pattern": f"^{REF.pattern}$"},
    OpenApiParameter.PATH,
    description="Project name.",
)
USERNAME = OpenApiParameter("username", OpenApiTypes.STR, OpenApiParameter.PATH)


def _project(request: Request, name: str) -> Any:
    return project_get_for_user(user=request.user, name=path_ref(name, "project", "project"))


class ProjectListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["projects"],
        operation_id="projects_list",
        summary="Your projects, with your role in each",
        parameters=page_parameters(),
        responses={
            200: ok(paginated(ProjectSerializer), "One page of projects."),
            **errors(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        page = paginate(request, project_list_with_role(user=request.user))
        return Response(page.envelope(ProjectSerializer(page.results, many=True).data))

    @extend_schema(
        tags=["projects"],
        operation_id="projects_create",
        summary="Create a project (site administrators)",
        description="You become its admin.",
        request=ProjectCreateSerializer,
        responses={
            201: ok(ProjectSerializer, "The new project; `Location` is its URL."),
            **errors(400, 401, 403, 409, 415),
        },
    )
    def post(self, request: Request) -> Response:
        if not IsSiteAdmin().has_permission(request, self):
            raise drf.PermissionDenied(IsSiteAdmin.message)
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                project = project_create(
                    name=data.validated_data["name"],
                    description=data.validated_data.get("description", ""),
                    admin=request.user,
                )
        except IntegrityError:
            raise Conflict(
                f"project {data.validated_data['name']!r} already exists", field="name"
            ) from None
        project.role = Role.ADMIN  # type: ignore[attr-defined]
        return created(ProjectSerializer(project).data, f"/api/v1/projects/{project.name}/")


class ProjectDetailView(ApiView):
    @extend_schema(
        tags=["projects"],
        operation_id="projects_retrieve",
        summary="One of your projects",
        parameters=[PROJECT],
        responses={200: ok(ProjectSerializer, "The project."), **errors(401, 404)},
    )
    def get(self, request: Request, project: str) -> Response:
        obj = _project(request, project)
        obj.role = project_role(user=request.user, project=obj)
        return Response(ProjectSerializer(obj).data)

    @extend_schema(
        tags=["projects"],
        operation_id="projects_partial_update",
        summary="Change a project's description or result retention",
        description="Needs the admin role in the project.",
        parameters=[PROJECT],
        request=ProjectUpdateSerializer,
        responses={
            200: ok(ProjectSerializer, "The project as it is now."),
            **errors(401, 403, 404),
        },
    )
    def patch(self, request: Request, project: str) -> Response:
        obj = _project(request, project)
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        obj = project_update(project=obj, user=request.user, **data.validated_data)
        obj.role = project_role(user=request.user, project=obj)
        return Response(ProjectSerializer(obj).data)


class MemberListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["projects"],
        operation_id="projects_members_list",
        summary="Members of a project and their roles",
        parameters=[PROJECT, *page_parameters()],
        responses={
            200: ok(paginated(MemberSerializer), "One page of members."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, project: str) -> Response:
        page = paginate(request, project_members(project=_project(request, project)))
        return Response(page.envelope(MemberSerializer(page.results, many=True).data))

    @extend_schema(
        tags=["projects"],
        operation_id="projects_members_set",
        summary="Add a user to a project, or change their role (project admins)",
        parameters=[PROJECT],
        request=MemberInputSerializer,
        responses={
            200: ok(MemberSerializer, "The membership as it is now."),
            **errors(400, 401, 403, 404, 415),
        },
    )
    def post(self, request: Request, project: str) -> Response:
        obj = _project(request, project)
        require_role(user=request.user, project=obj, role=Role.ADMIN)
        data = MemberInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = user_get_by_username(username=data.validated_data["username"])
        except NotFound as exc:
            raise InvalidInput(exc.message, field="username") from None
        membership = membership_set(project=obj, user=user, role=Role(data.validated_data["role"]))
        return Response(MemberSerializer(membership).data)


class MemberDetailView(ApiView):
    @extend_schema(
        tags=["projects"],
        operation_id="projects_members_remove",
        summary="Remove a user from a project (project admins)",
        parameters=[PROJECT, USERNAME],
        responses={204: OpenApiResponse(description="Removed."), **errors(401, 403, 404)},
    )
    def delete(self, request: Request, project: str, username: str) -> Response:
        obj = _project(request, project)
        require_role(user=request.user, project=obj, role=Role.ADMIN)
        user = user_get_by_username(username=path_ref(username, "user", "username", _USERNAME))
        if not membership_remove(project=obj, user=user):
            raise NotFound(f"user {username!r} is not a member of {obj.name}", field="username")
        return Response(status=status.HTTP_204_NO_CONTENT)
