"""Builders for tests and benchmarks, one module per thing built: ``files`` (generated input
files; no Django, so a benchmark may use it before setting Django up), ``projects`` (users,
projects and memberships), ``graphs``, ``jobs`` (jobs through the real services, job rows as a
submit leaves them, the worker played by the worker-side services, unsaved jobs for the
wires), ``waiting`` (polling for a condition)."""
