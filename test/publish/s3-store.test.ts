// The s3:// store against an S3-compatible server running here: s3rver, in
// this process (test/publish/s3-server.ts). s3rver STANDS IN FOR A REAL S3
// (same REST API, access keys checked, S3's error codes). It checks neither
// SigV4 signatures nor x-amz-checksum-sha256: the test checks that the
// header is sent and right (S3 itself refuses a mismatch: BadDigest).
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store, describeS3Error, parseS3Spec, s3ClientConfig } from "../../tools/publish/s3-store.js";
import { StoreError, openStore } from "../../tools/publish/store.js";
import { startS3Server, type S3Server } from "./s3-server.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

const message = async (f: () => Promise<unknown>) => {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return (e as Error).message;
  }
  throw new Error("no error");
};

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server(["depc"]);
});
afterAll(async () => {
  await s3?.close();
});

/** The keys in the bucket, as the server lists them. */
async function keys(bucket: string): Promise<string[]> {
  const client = new S3Client({ ...s3ClientConfig({ env: s3.env }) });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  } finally {
    client.destroy();
  }
}

describe("s3:// store", () => {
  it("opens through openStore (loaded on demand) and writes objects under its prefix", async () => {
    const store = await openStore("s3://depc/envs/prod", { env: s3.env });
    expect(store).toBeInstanceOf(S3Store);
    expect(store.describe).toBe("s3://depc/envs/prod");
    const bundle = bytes("#!/bin/sh\necho hello\n");
    const hex = createHash("sha256").update(bundle).digest("hex");
    expect(await store.has(`bundles/${hex}`)).toBe(false);
    expect(await store.get("latest")).toBeUndefined();
    await store.put(`bundles/${hex}`, bundle);
    await store.put("latest", bytes("1\n"));
    expect(await keys("depc")).toEqual([`envs/prod/bundles/${hex}`, "envs/prod/latest"]);
    expect(await store.has(`bundles/${hex}`)).toBe(true);
    expect(text(await store.get(`bundles/${hex}`))).toBe("#!/bin/sh\necho hello\n");
    expect(text(await store.get("latest"))).toBe("1\n");
    // Replaced whole.
    await store.put("latest", bytes("2\n"));
    expect(text(await store.get("latest"))).toBe("2\n");
    // Each upload carried its bytes' sha256 for the server to check, and path-style addressing.
    const put = s3.puts().find((r) => r.url.startsWith(`/depc/envs/prod/bundles/${hex}`))!;
    expect(put.headers["x-amz-checksum-sha256"]).toBe(createHash("sha256").update(bundle).digest("base64"));
    expect(put.headers["x-amz-content-sha256"]).toBe(hex);
    // has is a HEAD: nothing downloaded.
    const before = s3.requests.length;
    await store.has(`bundles/${hex}`);
    expect(s3.requests.slice(before).map((r) => r.method)).toEqual(["HEAD"]);
  });

  it("a bucket's root when the spec has no prefix; --s3-endpoint wins over AWS_ENDPOINT_URL", async () => {
    const env = { ...s3.env, AWS_ENDPOINT_URL: "http://127.0.0.1:9" };
    const store = await openStore("s3://depc", { env, s3Endpoint: s3.endpoint } as never);
    await store.put("reports/web1", bytes("r\n"));
    expect(await keys("depc")).toContain("reports/web1");
    const viaS3Variable = await openStore("s3://depc/", { env: { ...env, AWS_ENDPOINT_URL_S3: s3.endpoint } });
    expect(text(await viaS3Variable.get("reports/web1"))).toBe("r\n");
  });

  it("a missing bucket is one line naming the store and NoSuchBucket", async () => {
    const store = await openStore("s3://nobucket/prod", { env: s3.env });
    expect(await message(() => store.get("latest"))).toBe("cannot read latest in the store s3://nobucket/prod: NoSuchBucket (HTTP 404: the bucket does not exist)");
    expect(await message(() => store.put("latest", bytes("1\n")))).toBe(
      "cannot write latest to the store s3://nobucket/prod: NoSuchBucket (HTTP 404: the bucket does not exist)",
    );
  });

  it("bad credentials are one line naming the store and the S3 error code, for HEAD too", async () => {
    const unknownKey = await openStore("s3://depc/prod", { env: { ...s3.env, AWS_ACCESS_KEY_ID: "NOBODY" } });
    const known = "InvalidAccessKeyId (HTTP 403: the access key is not known to the server: check AWS_ACCESS_KEY_ID or the profile)";
    expect(await message(() => unknownKey.put("latest", bytes("1\n")))).toBe(`cannot write latest to the store s3://depc/prod: ${known}`);
    expect(await message(() => unknownKey.get("latest"))).toBe(`cannot read latest in the store s3://depc/prod: ${known}`);
    // A HEAD's answer has no body: the code comes from a GET of the same object.
    expect(await message(() => unknownKey.has("latest"))).toBe(`cannot read latest in the store s3://depc/prod: ${known}`);
    // s3rver checks the access key but not a SigV4 signature: a wrong secret
    // (S3's SignatureDoesNotMatch) is shown from an error shaped as the SDK makes it.
    expect(describeS3Error({ name: "SignatureDoesNotMatch", $metadata: { httpStatusCode: 403 } })).toBe(
      "SignatureDoesNotMatch (HTTP 403: the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY or the profile)",
    );
  });

  it("a server that is not there is one line with the connection's error", async () => {
    // A port nobody listens on: bound, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const store = await openStore("s3://depc/prod", { env: { ...s3.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` } });
    expect(await message(() => store.get("latest"))).toBe("cannot read latest in the store s3://depc/prod: ECONNREFUSED");
  });

  it("refuses a spec without a bucket, and paths outside the store", async () => {
    for (const spec of ["s3://", "s3:///prod", "s3://a/prod", "s3://bad bucket/x"]) {
      expect(() => parseS3Spec(spec)).toThrow(`${JSON.stringify(spec)} is not an S3 store: give s3://bucket or s3://bucket/prefix`);
    }
    expect(() => parseS3Spec("s3://depc/a/../b")).toThrow('"a/../b" is not a path inside a store');
    expect(parseS3Spec("s3://depc//envs/prod/")).toEqual({ bucket: "depc", prefix: "envs/prod" });
    const store = new S3Store("s3://depc/prod", { env: s3.env });
    expect(() => store.key("../x")).toThrow('"../x" is not a path inside a store');
  });

  it("says what to set when no credentials or no region can be found", () => {
    expect(describeS3Error(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }))).toBe(
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
    );
    expect(describeS3Error(new Error("Region is missing"))).toBe("no AWS region: set AWS_REGION, or give --s3-endpoint");
    // A server's own words never reach the terminal: only a well-formed code.
    expect(describeS3Error({ name: "Evil\u001b[2J", message: "x", $metadata: { httpStatusCode: 500 } })).toBe("no error code (HTTP 500)");
  });

  it("takes the region from AWS_REGION, else us-east-1 beside an endpoint; path-style only with an endpoint", () => {
    expect(s3ClientConfig({ env: { AWS_REGION: "eu-west-1" } })).toMatchObject({ region: "eu-west-1" });
    expect(s3ClientConfig({ env: { AWS_REGION: "eu-west-1" } })).not.toHaveProperty("forcePathStyle");
    expect(s3ClientConfig({ env: { AWS_DEFAULT_REGION: "eu-central-1" } })).toMatchObject({ region: "eu-central-1" });
    expect(s3ClientConfig({ env: {}, s3Endpoint: "http://127.0.0.1:1" } as never)).toMatchObject({ region: "us-east-1", forcePathStyle: true, endpoint: "http://127.0.0.1:1" });
    // No keys in the environment: the SDK's own chain (profiles, SSO, instance roles).
    expect(s3ClientConfig({ env: {} })).not.toHaveProperty("credentials");
  });
});
