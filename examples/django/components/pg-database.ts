import { Command, type Resource, type Secret } from "depc";

/**
 * A PostgreSQL role that can log in with `password`, and a database it owns,
 * made idempotently on the database host. depc has no resource kind for
 * database objects, so this is a guarded `Command`: the guard logs in as the
 * role over TCP with the password, so a missing role, a missing database or a
 * changed password all make it run; the command creates what is missing and
 * sets the password (it is safe to run twice). The password is passed in the
 * environment, never on a command line, and psql quotes it (`:'pw'`).
 * Names are letters, digits and `_` (checked here: they go into SQL).
 */
export function postgresDatabase(o: { name: string; owner: string; password: Secret; after?: Resource[] }): Resource {
  for (const n of [o.name, o.owner]) if (!/^[a-z_][a-z0-9_]*$/.test(n)) throw new Error(`postgresDatabase: "${n}" is not a plain lower-case SQL name`);
  const sql = [
    `SELECT 'CREATE ROLE ${o.owner} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${o.owner}')\\gexec`,
    `ALTER ROLE ${o.owner} LOGIN PASSWORD :'pw';`,
    `SELECT 'CREATE DATABASE ${o.name} OWNER ${o.owner}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${o.name}')\\gexec`,
  ].join("\n");
  return Command({
    name: `postgres-database-${o.name}`,
    command: ["sh", "-c", `runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -v pw="$DB_PASSWORD" <<'SQL'\n${sql}\nSQL`],
    unless: ["sh", "-c", `PGPASSWORD="$DB_PASSWORD" psql -X -q -h 127.0.0.1 -U ${o.owner} -d ${o.name} -c 'SELECT 1' >/dev/null 2>&1`],
    env: { DB_PASSWORD: o.password },
    after: o.after ?? [],
  });
}
