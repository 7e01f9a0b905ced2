"""A Python client of the VideoGen job API (gRPC): submit, estimate, watch with resume, get, cancel.

The stubs are generated from protos/ by ../generate.sh into ../generated; this package puts that folder
on sys.path, so `import videogen_client` is all a caller needs after generating them.
"""

from .client import VideoGenClient, JobFailed  # noqa: F401
