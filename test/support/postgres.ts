/**
 * A real, throwaway PostgreSQL from Debian's packages (postgresql-15: /usr/lib/postgresql/<n>/bin):
 * a cluster in a temp dir, listening on 127.0.0.1 only (its unix socket in that dir, not
 * /var/run/postgresql), trusting local connections, fsync off. PostgreSQL refuses to run as root,
 * so initdb and pg_ctl run as the system user postgres (runuser), which owns the dir.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin dir, or why there is none (a test skips with this). */
export function postgresBinDir(): { bin: string } | { missing: string } {
  if (!existsSync(POSTGRES_ROOT)) return { missing: `${POSTGRES_ROOT} is absent: install Debian's postgresql package (scripts/install-deps.sh does)` };
  const versions = readdirSync(POSTGRES_ROOT).filter((v) => /^\d+$/.test(v) && existsSync(path.join(POSTGRES_ROOT, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  if (!versions.length) return { missing: `no initdb under ${POSTGRES_ROOT}/<version>/bin` };
  return { bin: path.join(POSTGRES_ROOT, versions[0]!, 'bin') };
}

export interface Postgres {
  port: number;
  /** A new empty database's URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the cluster and deletes its dir. */
  stop(): Promise<void>;
}

export async function startPostgres({ port }: { port: number }): Promise<Postgres> {
  const found = postgresBinDir();
  if ('missing' in found) throw new Error(found.missing);
  const dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-postgres-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  // As root, hand the dir to postgres and run its tools as that user; as anyone else, run them as oneself.
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout);
    chownSync(dir, await id('-u'), await id('-g'));
  }
  const tool = (name: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(found.bin, name), ...args]) : run(path.join(found.bin, name), args));
  let started = false;
  const stop = async () => {
    if (started) await tool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await tool('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    // -k: the socket in our dir (the default one belongs to Debian's own cluster).
    await tool('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`, 'start']);
    started = true;
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`PostgreSQL did not start on 127.0.0.1:${port}: ${String(error)}${serverLog ? `\n${serverLog}` : ''}`);
  }
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
  };
}
