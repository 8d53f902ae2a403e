"""Wire-compatible faces over the job center core: GraphScope Interactive and Huawei GES.

Each dialect is a thin adapter: ``<dialect>/wire.py`` (GES: the ``wire`` package) holds its
field names, status and job-type mapping and error codes (the one place per dialect,
documented in docs/compat.md), ``<dialect>/views.py`` calls the core's services and
selectors, ``<dialect>/urls.py`` mounts it.
"""
