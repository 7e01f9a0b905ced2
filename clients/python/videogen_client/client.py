"""VideoGenClient: the job API over gRPC, with a watch that resumes where it left off."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from typing import Callable, Iterator, Optional

_GENERATED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "generated")
if _GENERATED not in sys.path:
    sys.path.insert(0, _GENERATED)

import grpc  # noqa: E402

from videogen.v1 import common_pb2, jobs_pb2, jobs_pb2_grpc  # noqa: E402,F401

TERMINAL = {
    common_pb2.JOB_STATE_SUCCEEDED,
    common_pb2.JOB_STATE_FAILED,
    common_pb2.JOB_STATE_CANCELLED,
}

# Statuses after which a watch reconnects and resumes: the stream broke, not the request.
_RESUMABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED}


class JobFailed(Exception):
    """A job that ended FAILED or CANCELLED."""

    def __init__(self, job):
        super().__init__(f"job {job.job_id} ended {common_pb2.JobState.Name(job.state)}: {job.error}")
        self.job = job


LIST_SERVICE_CONFIG = json.dumps({
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [{
        "name": [{}],
        "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.1s", "maxBackoff": "1s", "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"]},
    }],
})


def target_of(address: str) -> str:
    """One coordinator ("host:port") as is; several ("10.0.0.1:7070,10.0.0.2:7070") as an "ipv4:" target listing them,
    balanced round-robin over the connected ones with retries on UNAVAILABLE (LIST_SERVICE_CONFIG): a coordinator that
    is down is passed over, and a standby (it answers UNAVAILABLE naming the leader) sends the retry to the next one."""
    parts = [p.strip().removeprefix("http://") for p in address.split(",") if p.strip()]
    if len(parts) == 1:
        return parts[0]
    if not all(re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}:\d+", p) for p in parts):
        raise ValueError(f"several coordinators must each be IPv4:PORT, got {address!r}")
    return "ipv4:" + ",".join(parts)


class VideoGenClient:
    """A coordinator, or the first reachable of several. `address` is host:port of its gRPC endpoint (plaintext
    HTTP/2), or a comma-separated list of IPv4:PORT (see `target_of`)."""

    def __init__(self, address: str, timeout: float = 30.0, api_key: Optional[str] = None):
        self.address = address
        self.timeout = timeout
        self.api_key = api_key or os.environ.get("VIDEOGEN_API_KEY")
        target = target_of(address)
        # A listed target has no single authority; Kestrel refuses the list as an :authority header, so name the first.
        options = [("grpc.default_authority", target.removeprefix("ipv4:").split(",")[0]),
                   ("grpc.service_config", LIST_SERVICE_CONFIG)] if target.startswith("ipv4:") else []
        self._channel = grpc.insecure_channel(target, options=options)
        self._jobs = jobs_pb2_grpc.JobServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "VideoGenClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _metadata(self):
        return [("authorization", f"Bearer {self.api_key}")] if self.api_key else None

    def submit(self, prompt: str, request_id: Optional[str] = None, **fields):
        """Submits a job (fields: any JobRequest field, e.g. duration_seconds=12, resolution=...). Idempotent per request_id."""
        job = jobs_pb2.JobRequest(prompt=prompt, **fields)
        request = jobs_pb2.SubmitJobRequest(request_id=request_id or str(uuid.uuid4()), job=job)
        return self._jobs.SubmitJob(request, timeout=self.timeout, metadata=self._metadata()).job

    def estimate(self, prompt: str, **fields):
        job = jobs_pb2.JobRequest(prompt=prompt, **fields)
        return self._jobs.EstimateJob(jobs_pb2.EstimateJobRequest(job=job), timeout=self.timeout, metadata=self._metadata())

    def get(self, job_id: str):
        return self._jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=self.timeout, metadata=self._metadata()).job

    def cancel(self, job_id: str):
        return self._jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=job_id), timeout=self.timeout, metadata=self._metadata()).job

    def watch(self, job_id: str, after_sequence: int = 0, deadline_seconds: float = 3600,
              max_reconnects: int = 20, on_reconnect: Optional[Callable[[int], None]] = None) -> Iterator:
        """Yields the job's events in order, from after `after_sequence` to its terminal state. A broken stream is
        reopened from the last sequence seen, so no event is missed or repeated."""
        last = after_sequence
        reconnects = 0
        stop_at = time.monotonic() + deadline_seconds
        while True:
            remaining = stop_at - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"job {job_id} did not end within {deadline_seconds} s")
            stream = self._jobs.WatchJob(jobs_pb2.WatchJobRequest(job_id=job_id, after_sequence=last),
                                         timeout=remaining, metadata=self._metadata())
            try:
                for event in stream:
                    if event.sequence <= last:
                        continue
                    last = event.sequence
                    yield event
                    if event.WhichOneof("event") == "state_changed" and event.state_changed.state in TERMINAL:
                        return
                return
            except grpc.RpcError as error:
                if error.code() not in _RESUMABLE or reconnects >= max_reconnects:
                    raise
                reconnects += 1
                if on_reconnect:
                    on_reconnect(last)
                time.sleep(min(0.2 * 2 ** reconnects, 5))
            finally:
                stream.cancel()

    def wait(self, job_id: str, deadline_seconds: float = 3600):
        """Watches `job_id` to its end and returns the final Job; raises JobFailed unless it succeeded."""
        for _ in self.watch(job_id, deadline_seconds=deadline_seconds):
            pass
        job = self.get(job_id)
        if job.state != common_pb2.JOB_STATE_SUCCEEDED:
            raise JobFailed(job)
        return job
