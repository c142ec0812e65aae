// Real-browser test of the kiosk's scanner input (web/kiosk-input.js) under the keyboard
// layouts a venue's Pi may have: a scanner types as a US keyboard, so each key event has
// the `code` of the US key for the character it means and the `key` the device's layout
// makes of that key (AZERTY: the scanner's "A" is KeyA + Shift and arrives as "Q", its "2"
// is Digit2 and arrives as "é"; QWERTZ: its "Z" arrives as "Y"). The events are trusted
// ones, sent through the Chrome DevTools Protocol as a keyboard would send them, so the
// input also receives the layout's characters.
//
// The page clock is paused: the pause after the last key (the submit without a suffix) is
// stepped with page.clock.runFor, never waited for. Answers and screens are waited for by
// polling conditions with a timeout (harness waitForValue).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { IN_MORNING, Kiosk, STEP_MS, TEST_MS, VIEWPORTS, launchBrowser, shot, teardown, waitForValue } from "./harness.mjs";

const ROSTER = [
  ["A001", "Kowalska", "Anna", "PL"],
  ["A002", "Müller", "Lukas", "DE"],
  ["A003", "Dubois", "Chloé", "FR"],
  ["A004", "Rossi", "Marco", "IT"],
  ["A005", "Novák", "Jana", "CZ"],
  ["A006", "Silva", "Inês", "PT"],
  ["A007", "Jansen", "Pieter", "NL"],
  ["A008", "Nowak", "Piotr", "PL"],
  ["A009", "Lefèvre", "Élodie", "FR"],
];

const IDLE_SUBMIT_MS = 200; // web/kiosk-input.js
const STALE_SUBMIT_MS = 1500;
const SAME_CODE_GUARD_MS = 2000; // web/kiosk.js
const SCAN_AGAIN = "Couldn't read that code";

// ---- keyboard layouts: code -> [key, key with Shift] where they differ from US ----------

