#!/usr/bin/env node
'use strict';
// Submits a prompt to a VideoGen coordinator and follows the job's event stream to its end.
//   node watch.js --coordinator 127.0.0.1:7070 --prompt "..." [--duration 10] [--api-key KEY]
// The API key defaults to $VIDEOGEN_API_KEY.
// Prints one JSON line per event, then a final {"final": ...} line. Exit 0 when the job
// succeeded, 1 when it failed or was cancelled, 2 on a usage error, 3 on a gRPC error.
// A broken stream is resumed from the last sequence seen (WatchJob.after_sequence).
const crypto = require('crypto');
const { connect, grpc } = require('./videogen');

function parseArgs(argv) {
  const args = { coordinator: process.env.VIDEOGEN_COORDINATOR || '127.0.0.1:7070', prompt: null, duration: null, apiKey: process.env.VIDEOGEN_API_KEY };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (name) {
      case '--coordinator': args.coordinator = value(); break;
      case '--prompt': args.prompt = value(); break;
      case '--duration': args.duration = Number(value()); break;
      case '--api-key': args.apiKey = value(); break;
      case '--help': case '-h': usage(0); break;
      default: usage(2, `unknown argument ${argv[i]}`);
    }
  }
  if (!args.prompt) usage(2, '--prompt is required');
  if (args.duration !== null && !(args.duration > 0)) usage(2, '--duration must be a positive number');
  return args;
}

function usage(code, message) {
  if (message) console.error(`error: ${message}`);
  console.error('usage: node watch.js --coordinator HOST:PORT --prompt "..." [--duration SECONDS] [--api-key KEY]');
  process.exit(code);
}

const TERMINAL = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);
const RESUMABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.UNKNOWN]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function submit(client, request) {
  return new Promise((resolve, reject) => {
    client.SubmitJob(request, { deadline: Date.now() + 30_000 }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

// One WatchJob call: resolves with the final state (or null when the stream ended early).
function watchOnce(client, jobId, state) {
  return new Promise((resolve, reject) => {
    const call = client.WatchJob({ job_id: jobId, after_sequence: state.lastSequence });
    call.on('data', (event) => {
      if (event.sequence <= state.lastSequence) return; // already printed before a resume
      state.lastSequence = event.sequence;
      console.log(JSON.stringify(event));
      if (event.event === 'state_changed' && TERMINAL.has(event.state_changed.state)) {
        state.final = event.state_changed;
      }
    });
    call.on('error', reject);
    call.on('end', () => resolve(state.final));
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const client = connect(args.coordinator, args.apiKey);
  const job = { prompt: args.prompt };
  if (args.duration !== null) job.duration_seconds = args.duration;

  let submitted;
  try {
    submitted = await submit(client, { request_id: crypto.randomUUID(), job });
  } catch (err) {
    console.error(`error: SubmitJob failed: ${grpc.status[err.code] || err.code}: ${err.details}`);
    process.exit(err.code === grpc.status.UNAVAILABLE ? 4 : 3);
  }
  const jobId = submitted.job.job_id;
  console.error(`job ${jobId}`);

  const state = { lastSequence: 0, final: null };
  let brokenSince = null;
  let delay = 250;
  while (!state.final) {
    try {
      await watchOnce(client, jobId, state);
      if (state.final) break;
    } catch (err) {
      if (!RESUMABLE.has(err.code)) {
        console.error(`error: WatchJob failed: ${grpc.status[err.code] || err.code}: ${err.details}`);
        process.exit(3);
      }
    }
    brokenSince = brokenSince || Date.now();
    if (Date.now() - brokenSince > 60_000) {
      console.error('error: the watch stream stayed down for 60 s');
      process.exit(4);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 4000);
  }

  const final = state.final;
  console.log(JSON.stringify({
    final: {
      job_id: jobId,
      state: final.state,
      cost_usd: final.cost_usd,
      output_uri: final.output_uri,
      output_duration_seconds: final.output_duration_seconds,
      error: final.error,
    },
  }));
  client.close();
  process.exit(final.state === 'JOB_STATE_SUCCEEDED' ? 0 : 1);
}

main().catch((err) => {
  console.error(`error: ${err.stack || err}`);
  process.exit(1);
});
