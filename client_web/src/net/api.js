// The node's HTTP endpoints (server/vcc/api/routes.py), with the join token as a
// bearer token. A participant's token reads its own delegation's answers to the
// agenda consultation, uploads contributions and downloads their files; the
// secretariat's token (or the admin link's) also imports, downloads the join
// links and the reports, and reads the tally. Links cannot carry the
// Authorization header, so downloads are fetched and handed to the browser.

export class Api {
  constructor(consultation, token) {
    this.consultation = consultation;
    this.base = `/api/consultations/${encodeURIComponent(consultation)}`;
    this.token = token;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  /** A public address under the consultation (the time management plan needs no token). */
  url(path) {
    return `${this.base}/${path}`;
  }

  /** GET JSON: {ok, status, data}; a network failure is {ok: false, status: 0, data: {error}}. */
  async getJson(path) {
    try {
      const response = await fetch(this.url(path), { headers: this.headers(), cache: "no-store" });
      return { ok: response.ok, status: response.status, data: await answerOf(response) };
    } catch {
      return unreachable();
    }
  }

  /** POST a multipart form: {ok, status, data}. */
  async postForm(path, form) {
    try {
      const response = await fetch(this.url(path), { method: "POST", headers: this.headers(), body: form });
      return { ok: response.ok, status: response.status, data: await answerOf(response) };
    } catch {
      return unreachable();
    }
  }

  /** POST a file's text; resolves {ok, data} where data is the JSON answer ({imported, added, changed, unchanged, message} or {error}). */
  async upload(kind, file) {
    const type = file.name.toLowerCase().endsWith(".csv") || file.type === "text/csv" ? "text/csv" : "application/json";
    try {
      const response = await fetch(this.url(kind), { method: "POST", headers: this.headers({ "Content-Type": type }), body: await file.text() });
      return { ok: response.ok, data: await answerOf(response) };
    } catch {
      return unreachable();
    }
  }

  /** GET a file and hand it to the browser as a download named `filename`. */
  async download(path, filename) {
    let response;
    try {
      response = await fetch(this.url(path), { headers: this.headers() });
    } catch {
      return unreachable();
    }
    if (!response.ok) return { ok: false, data: await answerOf(response) };
    const url = URL.createObjectURL(await response.blob());
    const link = Object.assign(document.createElement("a"), { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    return { ok: true };
  }
}

/**
 * Start a floor drill: the server makes a practice consultation for the participant
 * the join token names (ending their previous one) and answers
 * {ok, status, data: {consultation, token}}; the token joins it like a join link.
 */
export async function startPractice(token) {
  try {
    const response = await fetch("/api/practice", { method: "POST", headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    return { ok: response.ok, status: response.status, data: await answerOf(response) };
  } catch {
    return unreachable();
  }
}

function unreachable() {
  return { ok: false, status: 0, data: { error: { code: "unavailable", message: "The server cannot be reached." } } };
}

async function answerOf(response) {
  try {
    return await response.json();
  } catch {
    return { error: { code: `http_${response.status}`, message: response.statusText } };
  }
}
