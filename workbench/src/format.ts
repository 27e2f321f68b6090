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

/** "just now" (under a minute, or ahead of this clock), "5 minutes ago", "yesterday", "3 weeks ago". */
export function ago(d: Date | undefined, now = Date.now()): string {
  if (!d) return "—";
  const seconds = Math.min(0, Math.round((d.getTime() - now) / 1000));
  for (const [unit, size] of UNITS) {
    if (-seconds >= size) return RELATIVE.format(Math.round(seconds / size), unit);
  }
  return "just now";
}
