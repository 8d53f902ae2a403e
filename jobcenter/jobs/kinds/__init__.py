"""The kinds of job, one module each. Importing this package imports every module in it, and
each registers its kind (``jobcenter.jobs.registry``): a new kind is one new module here.
Modules outside the package are named by ``JOBCENTER_JOB_KINDS``. The jobs app's ``ready()``
calls :func:`load`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def load(extra: Iterable[str] = ()) -> None:
    """Import every kind module of this package, then the modules named in ``extra``."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    for name in extra:
        importlib.import_module(name)
