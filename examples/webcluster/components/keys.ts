import { key } from "depc";

/** Where the application's database is. Provided by `postgres`, required by `app`. */
export const database = key<{ host: string; port: number; name: string; user: string }>("database");

/** One application backend. Provided by every `app`, required by `haproxy`. */
export const appBackend = key<{ name: string; host: string; port: number }>("app-backend");
