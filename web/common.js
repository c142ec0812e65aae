// Helpers every page imports (ES module, served like the pages from the binary).

// A string's trimmed text; "" for anything that is not a string (server data is never
// trusted to have the shape the page expects).
export function text(value) {
  return typeof value === "string" ? value.trim() : "";
}

// First word of "Anna K.": public screens show nothing more of anyone.
export function firstName(displayName) {
  return text(displayName).split(/\s+/)[0] ?? "";
}

// "09:00–12:30" for a session; its start alone when it has no end.
export function hours(session) {
  const start = text(session?.start);
  const end = text(session?.end);
  return start && end ? `${start}–${end}` : start;
}

// fetch() for this device's API: never cached, cookies sent, aborted after timeoutMs.
export async function fetchWithTimeout(url, options, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, { ...options, cache: "no-store", credentials: "same-origin", signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

// make(zone) builds a page's Intl formatters. In the module's time zone; in the
// browser's own when the zone is unknown to the browser (or not known yet).
export function zoneFormats(make, timeZone) {
  try {
    return make(timeZone);
  } catch {
    return make(undefined);
  }
}
