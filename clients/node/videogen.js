'use strict';
// Loads the VideoGen contract (protos/videogen/v1/jobs.proto) at run time: no code generation.
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'protos');
const JOBS_PROTO = path.join(PROTO_ROOT, 'videogen', 'v1', 'jobs.proto');
// google/protobuf/*.proto (timestamp) are built into proto-loader (protobufjs); its folder is
// listed as the place for any other google/ include a future proto might need.
const GOOGLE_INCLUDES = path.dirname(require.resolve('@grpc/proto-loader/package.json'));
// google/api/annotations.proto and http.proto (the REST routes' options), vendored from googleapis.
const THIRD_PARTY = path.join(PROTO_ROOT, 'third_party');

function loadJobService() {
  const definition = protoLoader.loadSync(JOBS_PROTO, {
    includeDirs: [PROTO_ROOT, THIRD_PARTY, GOOGLE_INCLUDES],
    keepCase: true, // field names as in the .proto: job_id, after_sequence
    longs: Number, // int64 sequence numbers fit a double for any real job
    enums: String, // "JOB_STATE_SUCCEEDED"
    defaults: true,
    oneofs: true, // event.event names the set member: "state_changed", "task_updated", "planned"
  });
  const loaded = grpc.loadPackageDefinition(definition);
  return loaded.videogen.v1.JobService;
}

// Sends `authorization: Bearer KEY` on every call. An interceptor rather than call credentials: grpc-js
// attaches call credentials only to TLS channels, and the local farm speaks plaintext on loopback.
function bearerInterceptor(apiKey) {
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('authorization', `Bearer ${apiKey}`);
      next(metadata, listener);
    },
  });
}

// apiKey: the caller's API key; default $VIDEOGEN_API_KEY. None: calls go without one (UNAUTHENTICATED
// from a coordinator that requires keys).
// One coordinator ("host:port"), or several ("10.0.0.1:7070,10.0.0.2:7070"): an "ipv4:" target that lists them,
// balanced round-robin over the connected ones with retries on UNAVAILABLE (LIST_SERVICE_CONFIG): a coordinator that
// is down is passed over, and a standby (it answers UNAVAILABLE naming the leader) sends the retry to the next one.
function targetOf(address) {
  const parts = address.split(',').map((a) => a.trim().replace(/^https?:\/\//, '')).filter((a) => a.length > 0);
  if (parts.length === 1) {
    return parts[0];
  }
  if (!parts.every((p) => /^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(p))) {
    throw new Error(`several coordinators must each be IPv4:PORT, got '${address}'`);
  }
  return 'ipv4:' + parts.join(',');
}

const LIST_SERVICE_CONFIG = JSON.stringify({
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [{
    name: [{}],
    retryPolicy: {
      maxAttempts: 5, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'],
    },
  }],
});

function connect(address, apiKey = process.env.VIDEOGEN_API_KEY) {
  const JobService = loadJobService();
  const target = targetOf(address);
  const options = apiKey ? { interceptors: [bearerInterceptor(apiKey)] } : {};
  if (target.startsWith('ipv4:')) {
    // A listed target has no single authority: name the first coordinator (a list is no valid :authority).
    options['grpc.default_authority'] = target.slice('ipv4:'.length).split(',')[0];
    options['grpc.service_config'] = LIST_SERVICE_CONFIG;
  }
  return new JobService(target, grpc.credentials.createInsecure(), options);
}

module.exports = { loadJobService, connect, targetOf, grpc, PROTO_ROOT };
