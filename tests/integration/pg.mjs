// A throwaway PostgreSQL server for end-to-end tests, like src/history/pg_harness.cc: a fresh
// cluster (initdb) in a temporary directory (under /dev/shm when it can, else /tmp), listening only
// on a Unix socket inside that directory, so nothing on the machine's network or in any other
// cluster is touched. Under root the cluster is owned by, and the server runs as, the `postgres`
// user (or `nobody`), because PostgreSQL refuses to run as root.
//
//   const pg = startPostgres();                  // null when not installed (pgMissing() says why)
//   const dsn = pg.createDatabase('history');    // postgresql://mcp@/history?host=<dir>&port=5432
//   await pg.stopAsync(); await pg.startAsync(); // pg_ctl stop -m fast / start, same socket
//   pg.query(dsn, 'SELECT ...')                  // rows as objects (psql --csv; values are strings)
//   pg.destroy();                                // stop -m immediate, delete the directory
// A cluster still running when the test process exits is destroyed then.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SUPERUSER = 'mcp';
const PORT = '5432'; // the socket is in the cluster's own directory, so any number is free

function hasServerTools(dir) {
  try {
    fs.accessSync(path.join(dir, 'initdb'), fs.constants.X_OK);
    fs.accessSync(path.join(dir, 'pg_ctl'), fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where initdb/pg_ctl/psql live: PATH first, then /usr/lib/postgresql/<newest>/bin; or ''. */
export function findPgBin() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && hasServerTools(dir) && fs.existsSync(path.join(dir, 'psql'))) return dir;
  }
  let versions = [];
  try {
    versions = fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v));
  } catch {
    return '';
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (hasServerTools(dir) && fs.existsSync(path.join(dir, 'psql'))) return dir;
  }
  return '';
}

const live = new Set();
process.on('exit', () => {
  for (const pg of live) pg.destroy();
});

/** Why the PostgreSQL tests cannot run here, or '' when they can. */
export function pgMissing() {
  return findPgBin() ? '' : 'PostgreSQL server binaries (initdb, pg_ctl, psql) not installed';
}

/** uid/gid of the account that runs the server under root; null when not root. */
function serverAccount() {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    try {
      const id = (flag) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return { uid: id('-u'), gid: id('-g') };
    } catch {
      /* try the next */
    }
  }
  throw new Error('running as root, and neither user postgres nor nobody exists');
}

function baseDir() {
  try {
    const st = fs.statfsSync('/dev/shm');
    fs.accessSync('/dev/shm', fs.constants.W_OK | fs.constants.X_OK);
    if (st.bavail * st.bsize > 2 ** 30) return '/dev/shm';
  } catch {
    /* no /dev/shm */
  }
  return os.tmpdir().length > 60 || process.getuid?.() === 0 ? '/tmp' : os.tmpdir();
}

export class Postgres {
  constructor(bin, dir, account) {
    this.bin = bin;
    this.dir = dir;
    this.dataDir = path.join(dir, 'data');
    this.account = account;
    this.running = false;
  }

  /** Runs a server tool as the cluster's owner; throws with its output on failure. */
  run(tool, args, { timeout = 60000 } = {}) {
    const opts = { cwd: this.dir, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] };
    if (this.account) Object.assign(opts, this.account);
    try {
      return execFileSync(path.join(this.bin, tool), args, opts);
    } catch (e) {
      let log = '';
      try {
        log = fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(-2000);
      } catch {
        /* none yet */
      }
      throw new Error(`${tool} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\nserver.log:\n${log}`);
    }
  }

  /** The same, without blocking the event loop (so a load keeps running meanwhile). */
  runAsync(tool, args, { timeout = 60000 } = {}) {
    const opts = { cwd: this.dir, encoding: 'utf8', timeout };
    if (this.account) Object.assign(opts, this.account);
    return new Promise((resolve, reject) => {
      execFile(path.join(this.bin, tool), args, opts, (err, stdout, stderr) => {
        if (err) reject(new Error(`${tool} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    });
  }

  startArgs() {
    const opts = `-k '${this.dir}' -c listen_addresses='' -p ${PORT} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    return ['-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', '-o', opts, 'start'];
  }

  start() {
    if (this.running) return;
    this.run('pg_ctl', this.startArgs());
    this.running = true;
  }

  async startAsync() {
    if (this.running) return;
    await this.runAsync('pg_ctl', this.startArgs());
    this.running = true;
  }

  /** Fast shutdown (pg_ctl stop -m fast): open connections are cut, the socket disappears. */
  async stopAsync() {
    if (!this.running) return;
    this.running = false;
    await this.runAsync('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  }

  destroy() {
    live.delete(this);
    try {
      if (this.running) this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
    } catch {
      /* best effort */
    }
    this.running = false;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** libpq connection URI of database `name`. */
  dsn(name) {
    return `postgresql://${SUPERUSER}@/${name}?host=${encodeURIComponent(this.dir)}&port=${PORT}`;
  }

  /** Creates database `name` ([a-z0-9_]+); returns its DSN. */
  createDatabase(name) {
    if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
    this.psql(this.dsn('postgres'), `CREATE DATABASE ${name}`);
    return this.dsn(name);
  }

  /** Runs SQL through psql; returns its CSV output. */
  psql(dsn, sql) {
    return this.run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--csv', '-d', dsn, '-c', sql], { timeout: 20000 });
  }

  /** Rows of a SELECT as objects (all values strings; fine for the simple values tests read). */
  query(dsn, sql) {
    const lines = this.psql(dsn, sql).split('\n').filter((l) => l !== '');
    if (lines.length === 0) return [];
    const parse = (line) => {
      const out = [];
      let cur = '';
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (quoted) {
          if (ch === '"' && line[i + 1] === '"') {
            cur += '"';
            i++;
          } else if (ch === '"') {
            quoted = false;
          } else {
            cur += ch;
          }
        } else if (ch === '"') {
          quoted = true;
        } else if (ch === ',') {
          out.push(cur);
          cur = '';
        } else {
          cur += ch;
        }
      }
      out.push(cur);
      return out;
    };
    const head = parse(lines[0]);
    return lines.slice(1).map((l) => Object.fromEntries(parse(l).map((v, i) => [head[i], v])));
  }
}

/** initdb + start (about a second); null when PostgreSQL is not installed. */
export function startPostgres() {
  const bin = findPgBin();
  if (!bin) return null;
  const account = serverAccount();
  const dir = fs.mkdtempSync(path.join(baseDir(), 'mcpgw-pg-'));
  const pg = new Postgres(bin, dir, account);
  live.add(pg);
  try {
    if (account) fs.chownSync(dir, account.uid, account.gid);
    pg.run('initdb', ['-D', pg.dataDir, '--no-sync', '-A', 'trust', '-U', SUPERUSER, '-E', 'UTF8', '--locale=C']);
    pg.start();
  } catch (e) {
    pg.destroy();
    throw e;
  }
  return pg;
}
