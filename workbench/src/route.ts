// Hash routes, so the server only ever serves `/` (no SPA fallback needed):
//   #/            the list
//   #/new         Add connection
//   #/c/<tag>     a connection (tab: #/c/<tag>/settings, …/validation, …/setup, …/activity)
import { useEffect, useState } from "preact/hooks";

export type Tab = "setup" | "settings" | "validation" | "activity";
const TABS: readonly string[] = ["setup", "settings", "validation", "activity"];
export type Route = { name: "home" } | { name: "new" } | { name: "connection"; tag: string; tab?: Tab };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "new") return { name: "new" };
  if (parts[0] === "c" && parts[1]) {
    const tab = parts[2];
    if (tab && TABS.includes(tab)) return { name: "connection", tag: parts[1], tab: tab as Tab };
    return { name: "connection", tag: parts[1] };
  }
  return { name: "home" };
}

export function href(route: Route): string {
  switch (route.name) {
    case "home":
      return "#/";
    case "new":
      return "#/new";
    case "connection":
      return `#/c/${encodeURIComponent(route.tag)}${route.tab ? `/${route.tab}` : ""}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
