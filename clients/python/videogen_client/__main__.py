"""python3 -m videogen_client --coordinator HOST:PORT submit PROMPT [--duration S] [--watch]
                                                  get JOB | cancel JOB | watch JOB [--after N]

Prints one JSON object per line: events while watching, then the job."""

import argparse
import json
import sys

import grpc
from google.protobuf import json_format

from .client import JobFailed, VideoGenClient


def _print(message) -> None:
    print(json.dumps(json_format.MessageToDict(message), separators=(",", ":")), flush=True)


def _resuming(last: int) -> None:
    print(f"stream lost: resuming after sequence {last}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="videogen_client")
    parser.add_argument("--coordinator", default="127.0.0.1:7070")
    parser.add_argument("--api-key")
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit")
    submit.add_argument("prompt")
    submit.add_argument("--duration", type=float)
    submit.add_argument("--request-id")
    submit.add_argument("--watch", action="store_true")
    for name in ("get", "cancel"):
        commands.add_parser(name).add_argument("job")
    watch = commands.add_parser("watch")
    watch.add_argument("job")
    watch.add_argument("--after", type=int, default=0)
    args = parser.parse_args(argv)

    with VideoGenClient(args.coordinator, api_key=args.api_key) as client:
        try:
            if args.command == "submit":
                fields = {} if args.duration is None else {"duration_seconds": args.duration}
                job = client.submit(args.prompt, request_id=args.request_id, **fields)
                _print(job)
                if args.watch:
                    for event in client.watch(job.job_id, on_reconnect=_resuming):
                        _print(event)
                    _print(client.wait(job.job_id))
            elif args.command == "get":
                _print(client.get(args.job))
            elif args.command == "cancel":
                _print(client.cancel(args.job))
            elif args.command == "watch":
                for event in client.watch(args.job, after_sequence=args.after, on_reconnect=_resuming):
                    _print(event)
        except grpc.RpcError as error:
            print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
            return 3
        except JobFailed as failed:
            print(f"error: {failed}", file=sys.stderr)
            return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
