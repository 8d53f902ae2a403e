"""Huawei GES's wire: every field name, status, job type and error code of this dialect lives
in this package, for both of its planes. docs/compat.md explains each mapping.

- The **service plane** (``/ges/v1.0/...``) speaks camelCase, errors ``{"errorCode",
  "errorMessage"}`` with GES.8xxx codes.
- The **management plane v2** (``/v2/...``) speaks snake_case, errors ``{"error_code",
  "error_msg"}`` with GES.7xxx/GES.0xxx codes; the official SDK parses only that shape.

GES answers almost every error, "not found" included, with HTTP 400.

Modules, each importing only those listed before it:

- ``statuses``: our job and file statuses as each plane names them, and the per-file
  accounting both planes show (what was imported, why not).
- ``job_types``: how each of our job types appears (task type, job name, job center, cancel).
- ``algorithms``: GES's algorithm names and parameters, and the shape of their results.
- ``errors``: the error codes, each plane's error body, and the errors views raise by situation.
- ``results``: a job's result page as GES's ``data.outputs``.
- ``requests``: GES's producer bodies (algorithm, query, index, export) in the core's terms.
- ``management``: the management plane v2's job objects, list filters and paging.
- ``service``: the service plane's job objects, job status bodies, actions and paging.
"""
