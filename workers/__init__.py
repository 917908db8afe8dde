"""Celery workers. Filled in by the service issue."""
