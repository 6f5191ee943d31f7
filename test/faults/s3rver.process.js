// An S3 server (s3rver) as its own process on a fixed port and directory, so the fault
// suite can kill it and start it again with the objects it had.
const S3rver = require('s3rver');
const [port, directory, bucket] = process.argv.slice(2);
new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory, configureBuckets: [{ name: bucket }] })
  .run()
  .then(() => console.log('s3rver listening'))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
