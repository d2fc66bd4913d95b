// Telling a delegate whose tab is in the background that the floor is theirs:
// a short tone and a system notification (the rehearsal lost seconds, even
// speeches, to people looking at another window). Each can be turned off; the
// choice is remembered in this browser.

const STORAGE = { sound: "vcc.alert.sound", notification: "vcc.alert.notification" };

function stored(kind) {
  try {
    return localStorage.getItem(STORAGE[kind]);
  } catch {
    return null;
  }
}

/** Whether an alert of this kind is wanted: on unless turned off; a notification also needs the browser's permission. */
export function alertOn(kind) {
  if (stored(kind) === "off") return false;
  if (kind === "notification") return notificationPermission() === "granted";
  return true;
}

export function notificationPermission() {
  return typeof Notification === "function" ? Notification.permission : "unsupported";
}

/** Turn an alert on or off; turning notifications on asks the browser's permission (it needs this click). */
export async function setAlert(kind, on) {
  try {
    localStorage.setItem(STORAGE[kind], on ? "on" : "off");
  } catch {
    // Private mode: the choice holds until the page is closed.
  }
  if (kind === "notification" && on && notificationPermission() === "default") await Notification.requestPermission();
}

let audio = null;

function tone() {
  const AudioContextClass = window.AudioContext ?? window.webkitAudioContext;
  if (!AudioContextClass) return;
  audio ??= new AudioContextClass();
  audio.resume?.();
  const start = audio.currentTime;
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.frequency.value = 880;
  gain.gain.setValueAtTime(0.25, start);
  gain.gain.exponentialRampToValueAtTime(0.001, start + 0.4);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start(start);
  oscillator.stop(start + 0.45);
}

/** The floor was given to the viewer's delegation: alert only if the page is not being looked at. */
export function floorAlert(title, body) {
  if (document.visibilityState !== "hidden") return;
  if (alertOn("sound")) tone();
  if (alertOn("notification")) {
    const notification = new Notification(title, { body, tag: "vcc-floor", requireInteraction: true });
    notification.onclick = () => {
      window.focus();
      notification.close();
    };
  }
}
