// An S3-compatible server for tests: s3rver (npm), in this process, on
// 127.0.0.1. It STANDS IN FOR A REAL S3: same REST API, its one access key
// (S3RVER, secret S3RVER) checked, real error codes (NoSuchBucket,
// InvalidAccessKeyId). What it does not do that S3 does: verify a SigV4
// signature (a wrong secret passes) or x-amz-checksum-sha256 against the
// bytes (it ignores the header), so tests assert that the header is sent and right.
// Every request passes a recorder first: tests count PUTs at the server.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import S3rver from "s3rver";

export interface S3Request {
  readonly method: string;
  /** Path and query as sent: `/bucket/key?x-id=PutObject`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface S3Server {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly requests: S3Request[];
  /** The environment a client needs: the endpoint and s3rver's credentials. */
  readonly env: NodeJS.ProcessEnv;
  /** PUT requests (uploads) since the start. */
  puts(): S3Request[];
  close(): Promise<void>;
}

export const S3_KEY = "S3RVER";

export async function startS3Server(buckets: readonly string[]): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "depc-s3rver-"));
  const app = new S3rver({ directory, silent: true, configureBuckets: buckets.map((name) => ({ name, configs: [] })) });
  // run() would create the buckets and listen itself: the buckets alone, then our own listener in front.
  await app.configureBuckets();
  const handle = app.callback();
  const requests: S3Request[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    requests,
    env: { AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_KEY, AWS_ENDPOINT_URL: endpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    puts: () => requests.filter((r) => r.method === "PUT"),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
