// How times read on the page: UTC to the second, the same for everyone
// looking at one connection (a team spread over time zones compares them).
export const time = (d?: Date): string => (d ? d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "—");
