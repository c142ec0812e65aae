// Shared set-up of the browser tests: the real course-kiosk binary on an ephemeral port
// over a temporary data directory (as tests/integration/kiosk.py sets it up), Debian's
// chromium driven by playwright-core, screenshots, bounded waits and QR decoding.
//
// Environment (set by CTest):
//   COURSE_KIOSK_BIN         the course-kiosk binary
//   COURSE_KIOSK_SOURCE_DIR  the source tree (default: two levels up from here), for web/
//   CK_ARTIFACT_DIR          where screenshots and server logs go (default: ./test-artifacts/browser)
//
// Every wait here has a timeout. Page-side conditions are polled with page.evaluate in a
// bounded loop (waitForValue): the pages' Content-Security-Policy has no 'unsafe-eval', so
// the newer tests do not rely on page.waitForFunction.

import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const BIN = process.env.COURSE_KIOSK_BIN || "course-kiosk";
export const SOURCE_DIR = path.resolve(process.env.COURSE_KIOSK_SOURCE_DIR || path.join(path.dirname(fileURLToPath(import.meta.url)), "..", ".."));
export const ARTIFACT_DIR = path.resolve(process.env.CK_ARTIFACT_DIR || path.join("test-artifacts", "browser"));
export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// The same module as tests/integration/kiosk.py: Europe/Paris, sessions on 2026-11-23.
export const MODULE = {
  cycle: "2026-2",
  number: 3,
  venue: "Lille",
  timezone: "Europe/Paris",
  checkin_opens_before_min: 60,
  late_after_min: 15,
  days: [
    {
      date: "2026-11-23",
      sessions: [
        { id: "d1-am", label: "Monday morning", start: "08:30", end: "12:30", cme_hours: 3.5 },
        { id: "d1-pm", label: "Monday afternoon", start: "14:00", end: "18:00", cme_hours: 3.5 },
      ],
    },
    {
      date: "2026-11-24",
      sessions: [{ id: "d2-am", label: "Tuesday morning", start: "08:30", end: "12:30", cme_hours: 3.5 }],
    },
  ],
};
export const IN_MORNING = "2026-11-23T08:40:00+01:00"; // d1-am open, not late

export const VIEWPORTS = {
  small: { width: 800, height: 480 }, // the device's touchscreen
  phone: { width: 390, height: 844 },
  tablet: { width: 768, height: 1024 },
  laptop: { width: 1280, height: 800 },
  display: { width: 1280, height: 720 },
};

export const STEP_MS = 10_000; // the longest any single wait may take
export const TEST_MS = 60_000; // backstop per test

// ---- the binary -----------------------------------------------------------------------

