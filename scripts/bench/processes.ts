/** Processes the harness times and measures: wall time of a command, and /proc memory and CPU. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Run a command, resolving with its wall time in seconds; rejects on a non-zero exit. */
export function timed(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const s = (performance.now() - t0) / 1000;
      if (code === 0) resolve(s);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

/** Quote a word for `sh -c`. */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Peak and current RSS (MiB) of a process, from /proc; undefined when it is gone or not Linux. */
export function procMemory(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 'NaN');
    return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat after the command name (field 3 of proc(5) is index 0); undefined when gone. */
export function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) a process has used, from /proc; with `children`, plus
 * what its exited and waited-for children used (cutime + cstime: a worker's mapper
 * processes, a CLI's esbuild).
 */
export function procCpuSeconds(pid: number | 'self', o: { children?: boolean } = {}): number {
  const f = statFields(pid);
  if (!f) return 0;
  // utime, stime, cutime, cstime in clock ticks (USER_HZ = 100)
  const own = Number(f[11]) + Number(f[12]);
  return (o.children ? own + Number(f[13]) + Number(f[14]) : own) / 100;
}

/** CPU seconds this process's exited children have used: the difference around one child is that child's CPU. */
export const reapedChildrenCpuSeconds = (): number => procCpuSeconds('self', { children: true }) - procCpuSeconds('self');

/** Pids whose parent is `ppid`, from /proc. */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && Number(f[1]) === ppid) out.push(Number(name));
  }
  return out;
}

/**
 * The pid of the process listening on a loopback TCP port (the emulator, however it was
 * started), from /proc/net/tcp and the processes' socket descriptors; undefined if not found.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; inode is column 9.
      if (c.length > 9 && c[3] === '0A' && parseInt(c[1]!.split(':')[1]!, 16) === port) inodes.add(c[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${name}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(name);
      } catch {}
    }
  }
  return undefined;
}

/** Run a command; its wall time and the CPU it and its children used, in seconds. */
export async function timedWithCpu(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const cpu0 = reapedChildrenCpuSeconds();
  const seconds = await timed(cmd, args, opts);
  return { seconds, cpuSeconds: reapedChildrenCpuSeconds() - cpu0 };
}
