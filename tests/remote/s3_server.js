// A local S3 (s3rver, from npm) for cbag's remote tests (tests/remote/run.sh).
// Usage: node s3_server.js DIR PORTFILE: serves DIR on 127.0.0.1 at a free
// port, written to PORTFILE, with the buckets "cbag" and "dask-data".
// s3rver accepts any SigV4 signature made with its access key "S3RVER" (it
// does not check the signature itself; http_server.py's /signed/ bucket
// does), refuses unknown access keys, and serves anonymous requests.
'use strict';
const fs = require('fs');
const path = require('path');
const S3rver = require('s3rver');

const [dir, portfile] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: [{ name: 'cbag' }, { name: 'dask-data' }],
});
server.run().then(
  addr => {
    fs.writeFileSync(portfile + '.tmp', String(addr.port));
    fs.renameSync(portfile + '.tmp', portfile);
  },
  err => {
    console.error('s3_server: ' + err);
    process.exit(1);
  },
);
