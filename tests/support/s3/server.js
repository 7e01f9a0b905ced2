// Starts s3rver on 127.0.0.1 for the tests: node server.js --port PORT --directory DIR [--bucket NAME ...]
// Its package's bin file is missing, hence this file. allowMismatchedSignatures: its SigV4 check
// mis-handles paths that end in '/' (STACK.md). Prints "s3rver listening on http://127.0.0.1:PORT" when ready
// then "request METHOD URL" per request, and stops on SIGTERM/SIGINT or when stdin closes (the test process went away).
'use strict';
const S3rver = require('@20minutes/s3rver');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const buckets = args.flatMap((a, i) => (a === '--bucket' && i + 1 < args.length ? [args[i + 1]] : []));

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(option('port', '0')),
  directory: option('directory', './s3-data'),
  silent: true,
  allowMismatchedSignatures: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});

server.run().then(
  ({ address, port }) => {
    // One line per request, so tests can see how an upload went (e.g. multipart: ?partNumber=N&uploadId=…).
    server.httpServer.on('request', (req) => console.log(`request ${req.method} ${req.url}`));
    console.log(`s3rver listening on http://${address}:${port}`);
  },
  (error) => {
    console.error(`s3rver failed to start: ${error.stack || error}`);
    process.exit(1);
  });

const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
