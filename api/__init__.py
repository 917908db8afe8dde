"""The HTTP API (FastAPI). Filled in by the service issue."""