const US_DIGITS = { Digit1: "1!", Digit2: "2@", Digit3: "3#", Digit4: "4$", Digit5: "5%", Digit6: "6^", Digit7: "7&", Digit8: "8*", Digit9: "9(", Digit0: "0)" };
const US = { ...US_DIGITS, Minus: "-_", Semicolon: ";:" };
for (const letter of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") US[`Key${letter}`] = letter.toLowerCase() + letter;

const LAYOUTS = {
  us: US,
  // French AZERTY (Linux "fr"): A/Q and Z/W swapped, M right of L, digits with Shift.
  fr: {
    ...US,
    KeyQ: "aA", KeyA: "qQ", KeyW: "zZ", KeyZ: "wW", Semicolon: "mM", KeyM: ",?", Minus: ")°",
    Digit1: "&1", Digit2: "é2", Digit3: '"3', Digit4: "'4", Digit5: "(5", Digit6: "-6", Digit7: "è7", Digit8: "_8", Digit9: "ç9", Digit0: "à0",
  },
  // German QWERTZ (Linux "de"): Y/Z swapped, other symbols over the digits.
  de: {
    ...US,
    KeyY: "zZ", KeyZ: "yY", Minus: "ß?", Semicolon: "öÖ",
    Digit2: '2"', Digit3: "3§", Digit6: "6&", Digit7: "7/", Digit8: "8(", Digit9: "9)", Digit0: "0=",
  },
};

// The US key a scanner presses for `character`: { code, shift }.
function usKey(character) {
  for (const [code, pair] of Object.entries(US)) {
    const at = pair.indexOf(character);
    if (at >= 0) return { code, shift: at === 1 };
  }
  throw new Error(`no US key types ${JSON.stringify(character)}`);
}

// The key events a scanner sends for `text` on a device with `layout`: the US key, the
// layout's character. capsLock: the device has Caps Lock on (letters come out inverted).
function scannerKeys(text, layout, { capsLock = false } = {}) {
  return [...text].map((character) => {
    const { code, shift } = usKey(character);
    let key = LAYOUTS[layout][code][shift ? 1 : 0];
    if (capsLock && /^Key/.test(code)) key = shift ? key.toLowerCase() : key.toUpperCase();
    return { code, shift, key };
  });
}

// The key events of a person typing `text` on the layout's own keyboard: the key whose
// label is the character.
function personKeys(text, layout) {
  return [...text].map((character) => {
    for (const [code, pair] of Object.entries(LAYOUTS[layout])) {
      const at = pair.indexOf(character);
      if (at >= 0) return { code, shift: at === 1, key: character };
    }
    throw new Error(`no ${layout} key types ${JSON.stringify(character)}`);
  });
}

// ---- shared state, torn down in after() -----------------------------------------------

const env = { kiosk: null, browser: null, page: null, cdp: null, credentials: {}, answers: [], pageErrors: [] };

async function dispatch(event) {
  await env.cdp.send("Input.dispatchKeyEvent", event);
}

// Types the events (with the Shift key pressed and released around shifted characters,
// as a keyboard does), then the suffix: "Enter", "Tab" or null.
async function type(keys, suffix) {
  for (const { code, shift, key } of keys) {
    if (shift) await dispatch({ type: "rawKeyDown", key: "Shift", code: "ShiftLeft", modifiers: 8, windowsVirtualKeyCode: 16 });
    const modifiers = shift ? 8 : 0;
    await dispatch({ type: "keyDown", key, code, modifiers, text: key, unmodifiedText: key });
    await dispatch({ type: "keyUp", key, code, modifiers });
    if (shift) await dispatch({ type: "keyUp", key: "Shift", code: "ShiftLeft", windowsVirtualKeyCode: 16 });
  }
  if (suffix === "Enter") {
    await dispatch({ type: "keyDown", key: "Enter", code: "Enter", text: "\r", unmodifiedText: "\r", windowsVirtualKeyCode: 13 });
    await dispatch({ type: "keyUp", key: "Enter", code: "Enter", windowsVirtualKeyCode: 13 });
  } else if (suffix === "Tab") {
    await dispatch({ type: "rawKeyDown", key: "Tab", code: "Tab", windowsVirtualKeyCode: 9 });
    await dispatch({ type: "keyUp", key: "Tab", code: "Tab", windowsVirtualKeyCode: 9 });
  }
}

async function screen() {
  return env.page.evaluate(() => {
    const result = document.getElementById("result");
    return {
      kind: result.dataset.kind,
      title: result.querySelector(".result-title")?.textContent ?? "",
      text: result.innerText,
      field: document.getElementById("scan").value,
    };
  });
}

// Waits for the check-in answer number `n` (counted from 1) and for the screen showing it.
async function answerAndScreen(n, title) {
  await waitForValue(() => env.answers.length, (count) => count >= n, { what: `check-in answer #${n}` });
  const shown = await waitForValue(screen, (s) => s.title === title, { what: `the screen "${title}"` });
  return { answer: env.answers[n - 1], shown };
}

// A scan that must not have been sent yet: the text still waits in the field (sending
// empties it at once, in the same task) and no answer came.
async function assertNotSent(count, why) {
  assert.notEqual((await screen()).field, "", `${why}: the text waits in the field`);
  assert.equal(env.answers.length, count, why);
}

// ---- set-up and tear-down -------------------------------------------------------------

before(async () => {
  // Generous limits: the refusals below would otherwise soon be rate-limited.
  env.kiosk = new Kiosk("layouts", { extraConfig: { limits: { checkin_burst_per_client: 100000, checkins_per_client_per_s: 100000 } } });
  env.kiosk.importRoster(ROSTER);
  for (const [id] of ROSTER) env.credentials[id] = env.kiosk.credential(id);
  await env.kiosk.start();
  env.browser = await launchBrowser();
  const context = await env.browser.newContext({ viewport: VIEWPORTS.small, locale: "en-GB" });
  context.setDefaultTimeout(STEP_MS);
  env.page = await context.newPage();
  env.page.on("pageerror", (err) => env.pageErrors.push(err.message));
  env.page.on("response", async (response) => {
    if (response.request().method() !== "POST" || !response.url().endsWith("/api/v1/checkins")) return;
    const entry = { status: response.status(), sent: response.request().postDataJSON().credential, body: null };
    env.answers.push(entry);
    entry.body = await response.json().catch(() => null);
  });
  await env.page.clock.install({ time: new Date(IN_MORNING) });
  const loaded = await env.page.goto(`${env.kiosk.origin}/`, { waitUntil: "load" });
  assert.equal(loaded.status(), 200);
  await env.page.waitForSelector('#session-line[data-state="open"]');
  await waitForValue(() => env.page.evaluate(() => document.activeElement?.id), (id) => id === "scan", { what: "focus on #scan" });
  await env.page.clock.pauseAt(new Date(Date.parse(IN_MORNING) + 60_000));
  env.cdp = await context.newCDPSession(env.page);
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

// ---- the tests (in order: each counts the answers before it) ---------------------------

test("US, AZERTY and QWERTZ: a scanner's code is recovered and checks in, Enter or Tab after it", { timeout: TEST_MS }, async () => {
  const cases = [
    ["us", "A001", "Enter", "Welcome, Anna!"],
    ["fr", "A002", "Enter", "Welcome, Lukas!"],
    ["de", "A003", "Tab", "Welcome, Chloé!"],
  ];
  for (const [layout, id, suffix, title] of cases) {
    const n = env.answers.length + 1;
    const keys = scannerKeys(env.credentials[id], layout);
    if (layout !== "us") {
      const asTyped = keys.map((k) => k.key).join("");
      assert.notEqual(asTyped, env.credentials[id], `${layout}: the layout's own text differs from the code`);
    }
    await type(keys, suffix);
    const { answer, shown } = await answerAndScreen(n, title);
    assert.equal(answer.status, 201, `${layout}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.sent, env.credentials[id], `${layout}: the code as printed was sent`);
    assert.equal(shown.kind, "ok");
    assert.equal(shown.field, "", "the field is empty for the next scan");
  }
  await shot(env.page, "layouts-azerty-qwertz-ok");
});

test("no suffix: a whole code is sent once the keys pause, half a code is not", { timeout: TEST_MS }, async () => {
  // AZERTY, no Enter: sent IDLE_SUBMIT_MS after the last key, not before.
  let n = env.answers.length;
  await type(scannerKeys(env.credentials.A004, "fr"), null);
  await env.page.clock.runFor(IDLE_SUBMIT_MS - 50);
  await assertNotSent(n, "before the pause is over");
  await env.page.clock.runFor(100);
  let { answer } = await answerAndScreen(n + 1, "Welcome, Marco!");
  assert.equal(answer.status, 201);
  assert.equal(answer.sent, env.credentials.A004);

  // QWERTZ, lower case, no suffix.
  n = env.answers.length;
  await type(scannerKeys(env.credentials.A005.toLowerCase(), "de"), null);
  await env.page.clock.runFor(IDLE_SUBMIT_MS + 50);
  ({ answer } = await answerAndScreen(n + 1, "Welcome, Jana!"));
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.equal(answer.sent, env.credentials.A005.toLowerCase(), "sent as scanned: the device reads lower case");

  // A scanner that stalls half way: the first part is no whole credential, so nothing is
  // sent; the code is sent once the rest has arrived.
  n = env.answers.length;
  const code = env.credentials.A008;
  await type(scannerKeys(code.slice(0, 100), "fr"), null);
  await env.page.clock.runFor(IDLE_SUBMIT_MS + 100);
  await assertNotSent(n, "half a code");
  await type(scannerKeys(code.slice(100), "fr"), null);
  await env.page.clock.runFor(IDLE_SUBMIT_MS + 50);
  ({ answer } = await answerAndScreen(n + 1, "Welcome, Piotr!"));
  assert.equal(answer.status, 201);
  assert.equal(answer.sent, code);
});

test("lower case and Caps Lock check in; the same badge again is already checked in", { timeout: TEST_MS }, async () => {
  // A scanner set to lower case on AZERTY, with Enter.
  let n = env.answers.length;
  await type(scannerKeys(env.credentials.A006.toLowerCase(), "fr"), "Enter");
  let { answer } = await answerAndScreen(n + 1, "Welcome, Inês!");
  assert.equal(answer.status, 201, JSON.stringify(answer.body));

  // Caps Lock on a US device: the browser types the code in lower case.
  n = env.answers.length;
  await type(scannerKeys(env.credentials.A007, "us", { capsLock: true }), "Enter");
  ({ answer } = await answerAndScreen(n + 1, "Welcome, Pieter!"));
  assert.equal(answer.status, 201, JSON.stringify(answer.body));

  // Lukas (checked in on AZERTY above) again, in lower case on QWERTZ, once the page's
  // guard against a scanner repeating itself is over.
  await env.page.clock.runFor(SAME_CODE_GUARD_MS + 100);
  n = env.answers.length;
  await type(scannerKeys(env.credentials.A002.toLowerCase(), "de"), "Enter");
  ({ answer } = await answerAndScreen(n + 1, "Lukas, you are already checked in"));
  assert.equal(answer.status, 200);
  assert.equal(answer.body.status, "already_checked_in");
  assert.equal((await screen()).kind, "again");
});

test("a person typing on the AZERTY keyboard itself is understood too", { timeout: TEST_MS }, async () => {
  const n = env.answers.length;
  const keys = personKeys(env.credentials.A009, "fr");
  assert.ok(keys.some((k) => k.code !== usKey(k.key).code), "the keys differ from a scanner's");
  await type(keys, "Enter");
  const { answer } = await answerAndScreen(n + 1, "Welcome, Élodie!");
  assert.equal(answer.status, 201);
  assert.equal(answer.sent, env.credentials.A009);
});

test("garbage, a tampered badge and overlong input read 'scan again', never the server's words", { timeout: TEST_MS }, async () => {
  const serverWords = [];
  // Waits for answer n + 1 and checks it and the screen.
  const check = async (what, n, status, code) => {
    const { answer, shown } = await answerAndScreen(n + 1, SCAN_AGAIN);
    assert.equal(answer.status, status, what);
    assert.equal(answer.body?.error?.code, code, what);
    assert.equal(shown.kind, "error", what);
    assert.match(shown.text, /scan it again/i, what);
    assert.doesNotMatch(shown.text, /new badge|forg|alter|signature|bytes|larger|characters|JSON|credential|\b4\d\d\b/i, `${what}: ${shown.text}`);
    for (const words of [answer.body.error.message, answer.body.error.hint]) {
      assert.ok(!shown.text.includes(words), `${what}: the server's "${words}" is on screen`);
    }
    assert.equal(shown.field, "", `${what}: the field is empty for the next scan`);
    serverWords.push(answer.body.error.message);
  };

  // Garbage with Enter, on AZERTY.
  let n = env.answers.length;
  await type(scannerKeys("HELLO-THIS-IS-NOT-A-BADGE", "fr"), "Enter");
  await check("garbage with Enter", n, 422, "invalid_credential");

  // A misread without a suffix (QWERTZ): no whole credential, so it waits for the longer
  // pause, and is then sent, so that the next scan does not land behind it.
  n = env.answers.length;
  await type(scannerKeys("NOT-A-BADGE-1234567890-XYZ", "de"), null);
  await env.page.clock.runFor(IDLE_SUBMIT_MS + 100);
  await assertNotSent(n, "a misread, before the longer pause");
  await env.page.clock.runFor(STALE_SUBMIT_MS);
  await check("a misread without a suffix", n, 422, "invalid_credential");

  // A badge with one character of its signature changed: forged, as far as the device can
  // tell. The public screen says "scan again", as for any misread.
  const original = env.credentials.A001;
  const i = original.length - 20;
  const tampered = original.slice(0, i) + (original[i] === "A" ? "B" : "A") + original.slice(i + 1);
  n = env.answers.length;
  await type(scannerKeys(tampered, "us"), "Enter");
  await check("a tampered badge", n, 422, "invalid_credential");
  assert.match(serverWords.at(-1), /altered or forged/, "the server's answer still says what it was");

  // Pasted text the server refuses before reading it: too long for a credential (400) and
  // larger than any request body it reads (413).
  for (const [length, status, code] of [
    [2000, 400, "malformed_request"],
    [20000, 413, "payload_too_large"],
  ]) {
    n = env.answers.length;
    await env.cdp.send("Input.insertText", { text: "A".repeat(length) });
    await type([], "Enter");
    await check(`${length} pasted characters`, n, status, code);
  }
  assert.match(serverWords.at(-1), /larger than \d+ bytes/, "the developer's words stayed in the answer");
  await shot(env.page, "layouts-scan-again");
});

test("the page had no errors", { timeout: TEST_MS }, async () => {
  assert.deepEqual(env.pageErrors, []);
});
