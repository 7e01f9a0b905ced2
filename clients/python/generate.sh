#!/usr/bin/env bash
# Generates the Python gRPC stubs from protos/ into clients/python/generated (not committed):
# Debian's protoc with grpc_python_plugin (packages protobuf-compiler, protobuf-compiler-grpc).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
protos="$here/../../protos"
out="$here/generated"
rm -rf "$out"
mkdir -p "$out"
protoc -I "$protos" -I "$protos/third_party" \
  --python_out="$out" --grpc_out="$out" --plugin=protoc-gen-grpc="$(command -v grpc_python_plugin)" \
  "$protos"/videogen/v1/*.proto google/api/annotations.proto google/api/http.proto
echo "$out"
