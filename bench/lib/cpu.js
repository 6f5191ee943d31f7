// CPU time of processes and of their threads, from /proc, for "CPU per job" figures: on a
// machine shared with other work they are steadier than throughput. A thread's time is the
// kernel's run time in nanoseconds (/proc/<pid>/task/<tid>/schedstat) where the kernel keeps
// it, else utime + stime of its stat in clock ticks (`getconf CLK_TCK`, usually 10 ms).
// Linux only; anything that cannot be read is reported with its reason, never guessed.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const HAS_SCHEDSTAT = fs.existsSync('/proc/self/schedstat');
let clkTck = null;

function ticksPerSecond() {
  if (clkTck === null) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** The fields of a /proc stat file after the command name (which may hold spaces and ')'). */
function statFields(file) {
  const s = fs.readFileSync(file, 'utf8');
  return s.slice(s.lastIndexOf(') ') + 2).split(' ');
}
// Indexes into statFields(): field N of proc(5) is index N - 3.
const PPID = 1;
const UTIME = 11;
const STIME = 12;
const STARTTIME = 19;

const ticksToMs = (f) => ((Number(f[UTIME]) + Number(f[STIME])) * 1000) / ticksPerSecond();

/** CPU time of a whole process so far, in ms: its stat counts the threads that have exited too. */
function processCpuMs(pid) {
  return ticksToMs(statFields(`/proc/${pid}/stat`));
}

function threadCpuMs(pid, tid) {
  if (HAS_SCHEDSTAT) return Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  return ticksToMs(statFields(`/proc/${pid}/task/${tid}/stat`));
}

/** A process's read and write system calls so far (/proc/<pid>/io syscr, syscw); null when not readable. */
function syscalls(pid) {
  try {
    const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    return { reads: Number(/^syscr: (\d+)/m.exec(io)[1]), writes: Number(/^syscw: (\d+)/m.exec(io)[1]) };
  } catch {
    return null;
  }
}

const readText = (file) => fs.readFileSync(file, 'utf8').replace(/\0/g, ' ').trim();

/** Every process this user can see: pid, ppid, comm, cmdline (a process that exits meanwhile is left out). */
function processes() {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        return [{ pid: Number(d), ppid: Number(statFields(`/proc/${d}/stat`)[PPID]), comm: readText(`/proc/${d}/comm`), cmdline: readText(`/proc/${d}/cmdline`) }];
      } catch {
        return [];
      }
    });
}

// A PostgreSQL server's own processes (process titles "postgres: 15/main: walwriter" …), which
// work for every database; a backend's title names its database ("… postgres <db> 127.0.0.1(…) idle").
const PG_SERVER_PROCESS = /: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|archiver|stats collector|io worker|walsummarizer|startup|walreceiver)\b/;

/** PostgreSQL postmasters on the machine: processes named postgres whose parent is not one. */
function postmasterPids() {
  const all = processes();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const isPg = (p) => p && (p.comm === 'postgres' || p.comm === 'postmaster');
  const pids = all.filter((p) => isPg(p) && !isPg(byPid.get(p.ppid))).map((p) => p.pid);
  if (!pids.length) throw new Error('no postgres process found (is PostgreSQL on another machine or in a container?)');
  return pids;
}

/** A process's children: /proc/<pid>/task/<pid>/children where the kernel has it, else a scan of /proc. */
function childPids(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return processes().filter((p) => p.ppid === pid).map((p) => p.pid);
  }
}

/**
 * The postmasters' children by role: `bench` (backends and autovacuum workers of `database`),
 * `server` (the server's own background processes and the postmaster, shared by all databases)
 * and `other` (backends of other databases, e.g. tests running meanwhile).
 */
function postgresProcesses(database, postmasters = postmasterPids()) {
  const out = { bench: [], server: [...postmasters], other: [] };
  for (const pid of postmasters.flatMap(childPids)) {
    let title;
    try {
      title = readText(`/proc/${pid}/cmdline`);
    } catch {
      continue; // exited meanwhile
    }
    if (title.split(/\s+/).includes(database)) out.bench.push(pid);
    else if (PG_SERVER_PROCESS.test(title)) out.server.push(pid);
    else out.other.push(pid);
  }
  return out;
}

/** The redis-server process(es) listening on `port` (one on the port, else the only one). */
function redisPids(port) {
  const redis = processes().filter((p) => p.comm === 'redis-server' || /^redis-server\b/.test(p.cmdline));
  const onPort = redis.filter((p) => p.cmdline.includes(`:${port}`));
  if (onPort.length) return onPort.map((p) => p.pid);
  if (redis.length === 1) return [redis[0].pid];
  throw new Error(redis.length ? `${redis.length} redis-server processes, none showing port ${port} in its command line` : 'no redis-server process found (is Redis on another machine or in a container?)');
}

function uptimeTicks() {
  return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * ticksPerSecond();
}

/**
 * CPU time spent by groups of processes from now until stop(). `groups` maps a name to a
 * function returning that group's pids; it is called again at every sample (every `everyMs`),
 * so a process that appears meanwhile (a new PostgreSQL backend) counts from its birth, and a
 * thread or process that exits keeps what it had spent at its last sample.
 *
 * stop() → { [name]: { ms, threads: [{ pid, tid, comm, ms }], processMs, syscalls: { reads, writes } | null, pids } | { ms: null, reason } }
 * `ms` is the sum over threads, or the processes' own stat when that is larger by more than its
 * resolution (threads born and exited between two samples); `processMs` is the stat figure.
 */
