// How times read on the page: UTC to the second, the same for everyone
// looking at one connection (a team spread over time zones compares them).
export const time = (d?: Date): string => (d ? d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—");

const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["week", 7 * 86_400],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

/** `seconds` from now in the largest unit it reaches; undefined under a minute. */
function inUnits(seconds: number): string | undefined {
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return RELATIVE.format(Math.round(seconds / size), unit);
  }
  return undefined;
}

/** "just now" (under a minute, or ahead of this clock), "5 minutes ago", "yesterday", "3 weeks ago". */
export function ago(d: Date | undefined, now = Date.now()): string {
  if (!d) return "—";
  return inUnits(Math.min(0, Math.round((d.getTime() - now) / 1000))) ?? "just now";
}

/** "in 23 hours", "tomorrow", "in 5 minutes"; "now" under a minute away or already past (it is due). */
export function ahead(d: Date | undefined, now = Date.now()): string {
  if (!d) return "—";
  return inUnits(Math.max(0, Math.round((d.getTime() - now) / 1000))) ?? "now";
}
