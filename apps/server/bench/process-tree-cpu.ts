import { readdirSync, readFileSync } from 'node:fs';

const clockTicksPerSecond = 100; // USER_HZ on Linux

interface ProcessStat {
  readonly pid: number;
  readonly parentPid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it reaped. */
  readonly cpuTicks: number;
}

/** What a process tree used so far: CPU, and time its threads waited runnable for a CPU. */
export interface TreeUsage {
  readonly cpuSeconds: number;
  /**
   * Run-queue wait summed over the threads alive now (schedstat; an exited process's wait is not
   * kept), so an approximation: on a shared machine, how much each relay was held back.
   */
  readonly runQueueWaitSeconds: number;
}

function runQueueWaitNs(pid: number): number {
  let waitNs = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      waitNs += Number(fields[1]);
    }
  } catch {
    // it ended meanwhile
  }
  return waitNs;
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
export function processTreeUsage(rootPid: number): TreeUsage {
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
  let waitNs = 0;
  const stack = [root];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    ticks += next.cpuTicks;
    waitNs += runQueueWaitNs(next.pid);
    stack.push(...(byParent.get(next.pid) ?? []));
  }
  return { cpuSeconds: ticks / clockTicksPerSecond, runQueueWaitSeconds: waitNs / 1e9 };
}
