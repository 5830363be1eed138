import { Cron } from 'croner';

/** The first time after `after` that a cron schedule fires, in the given zone; null for a schedule that never fires again. */
export function nextCronRun(schedule: string, after: Date, timeZone = 'UTC'): Date | null {
  return new Cron(schedule, { paused: true, timezone: timeZone }).nextRun(after);
}

/**
 * Why `schedule` cannot drive a scheduler job, as words that follow `schedule "…"`, or null when it can:
 * not a cron expression (croner's own reason), or one that never fires again (e.g. 30 February).
 */
export function cronProblem(schedule: string, now: Date, timeZone = 'UTC'): string | null {
  try {
    if (!nextCronRun(schedule, now, timeZone)) return 'never fires again; pick a date that exists';
    return null;
  } catch (error) {
    return `is not a cron expression: ${(error as Error).message}`;
  }
}

/**
 * The IANA name of a time zone as given, in the usual capitals when the runtime lists it (`europe/berlin` →
 * `Europe/Berlin`), or null when it is not one. The runtime's own canonical form is not used: it would turn
 * `Asia/Kolkata` into the legacy `Asia/Calcutta`. Offsets such as `+01:00` are refused: they do not follow
 * daylight saving, which a schedule should.
 */
export function canonicalTimeZone(timeZone: string): string | null {
  if (!/^[A-Za-z]/.test(timeZone)) return null;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return null;
  }
  const lower = timeZone.toLowerCase();
  return Intl.supportedValuesOf('timeZone').find((z) => z.toLowerCase() === lower) ?? timeZone;
}
