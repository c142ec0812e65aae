// Scanner input of the kiosk page: what a badge scanner typed, whatever the keyboard
// layout the device is set up with, and when a scan is complete.
//
// A USB or Bluetooth scanner is a keyboard that types as a US keyboard: for each character
// of the code it presses the physical key (and Shift) that gives that character on a US
// layout. The browser reports the physical key as KeyboardEvent.code ("KeyA") and what the
// device's layout makes of it as KeyboardEvent.key. On a Pi set up for France (AZERTY) the
// scanner's "A" (KeyA + Shift) arrives as "Q" and its "2" (Digit2) as "é"; on a German one
// (QWERTZ) its "Z" arrives as "Y". So the scanner's text is rebuilt from `code` and
// `shiftKey` with the US table below, next to the text the browser itself typed into the
// input (what a person typing on that layout means).
//
// Which of the two texts is sent (docs/operator-guide.md, "Scanner"):
//  - the browser's text when no key could be read by its `code` (an on-screen keyboard that
//    sends none, a paste, editing with Backspace or the arrow keys);
//  - otherwise the one that looks more like a badge (a whole credential, then base32 at
//    all); on a tie the scanner's, except while staff have switched typing on ("Type a
//    code"), when a person types with the layout's own keys. On a US layout both agree.
//
// A scan is complete on Enter or Tab (the scanner's suffix), and without a suffix:
//  - IDLE_SUBMIT_MS after the last key, when the text is a whole credential by its format
//    (base32 of a version-1 credential whose length fields add up to the text's length);
//  - STALE_SUBMIT_MS after the last key, for anything else a scanner typed (a misread, a QR
//    code that is not a badge), so that the attendee hears "scan again" and the next scan
//    does not land behind it. "A scanner typed it": at least MIN_BURST_CHARS characters,
//    none more than BURST_GAP_MS after the one before, and typing not switched on.

export const IDLE_SUBMIT_MS = 200;
export const STALE_SUBMIT_MS = 1500;
const BURST_GAP_MS = 80;
const MIN_BURST_CHARS = 16;

// The printable keys of a US keyboard: code -> [character, character with Shift].
const US_KEYS = {
  Backquote: "`~", Digit1: "1!", Digit2: "2@", Digit3: "3#", Digit4: "4$", Digit5: "5%",
  Digit6: "6^", Digit7: "7&", Digit8: "8*", Digit9: "9(", Digit0: "0)", Minus: "-_",
  Equal: "=+", BracketLeft: "[{", BracketRight: "]}", Backslash: "\\|", Semicolon: ";:",
  Quote: "'\"", Comma: ",<", Period: ".>", Slash: "/?", Space: "  ",
  NumpadDecimal: "..", NumpadAdd: "++", NumpadSubtract: "--", NumpadMultiply: "**", NumpadDivide: "//",
};
for (const letter of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  US_KEYS[`Key${letter}`] = letter.toLowerCase() + letter;
}
for (const digit of "0123456789") {
  US_KEYS[`Numpad${digit}`] = digit + digit; // some scanners type digits on the keypad
}

// The character a US keyboard types for the physical key `code`, undefined for keys that
// type none (Enter, Shift, arrows) and codes it does not have.
export function usCharacter(code, shift) {
  const pair = Object.prototype.hasOwnProperty.call(US_KEYS, code) ? US_KEYS[code] : undefined;
  return pair === undefined ? undefined : pair[shift ? 1 : 0];
}

