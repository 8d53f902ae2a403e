from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobcenter.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Every kind of job registers itself (jobcenter.jobs.registry) when its module is
        # imported: the package's modules, then those named by JOBCENTER_JOB_KINDS.
        from django.conf import settings

        from jobcenter.jobs import kinds, tasks  # noqa: F401  (tasks: registers the job task)

        kinds.load(getattr(settings, "JOBCENTER_JOB_KINDS", ()))

        # The graphs a worker holds in memory stay within JOBCENTER_GRAPH_MEMORY_MB (read at
        # every use, so a changed setting counts at once).
        from jobcenter.graphs.resident import ResidentGraphs

        ResidentGraphs.budget_source = staticmethod(
            lambda: int(settings.JOBCENTER_GRAPH_MEMORY_MB) * 1024 * 1024
        )

        # A webhook's kind filter names one of the job types (jobcenter.notifications sits
        # below this app and cannot import them).
        from jobcenter.jobs.choices import JobType
        from jobcenter.notifications import services as notifications

        notifications.KIND_CHOICES[:] = JobType.choices
