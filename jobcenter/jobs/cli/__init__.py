"""The subcommands of ``manage.py jobs`` (jobs/management/commands/jobs.py), by group: submit
(``submit``), reading (``read``: list, show, failed-lines), control (``control``: cancel,
retry), and what they share (``common``)."""
