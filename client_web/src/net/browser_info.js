// The browser's name and version in plain words ("Chrome 126", "Firefox 127"),
// for the connection test and the technical team.

export function browserName(userAgent = navigator.userAgent) {
  const checks = [
    [/Edg\/(\d+)/, "Edge"],
    [/OPR\/(\d+)/, "Opera"],
    [/Firefox\/(\d+)/, "Firefox"],
    [/Chromium\/(\d+)/, "Chromium"],
    [/HeadlessChrome\/(\d+)/, "Chromium (headless)"],
    [/Chrome\/(\d+)/, "Chrome"],
    [/Version\/(\d+)[\d.]* .*Safari/, "Safari"],
  ];
  for (const [pattern, name] of checks) {
    const found = userAgent.match(pattern);
    if (found) return `${name} ${found[1]}`;
  }
  return userAgent.slice(0, 60);
}

/** The microphone permission: "granted", "denied", "prompt", or "unknown" where the browser will not say. */
export async function microphonePermission() {
  try {
    const status = await navigator.permissions.query({ name: "microphone" });
    return status.state;
  } catch {
    return "unknown";
  }
}