// Runs the binary and returns its standard output; `input` goes to standard input.
export function runBin(args, { input } = {}) {
  try {
    return execFileSync(BIN, args, {
      encoding: "utf8",
      timeout: 60_000,
      input: input ?? "",
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (err) {
    const why = err.code === "ENOENT" ? "not found (set COURSE_KIOSK_BIN)" : `exit ${err.status ?? err.signal}`;
    throw new Error(`${BIN} ${args.join(" ")} failed (${why}): ${err.stderr || err.message}`);
  }
}

const running = new Set(); // servers still running, killed on exit as a last resort

// Last resort if the runner exits without after() (playwright closes its browser itself).
process.on("exit", () => {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

// A temporary data directory with the module, and the server over it. `name` tells the
// server logs of the test files apart (server-NAME.log in the artifact directory).
export class Kiosk {
  constructor(name, { module = MODULE, extraConfig = {} } = {}) {
    this.name = name;
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `ck-browser-${name}-`));
    this.data = path.join(this.tmp, "data");
    this.server = null; // ChildProcess
    this.serverLog = [];
    this.origin = null;
    this.credentials = {}; // id -> QR text
    try {
      const configPath = path.join(this.tmp, "config.json");
      fs.writeFileSync(configPath, JSON.stringify({ device_id: "test-kiosk", module, ...extraConfig }));
      runBin(["init", "--data", this.data, "--config", configPath]);
    } catch (err) {
      fs.rmSync(this.tmp, { recursive: true, force: true });
      throw err;
    }
  }

  // rows: [id, family_name, given_name, country]. Returns the command's output.
  importRoster(rows) {
    const rosterPath = path.join(this.tmp, "roster.csv");
    const lines = ["id,family_name,given_name,country", ...rows.map((r) => r.join(","))];
    fs.writeFileSync(rosterPath, lines.join("\n") + "\n", "utf8");
    return runBin(["roster", "import", "--data", this.data, rosterPath]);
  }

  // `course-kiosk staff add --data D [--role ROLE] NAME` with the password on standard
  // input (an admin unless `role` says otherwise).
  addStaff(name, password, { role } = {}) {
    const roleArgs = role ? ["--role", role] : [];
    return runBin(["staff", "add", "--data", this.data, ...roleArgs, name], { input: password + "\n" });
  }

  // `course-kiosk credential --data D ID`: the attendee's QR text (also while serving).
  credential(id) {
    const [aid, text] = runBin(["credential", "--data", this.data, id]).trim().split("\n")[0].split("\t");
    assert.equal(aid, id);
    assert.match(text, /^[A-Z2-7]+$/, `credential of ${id} is upper-case base32`);
    this.credentials[id] = text;
    return text;
  }

  // Starts `course-kiosk serve` and resolves with its origin once it prints
  // "listening on http://127.0.0.1:PORT"; rejects if it exits first or after 20 s.
  // `listen` "0.0.0.0:0" also serves the machine's other addresses (the display's QR code
  // then points at one of them); the origin stays 127.0.0.1.
  start({ fakeTime = IN_MORNING, trusted = true, listen = "127.0.0.1:0" } = {}) {
    const childEnv = { ...process.env, COURSE_KIOSK_FAKE_TIME: fakeTime };
    if (trusted === null) delete childEnv.COURSE_KIOSK_CLOCK_TRUSTED;
    else childEnv.COURSE_KIOSK_CLOCK_TRUSTED = trusted ? "1" : "0";
    const child = spawn(BIN, ["serve", "--data", this.data, "--listen", listen], {
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.server = child;
    running.add(child);
    child.once("exit", () => running.delete(child));
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => this.serverLog.push(chunk));
    return new Promise((resolve, reject) => {
      let buffered = "";
      let done = false;
      const finish = (err, origin) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          reject(err);
        } else {
          this.origin = origin;
          resolve(origin);
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`server did not report "listening on" within 20 s:\n${this.serverLog.join("")}`)),
        20_000,
      );
      child.on("error", (err) => finish(new Error(`cannot start ${BIN}: ${err.message}`)));
      child.on("exit", (code, signal) =>
        finish(new Error(`server exited (${code ?? signal}) before listening:\n${this.serverLog.join("")}`)),
      );
      // Keep draining stdout after the line is found, so that the pipe never fills.
      child.stdout.on("data", (chunk) => {
        this.serverLog.push(chunk);
        if (done) return;
        buffered += chunk;
        const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(buffered);
        if (m) finish(null, m[1]);
      });
    });
  }

  async stop() {
    const child = this.server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", () => resolve("exited")));
    child.kill("SIGTERM");
    if ((await within(exited, 10_000)) === "timeout") {
      child.kill("SIGKILL");
      await within(exited, 5_000);
    }
  }

  // Stops the server, keeps its log and removes the temporary directory.
  async cleanup() {
    try {
      await this.stop();
    } finally {
      try {
        if (this.serverLog.length > 0) {
          fs.mkdirSync(ARTIFACT_DIR, { recursive: true });
          fs.writeFileSync(path.join(ARTIFACT_DIR, `server-${this.name}.log`), this.serverLog.join(""));
        }
      } catch {
        // the log is a convenience only
      }
      fs.rmSync(this.tmp, { recursive: true, force: true });
    }
  }

  // A JSON request to the server (Node's fetch, bounded). Returns { status, headers, body }.
  async request(method, urlPath, { json, headers = {}, raw } = {}) {
    const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(STEP_MS) };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (raw !== undefined) {
      init.body = raw;
    }
    const response = await fetch(`${this.origin}${urlPath}`, init);
    const text = await response.text();
    let body = text;
    if ((response.headers.get("content-type") || "").includes("json") && text !== "") body = JSON.parse(text);
    return { status: response.status, headers: response.headers, body };
  }

  // POST /api/v1/checkins with a badge, as the kiosk's scanner does.
  postCheckin(credential) {
    return this.request("POST", "/api/v1/checkins", { json: { credential } });
  }
}