function cpuWindow(groups, everyMs = 250) {
  const startTicks = uptimeTicks();
  const threads = new Map(); // "pid/tid" → { group, pid, tid, comm, first, last }
  const procs = new Map(); // pid → { group, first, last }
  const reasons = {};
  // A task first seen after the start counts from zero if it was born after the start; one that
  // existed already (a group that found it late) counts only from when it was found.
  const baseline = (statFile, value) => {
    try {
      return Number(statFields(statFile)[STARTTIME]) >= startTicks - 1 ? 0 : value;
    } catch {
      return value;
    }
  };
  const sample = (initial) => {
    for (const [name, find] of Object.entries(groups)) {
      let pids;
      try {
        pids = find();
      } catch (err) {
        reasons[name] ??= err.message;
        continue;
      }
      for (const pid of pids) {
        try {
          const total = processCpuMs(pid);
          const io = syscalls(pid);
          const p = procs.get(pid);
          if (p) {
            p.last = total;
            if (io && p.io) p.io.last = io;
          } else {
            const born = !initial && baseline(`/proc/${pid}/stat`, 1) === 0;
            procs.set(pid, { group: name, first: born ? 0 : total, last: total, io: io && { first: born ? { reads: 0, writes: 0 } : io, last: io } });
          }
          for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
            const key = `${pid}/${tid}`;
            const ms = threadCpuMs(pid, tid);
            const t = threads.get(key);
            if (t) t.last = ms;
            else threads.set(key, { group: name, pid, tid: Number(tid), comm: readText(`/proc/${pid}/task/${tid}/comm`), first: initial ? ms : baseline(`/proc/${pid}/task/${tid}/stat`, ms), last: ms });
          }
        } catch (err) {
          // Exited between the listing and the read (normal for a backend), or not readable.
          if (err.code !== 'ENOENT' && err.code !== 'ESRCH') reasons[name] ??= `pid ${pid}: ${err.code ?? err.message}`;
        }
      }
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample(false);
      const out = {};
      for (const name of Object.keys(groups)) {
        const ts = [...threads.values()].filter((t) => t.group === name).map((t) => ({ pid: t.pid, tid: t.tid, comm: t.comm, ms: t.last - t.first }));
        const ps = [...procs.entries()].filter(([, p]) => p.group === name);
        if (!ps.length) {
          out[name] = { ms: null, reason: reasons[name] ?? 'no process found' };
          continue;
        }
        const threadMs = ts.reduce((s, t) => s + t.ms, 0);
        const processMs = ps.reduce((s, [, p]) => s + p.last - p.first, 0);
        // stat's ticks are truncated at each reading: up to a tick of error at each end, per process.
        const statResolution = (2 * ps.length * 1000) / ticksPerSecond();
        // System calls of the processes seen at their last sample; a process that could not be read leaves the figure null.
        const ios = ps.map(([, p]) => p.io);
        const sys = ios.every(Boolean)
          ? { reads: ios.reduce((n, io) => n + io.last.reads - io.first.reads, 0), writes: ios.reduce((n, io) => n + io.last.writes - io.first.writes, 0) }
          : null;
        out[name] = { ms: processMs - threadMs > statResolution ? processMs : threadMs, threadMs, processMs, syscalls: sys, pids: ps.map(([pid]) => pid), threads: ts, ...(reasons[name] ? { reason: reasons[name] } : {}) };
      }
      return out;
    },
  };
}

/**
 * A Node process's threads by role. Node 20 names all its threads "node": the main thread (the
 * event loop) has tid = pid; at start-up Node makes 1 delayed-task scheduler, `v8PoolSize` V8
 * platform workers (garbage collection, compilation) and 1 inspector signal thread; libuv's
 * threadpool (`uvThreadpoolSize` threads: fs, crypto and sharp's pipelines) is made later, all at
 * once, on first use. So the "node" threads in creation (tid) order are Node's own, then the
 * threadpool. libvips names its own workers "libvips worker"; a newer libuv names its "libuv-worker".
 */
function nodeThreadRoles(pid, threads, { v8PoolSize = 4, uvThreadpoolSize = 4 } = {}) {
  const roles = { eventLoop: 0, libuvThreadpool: 0, libvipsWorkers: 0, nodePlatform: 0, other: 0 };
  const unnamed = threads.filter((t) => t.tid !== pid && t.comm === 'node').sort((a, b) => a.tid - b.tid);
  const platform = new Set(unnamed.slice(0, v8PoolSize + 2).map((t) => t.tid));
  const pool = new Set(unnamed.slice(v8PoolSize + 2, v8PoolSize + 2 + uvThreadpoolSize).map((t) => t.tid));
  for (const t of threads) {
    if (t.tid === pid) roles.eventLoop += t.ms;
    else if (/^libvips/.test(t.comm)) roles.libvipsWorkers += t.ms;
    else if (t.comm === 'libuv-worker' || pool.has(t.tid)) roles.libuvThreadpool += t.ms;
    else if (platform.has(t.tid) || /^V8 |^v8:/.test(t.comm)) roles.nodePlatform += t.ms;
    else roles.other += t.ms;
  }
  return roles;
}

module.exports = { cpuWindow, nodeThreadRoles, postgresProcesses, postmasterPids, processCpuMs, redisPids, ticksPerSecond, HAS_SCHEDSTAT };
