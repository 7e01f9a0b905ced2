"""End-to-end check of the Python client against a running coordinator (run by the .NET end-to-end tests):
submit a job, watch part of it, drop the stream, resume from the last sequence, follow it to its end, get it;
cancel a second job; send a bad request. Prints one JSON summary line last.

    /usr/bin/python3 clients/python/check.py --coordinator 127.0.0.1:7070 --prompt "..." --duration 12
"""

import argparse
import json
import sys

import grpc

from videogen_client import VideoGenClient
from videogen_client.client import common_pb2


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--coordinator", required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--duration", type=float, default=12)
    parser.add_argument("--api-key", help="API key (default: $VIDEOGEN_API_KEY)")
    args = parser.parse_args()

    with VideoGenClient(args.coordinator, timeout=30, api_key=args.api_key) as client:
        job = client.submit(args.prompt, duration_seconds=args.duration)

        # Part of the stream, then drop it (as a client that lost its connection would).
        first = []
        for event in client.watch(job.job_id):
            first.append(event.sequence)
            if len(first) == 3:
                break
        # Resume from the last event seen: nothing missed, nothing twice.
        rest = [event.sequence for event in client.watch(job.job_id, after_sequence=first[-1], deadline_seconds=300)]
        done = client.get(job.job_id)

        second = client.submit(args.prompt + " (to cancel)", duration_seconds=args.duration)
        cancelled = client.cancel(second.job_id)

        try:
            client.submit("   ")
            bad = "accepted"
        except grpc.RpcError as error:
            bad = f"{error.code().name}: {error.details()}"

    sequences = first + rest
    print(json.dumps({
        "job": job.job_id,
        "state": common_pb2.JobState.Name(done.state),
        "duration": done.output_duration_seconds,
        "output_uri": done.output_uri,
        "sequences": sequences,
        "resumed_after": first[-1],
        "cancelled": common_pb2.JobState.Name(cancelled.state),
        "bad_prompt": bad,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
