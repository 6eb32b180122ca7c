// The S3 store: `s3://bucket/prefix` through the AWS SDK for JavaScript v3
// (@aws-sdk/client-s3). store.ts imports this module on the first s3:// spec,
// so the SDK (some 20 MB of modules) never loads for a directory or an
// http(s):// store, nor for any other command.
//
// Where things come from, as every AWS tool does it: the endpoint from
// --s3-endpoint, else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (then
// path-style addressing: what S3-compatible servers expect); the region from
// AWS_REGION / AWS_DEFAULT_REGION, else us-east-1 beside an endpoint
// (S3-compatible servers mostly ignore it), else the profile's; credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), else the
// SDK's own chain (AWS_PROFILE, ~/.aws/credentials, SSO, instance roles).
import { createHash } from "node:crypto";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { StoreError, checkStorePath, registerStoreScheme, type Store, type StoreOptions } from "./store.js";

export interface S3StoreOptions extends StoreOptions {
  /** `--s3-endpoint`: an S3-compatible server's URL; wins over AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL. */
  readonly s3Endpoint?: string;
}

/** What `s3://bucket/prefix` names. The prefix has no leading or trailing `/`; "" for the bucket's root. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

// S3's own rules for new buckets, loosened to what S3-compatible servers accept
// (upper case, underscores): the name goes into a URL path, so nothing else.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/;

/** Parses `s3://bucket[/prefix]`; a spec that is not one is a StoreError naming it. */
export function parseS3Spec(spec: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(spec);
  const bucket = match?.[1] ?? "";
  if (!BUCKET.test(bucket)) throw new StoreError(`${JSON.stringify(spec)} is not an S3 store: give s3://bucket or s3://bucket/prefix`);
  const prefix = (match?.[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix !== "") checkStorePath(prefix);
  return { bucket, prefix };
}

/** The SDK's error: S3's error code in `name` (from the response body; HEAD responses have none). */
interface SdkError {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

// A few codes say what to do about them; every other code is printed as it is.
const HINTS: Readonly<Record<string, string>> = {
  NoSuchBucket: "the bucket does not exist",
  InvalidAccessKeyId: "the access key is not known to the server: check AWS_ACCESS_KEY_ID or the profile",
  SignatureDoesNotMatch: "the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY or the profile",
  AccessDenied: "these credentials may not do this",
  InvalidBucketName: "the server refuses this bucket name",
  PermanentRedirect: "the bucket is in another region: set AWS_REGION",
  AuthorizationHeaderMalformed: "the bucket is in another region: set AWS_REGION",
  BadDigest: "the server received other bytes than were sent",
  XAmzContentSHA256Mismatch: "the server received other bytes than were sent",
};

/**
 * One line for an error of the SDK: the S3 error code and the HTTP status, or
 * the network error's code. The server's free-text message is left out: it
 * is bytes from elsewhere, and the code says the same.
 */
export function describeS3Error(error: unknown): string {
  const e = (error ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const name = typeof e.name === "string" && /^[A-Za-z0-9.]{1,64}$/.test(e.name) ? e.name : undefined;
  if (name === "CredentialsProviderError") return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE";
  if (typeof e.message === "string" && /^Region is missing/.test(e.message)) return "no AWS region: set AWS_REGION, or give --s3-endpoint";
  if (status !== undefined) {
    // The SDK calls a response without an error body (HEAD's) "Unknown", "NotFound", "Forbidden" …: the status says it.
    const code = name === undefined || name === "Unknown" || name === "UnknownError" ? "no error code" : name;
    const hint = HINTS[code];
    return `${code} (HTTP ${status}${hint === undefined ? "" : `: ${hint}`})`;
  }
  // Not an answer from the server: the connection (ECONNREFUSED, ENOTFOUND, a timeout).
  const network = typeof e.code === "string" && /^[A-Z0-9_]{1,40}$/.test(e.code) ? e.code : undefined;
  if (network !== undefined) return network;
  if (name === "TimeoutError" || name === "AbortError") return "no answer in time";
  const first = typeof e.message === "string" ? e.message.split("\n")[0]!.replace(/[^\x20-\x7e]/g, "?").slice(0, 200) : String(error);
  return name !== undefined && name !== "Error" ? `${name}: ${first}` : first;
}

/** The client as the environment configures it (see the file's header). */
export function s3ClientConfig(options: S3StoreOptions): S3ClientConfig {
  const env = options.env ?? process.env;
  const endpoint = options.s3Endpoint ?? (env.AWS_ENDPOINT_URL_S3 || undefined) ?? (env.AWS_ENDPOINT_URL || undefined);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint !== undefined ? "us-east-1" : undefined);
  const keyId = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  return {
    ...(endpoint !== undefined ? { endpoint, forcePathStyle: true } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } } : {}),
    // Only the checksum depc asks for (put's sha256): older S3-compatible
    // servers refuse the SDK's default extra CRC32 headers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    // A server that never answers must not hang a publish.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  };
}

export class S3Store implements Store {
  private readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(
    readonly describe: string,
    options: S3StoreOptions = {},
  ) {
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Spec(describe));
    // The SDK warns on stderr, once per process, that its releases from 2027 on
    // need Node 22; depc's supported Node 20 runs the release in its lockfile.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    this.client = new S3Client(s3ClientConfig(options));
  }

  /** The object key of a store path. */
  key(path: string): string {
    checkStorePath(path);
    return this.prefix === "" ? path : `${this.prefix}/${path}`;
  }

  private failure(verb: "read" | "write", path: string, error: unknown): StoreError {
    const where = verb === "read" ? `cannot read ${path} in` : `cannot write ${path} to`;
    return new StoreError(`${where} the store ${this.describe}: ${describeS3Error(error)}`);
  }

  async get(path: string): Promise<Uint8Array | undefined> {
    const Key = this.key(path);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return (await response.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (error) {
      if ((error as SdkError).name === "NoSuchKey") return undefined;
      throw this.failure("read", path, error);
    }
  }

  /** By HEAD: nothing is downloaded. */
  async has(path: string): Promise<boolean> {
    const Key = this.key(path);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (error) {
      const status = (error as SdkError).$metadata?.httpStatusCode;
      // 404 is also S3's answer for a missing bucket; the next get or put names that.
      if (status === 404) return false;
      // A HEAD response has no body, so no error code: a GET of the same object says which.
      throw this.failure("read", path, status === undefined ? error : await this.codeOf(Key, error));
    }
  }

  /**
   * One PUT (S3 replaces an object whole: a reader sees the old bytes or the
   * new). It carries the bytes' sha256 (x-amz-checksum-sha256): S3 refuses the
   * object (BadDigest) unless what it received has that sha256.
   */
  async put(path: string, bytes: Uint8Array): Promise<void> {
    const Key = this.key(path);
    const ChecksumSHA256 = createHash("sha256").update(bytes).digest("base64");
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ChecksumSHA256, ContentLength: bytes.length }));
    } catch (error) {
      throw this.failure("write", path, error);
    }
  }

  private async codeOf(Key: string, headError: unknown): Promise<unknown> {
    try {
      await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: "bytes=0-0" }));
    } catch (error) {
      if ((error as SdkError).$metadata?.httpStatusCode !== undefined) return error;
    }
    return headError;
  }

  /** Lets the process exit at once (the SDK keeps connections alive). */
  close(): void {
    this.client.destroy();
  }
}

export function openS3Store(spec: string, options: S3StoreOptions = {}): Store {
  return new S3Store(spec, options);
}

registerStoreScheme("s3", openS3Store);
