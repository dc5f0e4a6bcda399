/**
 * How `mapreduce logs` prints attempt logs: each final log under a header, and with
 * --follow the new lines of running attempts' live logs first, so that the final log
 * then prints only what was not shown (rules in core/live-log.ts). No line is printed twice.
 */
import { decodeLiveLog, finalRemainder, NOTHING_SHOWN, type Shown, unseenLines } from '../core/live-log.js';

export class LogPrinter {
  private readonly shown = new Map<string, Shown>();
  private readonly ended = new Set<string>();
  private lastHeader = '';

  constructor(private readonly out: (text: string) => void) {}

  /** A running attempt's live object: print its lines not shown yet. */
  live(taskId: string, attempt: number, body: Buffer): void {
    const id = `${taskId}#${attempt}`;
    const decoded = this.ended.has(id) ? undefined : decodeLiveLog(body);
    if (!decoded) return;
    const { text, skipped, shown } = unseenLines(this.shown.get(id) ?? NOTHING_SHOWN, decoded);
    if (text.length === 0) return;
    this.shown.set(id, shown);
    const header = `==> task ${taskId} attempt ${attempt} (running) <==\n`;
    if (header !== this.lastHeader) this.out(header);
    this.lastHeader = header;
    if (skipped > 0) this.out(`[... ${skipped} bytes of stderr not shown ...]\n`);
    this.out(text.toString('utf8'));
  }

  /** An attempt's final log (`label` when its key is not an attempt's): what was not shown live. */
  final(taskId: string | undefined, attempt: number, body: Buffer, label: string): void {
    const id = `${taskId}#${attempt}`;
    const rest = finalRemainder(this.shown.get(id) ?? NOTHING_SHOWN, body);
    this.ended.add(id);
    this.shown.delete(id);
    this.out(`==> ${taskId ? `task ${taskId} attempt ${attempt}` : label} <==\n`);
    this.lastHeader = '';
    const text = rest.toString('utf8');
    this.out(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }
}
