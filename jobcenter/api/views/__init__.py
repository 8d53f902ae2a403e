"""The native REST API: thin adapters from HTTP to services (writes) and selectors (reads).

One module per resource (``base`` holds what they share); each view validates its input with a
serializer of the same resource (jobcenter.api.serializers), calls the core, and turns
ServiceErrors into the one error shape (see exceptions.py). Permissions: see permissions.py.
The one router is jobcenter.api.urls.
"""
