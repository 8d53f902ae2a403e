"""Forms of the dashboard, one module per page they serve: they only check and shape input;
services do the work (and their errors are shown next to the field they name)."""
