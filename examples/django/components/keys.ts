import { key } from "depc";

/** Where the site's database is. Provided by `postgres` (db), required by `django` (web hosts). */
export const database = key<{ host: string; port: number; name: string; user: string }>("sprint-database");

/** One web host serving the site on `port`. Provided by every `django`, required by `loadBalancer`. */
export const webBackend = key<{ name: string; host: string; port: number }>("sprint-web");

/**
 * The database schema is migrated to this build of the code. Provided by the one
 * `django` that runs the migrations; the other web hosts require it, so they are
 * deployed after it and never migrate concurrently.
 */
export const schema = key<{ host: string }>("sprint-schema");
