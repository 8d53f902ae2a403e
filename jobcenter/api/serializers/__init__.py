"""Input and output shapes of the native API, one module per resource (``fields`` and ``common``
hold what they share). Inputs are validated here, nothing is written; outputs have the same keys
for every object whatever its state (absent data is ``null``). Times are UTC ISO 8601
(``2026-11-22T10:00:00.123456Z``)."""
