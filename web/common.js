// Helpers every page imports (ES module, served like the pages from the binary): text
// from server data, elements built without markup, requests to this device's API, and
// times in the module's time zone.

// A string's trimmed text; "" for anything that is not a string (server data is never
// trusted to have the shape the page expects).
export function text(value) {
  return typeof value === "string" ? value.trim() : "";
}

// First word of "Anna K.": public screens show nothing more of anyone.
export function firstName(displayName) {
  return text(displayName).split(/\s+/)[0] ?? "";
}

// "Welcome, Anna!" (kiosk and phone), "Welcome!" without a name.
export function welcome(name) {
  return name !== "" ? `Welcome, ${name}!` : "Welcome!";
}

export function goodbye(name) {
  return name !== "" ? `Goodbye, ${name}!` : "Goodbye!";
}

// "2 h 05 min", "45 min" for minutes present (presence mode).
export function duration(minutes) {
  const m = Number.isInteger(minutes) && minutes > 0 ? minutes : 0;
  const h = Math.floor(m / 60);
  return h > 0 ? `${h} h ${String(m % 60).padStart(2, "0")} min` : `${m} min`;
}

// "09:00–12:30" for a session; its start alone when it has no end.
export function hours(session) {
  const start = text(session?.start);
  const end = text(session?.end);
  return start && end ? `${start}–${end}` : start;
}

// Builds an element. props: class, dataset, any attribute; children: nodes or strings
// (strings become text, never markup). null, undefined and false props and null
// children are skipped.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (key === "class") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

// One request to this device's API, never cached by the browser, cookies sent, given up
// after timeoutMs (the body's arrival included). Never throws: resolves with
//   { status, ok, headers, raw, body, code, message, hint, sentAt, answeredAt }
// where status 0 means no answer (network down, timeout), raw is the body's text, body
// its JSON (null when it is none) and code, message and hint are those of the error
// envelope {"error": {...}} ("" when the answer has none); sentAt and answeredAt are the
// performance.now() of sending and of the answer's headers (for DeviceClock).
// options: method, headers, json (a value sent as JSON) or body, timeoutMs.
export async function request(url, { method = "GET", headers = {}, json, body, timeoutMs }) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const sent = { Accept: "application/json", ...headers };
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
  }
  const init = {
    method,
    headers: sent,
    body: json !== undefined ? JSON.stringify(json) : body,
    cache: "no-store",
    credentials: "same-origin",
    signal: controller.signal,
  };
  let response;
  let raw;
  const sentAt = performance.now();
  let answeredAt = sentAt;
  try {
    response = await fetch(url, init);
    answeredAt = performance.now();
    raw = await response.text();
  } catch {
    return { status: 0, ok: false, headers: new Headers(), raw: "", body: null, code: "", message: "", hint: "", sentAt, answeredAt };
  } finally {
    clearTimeout(timer);
  }
  const parsed = parseJson(raw);
  const error = parsed !== null && typeof parsed.error === "object" && parsed.error !== null ? parsed.error : {};
  return {
    status: response.status,
    ok: response.ok,
    headers: response.headers,
    raw,
    body: parsed,
    code: text(error.code),
    message: text(error.message),
    hint: text(error.hint),
    sentAt,
    answeredAt,
  };
}

function parseJson(raw) {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

// Formatters of instants in the module's time zone; in the browser's own when the zone
// is not known yet, or unknown to the browser.
//   hm "08:40", hms "08:40:05", isoDay "2026-11-23" (the date there),
//   full "Mon 23 Nov, 08:40:05", year the same with the year (a device clock that lost
//   power may be years off).
export function timeFormats(timeZone) {
  const make = (zone) => {
    const format = (options) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, hourCycle: "h23", ...options });
    const hm = { hour: "2-digit", minute: "2-digit" };
    const day = { weekday: "short", day: "numeric", month: "short" };
    return {
      hm: format(hm),
      hms: format({ ...hm, second: "2-digit" }),
      isoDay: new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }),
      full: format({ ...day, ...hm, second: "2-digit" }),
      year: format({ ...day, year: "numeric", ...hm, second: "2-digit" }),
    };
  };
  try {
    return make(timeZone);
  } catch {
    return make(undefined);
  }
}

// A calendar date "2026-11-23" in words, the same in every time zone (it is formatted
// at noon UTC): "short" "Mon 23 Nov", "long" "Monday 23 November", "weekday" "Monday".
// Anything else comes back as it is.
const DATE_WORDS = {
  short: new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }),
  long: new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "long", day: "numeric", month: "long" }),
  weekday: new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "long" }),
};

export function dateWords(day, style = "short") {
  const date = new Date(`${text(day)}T12:00:00Z`);
  return Number.isNaN(date.getTime()) ? text(day) : DATE_WORDS[style].format(date);
}

// The device's clock as this browser sees it (kiosk and display). A Pi's own clock may be
// wrong while the device's is right (staff or the registry set it), and a display may run
// on a laptop: the pages show the time, "today" and what opens when by the device's clock,
// read from the "now" of its answers, never by the browser's.
//
// "now" is whole seconds, read somewhere between sending and the answer, so each answer
// bounds (device time − performance.now()) to [now − answeredAt, now + 1 s − sentAt].
// The bounds of successive answers are intersected (they narrow to a few ms); an answer
// outside them means the device's clock was set, and starts afresh. performance.now()
// never jumps, so the browser's own clock being set changes nothing.
export class DeviceClock {
  #low = -Infinity;
  #high = Infinity;

  // True once an answer carried the device's time.
  get known() {
    return Number.isFinite(this.#low);
  }

  // Takes the device's time from an answer of request() whose body has "now".
  learn(answer) {
    const device = Date.parse(text(answer?.body?.now));
    if (!Number.isFinite(device) || !(answer.sentAt <= answer.answeredAt)) {
      return;
    }
    const low = device - answer.answeredAt;
    const high = device + 1000 - answer.sentAt;
    if (low > this.#high || high < this.#low) {
      this.#low = low;
      this.#high = high;
    } else {
      this.#low = Math.max(this.#low, low);
      this.#high = Math.min(this.#high, high);
    }
  }

  // Milliseconds since the epoch by the device's clock; NaN until an answer told it.
  nowMs() {
    return this.known ? performance.now() + (this.#low + this.#high) / 2 : NaN;
  }

  now() {
    return new Date(this.nowMs());
  }
}

// Shows the time of `now` as HH:MM in a <time> element (kiosk and display clocks),
// touching the page only when the minute changes; empty while `now` is not known (an
// invalid Date): a wrong time is worse than none.
export function showClock(element, formats, now = new Date()) {
  const hm = Number.isNaN(now.getTime()) ? "" : formats.hm.format(now);
  if (element.textContent !== hm) {
    element.textContent = hm;
    element.dateTime = hm;
  }
}
