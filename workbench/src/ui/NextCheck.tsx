// When the server's re-validation schedule checks the connection next:
// "next check in 23 hours", the exact time on hover and for screen readers.
// Redrawn every 30 s so an open page does not show a stale "in 5 minutes";
// no call is made.
import { useEffect, useState } from "preact/hooks";
import { ahead, time } from "../format";

const REDRAW_MS = 30_000;

export function NextCheck({ at }: { at: Date }) {
  const [, redraw] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => redraw((n) => n + 1), REDRAW_MS);
    return () => window.clearInterval(timer);
  }, []);
  const exact = time(at);
  return (
    <span class="next-check" data-testid="next-check">
      next check{" "}
      <time dateTime={at.toISOString()} title={exact}>
        {ahead(at)}
      </time>
      <span class="sr-only"> ({exact})</span>
    </span>
  );
}