// True when `text` (either case, surrounding whitespace ignored) is base32 of a whole
// version-1 credential (docs/credential.md): version byte 1 and the module and attendee
// id lengths it carries add up to exactly this length. The signature is the server's.
export function isWholeCredential(text) {
  const code = text.trim().toUpperCase();
  if (code.length < 120 || code.length > 271 || !/^[A-Z2-7]+$/.test(code)) {
    return false;
  }
  const bytes = [];
  let pending = 0;
  let bits = 0;
  for (const c of code) {
    const value = c <= "7" ? c.charCodeAt(0) - 50 + 26 : c.charCodeAt(0) - 65;
    pending = ((pending << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((pending >> bits) & 0xff);
    }
  }
  const moduleLength = bytes[5];
  const attendeeLength = bytes[6 + moduleLength];
  if (bytes[0] !== 1 || moduleLength < 1 || moduleLength > 32 || !(attendeeLength >= 1 && attendeeLength <= 64)) {
    return false;
  }
  const total = 1 + 4 + 1 + moduleLength + 1 + attendeeLength + 2 + 64;
  return Math.ceil((total * 8) / 5) === code.length;
}

function badgeLikeness(text) {
  if (isWholeCredential(text)) return 2;
  return /^[A-Za-z2-7]+$/.test(text.trim()) ? 1 : 0;
}

// Watches `input` (which the page keeps focused) and calls onScan(text) once a scan is
// complete; submit() is for the form's own submit (Enter). typing() says whether staff
// switched typing on.
export class ScanInput {
  constructor(input, { onScan, typing }) {
    this.input = input;
    this.onScan = onScan;
    this.typing = typing;
    this.keyed = ""; // the scanner's text, from KeyboardEvent.code; null once unknown
    this.unmatchedKeys = 0; // mapped keys whose character has not arrived in the input yet
    this.lastKeyAt = -Infinity;
    this.burst = true; // every key so far came at a scanner's pace
    this.idleTimer = 0;
    this.staleTimer = 0;
    // Capture on the document: the page moves focus to the input on a key pressed
    // elsewhere, and that key must count too.
    document.addEventListener("keydown", (event) => this.onKeydown(event), true);
    input.addEventListener("input", (event) => this.onInput(event));
  }

  // Takes the text to send and empties the input for the next scan.
  take() {
    const typed = this.input.value;
    const keyed = this.keyed;
    this.reset();
    if (keyed === null || keyed === "" || keyed === typed) {
      return typed;
    }
    const scanner = badgeLikeness(keyed);
    const person = badgeLikeness(typed);
    const preferTyped = this.typing() ? person >= scanner : person > scanner;
    return preferTyped ? typed : keyed;
  }

  submit() {
    const text = this.take();
    if (text.trim() !== "") {
      this.onScan(text);
    }
  }

  hasText() {
    return this.input.value.trim() !== "" || (this.keyed ?? "").trim() !== "";
  }

  reset() {
    this.input.value = "";
    this.keyed = "";
    this.unmatchedKeys = 0;
    this.burst = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.staleTimer);
  }

  onKeydown(event) {
    if (document.activeElement !== this.input) {
      return;
    }
    if (event.key === "Tab" || event.code === "Tab") {
      // Some scanners end a code with Tab instead of Enter.
      if (this.hasText()) {
        event.preventDefault();
        this.submit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const character = usCharacter(event.code, event.shiftKey);
    if (character === undefined) {
      if (event.key.length === 1 || event.key === "Unidentified") {
        this.keyed = null; // a character typed by a key with no US meaning
      }
      return;
    }
    const input = this.input;
    const atEnd = input.selectionStart === input.value.length && input.selectionEnd === input.value.length;
    const now = performance.now();
    if (this.keyed !== null && !atEnd) {
      this.keyed = null; // typed into the middle, or over a selection: the text is the input's
    }
    if (this.keyed !== null) {
      this.burst = (this.keyed === "" || now - this.lastKeyAt <= BURST_GAP_MS) && this.burst;
      this.keyed += character;
      this.unmatchedKeys += 1;
    }
    this.lastKeyAt = now;
    this.schedule();
  }

  // Any change the keys above do not account for (paste, deleting, an on-screen keyboard
  // that sends no key codes) leaves the input's own text as the only one known.
  onInput(event) {
    const typed = event.inputType === "insertText" || event.inputType === "insertCompositionText";
    if (typed && this.unmatchedKeys > 0) {
      this.unmatchedKeys -= 1;
    } else {
      this.keyed = null;
    }
    if (this.input.value === "") {
      this.keyed = ""; // emptied by hand: start again
      this.unmatchedKeys = 0;
      this.burst = true;
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.idleTimer);
    clearTimeout(this.staleTimer);
    if (!this.hasText()) {
      return;
    }
    this.idleTimer = setTimeout(() => {
      const keyed = this.keyed ?? "";
      if (isWholeCredential(keyed) || isWholeCredential(this.input.value)) {
        this.submit();
      }
    }, IDLE_SUBMIT_MS);
    this.staleTimer = setTimeout(() => {
      const keyed = this.keyed ?? "";
      if (this.burst && keyed.length >= MIN_BURST_CHARS && !this.typing()) {
        this.submit();
      }
    }, STALE_SUBMIT_MS);
  }
}