// ---- the browser ----------------------------------------------------------------------

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

// Collects what goes wrong in a context's pages: uncaught exceptions, console errors and
// every answer >= 400 (as "STATUS METHOD URL"); the URLs requested; and the answers to
// script loads (module imports included) as { url, status, type }.
export function watchContext(context) {
  const seen = { requests: [], pageErrors: [], failedResponses: [], scripts: [] };
  const watchPage = (page) => {
    page.on("pageerror", (err) => seen.pageErrors.push(`pageerror: ${err.message}`));
    page.on("console", (msg) => {
      // A failed load is logged by the browser itself; answers are checked via "response".
      if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) {
        seen.pageErrors.push(`console.error: ${msg.text()}`);
      }
    });
  };
  for (const page of context.pages()) watchPage(page);
  context.on("page", watchPage);
  context.on("request", (request) => seen.requests.push(request.url()));
  context.on("response", (response) => {
    if (response.status() >= 400) {
      seen.failedResponses.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
    if (response.request().resourceType() === "script") {
      seen.scripts.push({ url: response.url(), status: response.status(), type: response.headers()["content-type"] ?? "" });
    }
  });
  return seen;
}

// Opens the staff dashboard at `origin` on `page` and logs in; resolves once it shows.
export async function loginStaff(page, origin, username, password) {
  await page.goto(`${origin}/staff`, { waitUntil: "load", timeout: STEP_MS });
  await page.fill("#login-username", username);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible", timeout: STEP_MS });
}

// Closes the browser (bounded) and cleans up the kiosks; throws one error naming every
// problem, after having tried everything.
export async function teardown(browser, ...kiosks) {
  const problems = [];
  try {
    const closing = browser ? browser.close() : Promise.resolve();
    const stuck = new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 15_000).unref());
    await Promise.race([closing, stuck]);
  } catch (err) {
    problems.push(`closing the browser: ${err.message}`);
  }
  for (const kiosk of kiosks) {
    if (!kiosk) continue;
    try {
      await kiosk.cleanup();
    } catch (err) {
      problems.push(`cleaning up ${kiosk.name}: ${err.message}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
}

// ---- screenshots, waits, QR codes -----------------------------------------------------

export function artifact(name) {
  fs.mkdirSync(ARTIFACT_DIR, { recursive: true });
  return path.join(ARTIFACT_DIR, name);
}

// Screenshot of a page (optionally resized first) or of a locator, as ARTIFACT_DIR/NAME.png.
export async function shot(target, name, { viewport, fullPage = false } = {}) {
  if (viewport) await target.setViewportSize(viewport);
  const file = artifact(`${name}.png`);
  const options = { path: file, animations: "disabled", timeout: STEP_MS };
  if (fullPage) options.fullPage = true;
  await target.screenshot(options);
  return file;
}

export function sleep(ms, value) {
  return new Promise((resolve) => setTimeout(resolve, ms, value));
}

// `promise`'s value, or "timeout" after `ms`. The timer goes once the promise settles: a
// pending one would keep the test file's process alive after its last test.
export function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms, "timeout")));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls `read` (page.evaluate, usually) until `check(value)` holds; returns the value.
// On timeout the error shows the last value read.
export async function waitForValue(read, check, { timeout = STEP_MS, interval = 100, what = "a value" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch (err) {
      last = `error: ${err.message.split("\n")[0]}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    }
    await sleep(interval);
  }
}

// Decodes every QR code (and other symbol) in a PNG with zbarimg (Debian zbar-tools).
// Returns the decoded texts, [] when nothing was found.
export function zbarDecode(file) {
  try {
    const out = execFileSync("zbarimg", ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", file], {
      encoding: "utf8",
      timeout: 20_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.split("\n").filter((line) => line !== "");
  } catch (err) {
    if (err.code === "ENOENT") throw new Error("zbarimg not found: apt-get install zbar-tools");
    if (err.status === 4) return []; // no symbol found
    throw new Error(`zbarimg ${file} failed (exit ${err.status ?? err.signal}): ${err.stderr || err.message}`);
  }
}
