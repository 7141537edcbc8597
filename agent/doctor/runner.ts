/** Runs the checks one after another (they share hardware) and prints the report. */
import { TimeoutError, withTimeout } from '../lib/timing.js';
import type { Check, CheckResult, CheckStatus, DoctorContext } from './types.js';

export interface CheckOutcome extends CheckResult {
  id: string;
  title: string;
  required: boolean;
  ms: number;
}

/** Extra time over the context's timeout before a hung check is abandoned (a capture may start slowly). */
const GRACE_MS = 5_000;

async function runOne(check: Check, context: DoctorContext): Promise<CheckResult> {
  const limitMs = context.timeoutMs + GRACE_MS;
  try {
    return await withTimeout(check.run(context), limitMs);
  } catch (err) {
    if (err instanceof TimeoutError) {
      return { status: 'fail', message: `did not finish within ${Math.round(limitMs / 1000)} s`, hint: 'run it again with --verbose to see where it hangs' };
    }
    return { status: 'fail', message: `the check itself failed: ${(err as Error).message}`, hint: 'report this with the output of --verbose' };
  }
}

export async function runChecks(checks: readonly Check[], context: DoctorContext, onResult?: (outcome: CheckOutcome) => void): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  for (const check of checks) {
    const started = performance.now();
    const result = await runOne(check, context);
    const outcome = { id: check.id, title: check.title, required: check.required, ...result, ms: Math.round(performance.now() - started) };
    outcomes.push(outcome);
    onResult?.(outcome);
  }
  return outcomes;
}

/** True when a required check failed: doctor then exits non-zero. */
export function requiredFailed(outcomes: readonly CheckOutcome[]): boolean {
  return outcomes.some((o) => o.required && o.status === 'fail');
}

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };
/** Wide enough for the longest title, so the messages line up. */
const TITLE_WIDTH = 15;

export function formatOutcome(outcome: CheckOutcome): string {
  const optional = outcome.status === 'fail' && !outcome.required ? ' (optional)' : '';
  const lines = [`${LABEL[outcome.status]}  ${outcome.title.padEnd(TITLE_WIDTH)} ${outcome.message}${optional}`];
  if (outcome.hint && outcome.status !== 'pass') lines.push(`${' '.repeat(6 + TITLE_WIDTH)} hint: ${outcome.hint}`);
  return lines.join('\n');
}

export function formatSummary(outcomes: readonly CheckOutcome[]): string {
  const count = (status: CheckStatus) => outcomes.filter((o) => o.status === status).length;
  const warnings = count('warn');
  const verdict = requiredFailed(outcomes) ? 'a required check failed' : 'the agent can run here';
  return `${count('pass')} passed, ${warnings} warning${warnings === 1 ? '' : 's'}, ${count('fail')} failed: ${verdict}`;
}
