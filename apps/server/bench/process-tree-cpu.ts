import { readdirSync, readFileSync } from 'node:fs';

const clockTicksPerSecond = 100; // USER_HZ on Linux

interface ProcessStat {
  readonly pid: number;
  readonly parentPid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it reaped. */
  readonly cpuTicks: number;
}

function readStat(pid: string): ProcessStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      pid: Number(pid),
      parentPid: Number(fields[1]),
      cpuTicks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return null; // it ended between the listing and the read
  }
}

/**
 * CPU seconds used so far by a process and all its descendants (Linux /proc). Each process counts
 * its own time (all threads) plus that of the children it reaped, so the sum only grows: a Postfix
 * daemon that exits between two samples moves its time into the master's cutime, nothing is lost.
 */
export function processTreeCpuSeconds(rootPid: number): number {
  const byParent = new Map<number, ProcessStat[]>();
  let root: ProcessStat | null = null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat === null) continue;
    if (stat.pid === rootPid) root = stat;
    const siblings = byParent.get(stat.parentPid) ?? [];
    siblings.push(stat);
    byParent.set(stat.parentPid, siblings);
  }
  if (root === null) throw new Error(`process ${rootPid} is gone`);
  let ticks = 0;
  const stack = [root];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    ticks += next.cpuTicks;
    stack.push(...(byParent.get(next.pid) ?? []));
  }
  return ticks / clockTicksPerSecond;
}
