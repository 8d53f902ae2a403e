"""Graph stores: where a graph's vertices and edges live. ``base.py`` is the interface every
caller uses; a backend implements it with all of its SQL inside its own module (``sqlite.py``:
one embedded SQLite file per graph). ``factory.py`` (the only module here that knows Django)
picks the backend from ``settings.JOBCENTER_GRAPH_STORE`` and opens a graph's store."""
