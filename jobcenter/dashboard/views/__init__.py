"""The dashboard's views, one module per resource (URL map: jobcenter.dashboard.urls).

Thin adapters between HTTP/HTMX and the services and selectors. Every page is scoped to the
*current project* (jobcenter.dashboard.nav). Reads go through the same selectors and the same
:class:`~jobcenter.jobs.filtersets.JobFilterSet` as the REST API; writes through the same
services, which check roles again: a button the user does not see is also a request the server
refuses.

HTMX conventions (see docs/dashboard.md): a request from htmx gets a template partial
(``"page.html#partial"``), any other request the whole page; polling responses answer 286 when
nothing they watch is still active, which makes htmx stop polling.

Every input is untrusted: ids are checked before they reach a query (a NUL character would make
PostgreSQL raise), invalid filters are ignored and reported, never a 500. Forms with errors
answer 422 with the form re-rendered and every error next to its field; a refusal answers
403/404/409 with a toast for htmx (jobcenter.dashboard.common).
"""
