// The benchmarks' Bun peer: what the original design would run instead of sora.
//
// The same catalog bytes as sora-file-server's GET /api/extensions, and per
// POST /api/feedback the work the issue names: a JSON access log line, the
// salted client hash, validation of the body, AES-256-GCM of the comment, and
// one synchronous=FULL transaction that stores the row and keeps the target's
// aggregate (bun:sqlite, WAL). Every request writes its access log line with
// one synchronous write(2), as sora's LineHandler does.
//
//     bun benchmarks/bun_peer.js    # PORT, CATALOG_BODY, DATABASE_PATH, IP_SALT,
//                                   # ENCRYPTION_KEY_HEX, TRUSTED_PROXY, WORKERS
//
// The first process creates the schema, then starts WORKERS processes that
// share the port with reusePort, and waits for them (the benchmark stops the
// whole process group).
import { Database } from "bun:sqlite";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { readFileSync, writeSync } from "node:fs";

const env = process.env;

function openDatabase() {
  const db = new Database(env.DATABASE_PATH, { create: true });
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  return db;
}

if (!env.BUN_PEER_WORKER) {
  const db = openDatabase();
  db.exec(`CREATE TABLE IF NOT EXISTS targets (
    id INTEGER PRIMARY KEY, target_type TEXT NOT NULL, target_id TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0, rating_sum INTEGER NOT NULL DEFAULT 0,
    UNIQUE (target_type, target_id))`);
  db.exec(`CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, target_ref INTEGER NOT NULL REFERENCES targets (id),
    client_hash TEXT NOT NULL, rating INTEGER NOT NULL, comment BLOB,
    client_version TEXT, locale TEXT, submitted_at INTEGER NOT NULL,
    UNIQUE (target_ref, client_hash))`);
  db.close();
  const workers = [];
  for (let n = 0; n < Number(env.WORKERS || 2); n++) {
    workers.push(
      Bun.spawn([process.execPath, import.meta.path], {
        env: { ...env, BUN_PEER_WORKER: String(n + 1) },
        stdio: ["ignore", "inherit", "inherit"],
      }),
    );
  }
  await Promise.all(workers.map((worker) => worker.exited));
  process.exit(1);
}

const catalog = readFileSync(env.CATALOG_BODY);
const salt = env.IP_SALT;
const key = Buffer.from(env.ENCRYPTION_KEY_HEX, "hex");
const trustedProxy = env.TRUSTED_PROXY || "";
const db = openDatabase();

const targetRef = db.prepare(
  "INSERT INTO targets (target_type, target_id) VALUES (?, ?)" +
    " ON CONFLICT (target_type, target_id) DO UPDATE SET count = count RETURNING id",
);
const previous = db.prepare(
  "SELECT id, rating FROM feedback WHERE target_ref = ? AND client_hash = ?",
);
const insert = db.prepare(
  "INSERT INTO feedback (target_ref, client_hash, rating, comment, client_version, locale," +
    " submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
);
const replace = db.prepare(
  "UPDATE feedback SET rating = ?, comment = ?, client_version = ?, locale = ?," +
    " submitted_at = ? WHERE id = ?",
);
const bump = db.prepare(
  "UPDATE targets SET count = count + ?, rating_sum = rating_sum + ? WHERE id = ?",
);

const submit = db.transaction((entry) => {
  const ref = targetRef.get(entry.type, entry.id).id;
  const old = previous.get(ref, entry.client);
  const now = Date.now();
  if (old) {
    replace.run(entry.rating, entry.comment, entry.clientVersion, entry.locale, now, old.id);
    bump.run(0, entry.rating - old.rating, ref);
    return { id: old.id, replaced: true };
  }
  const row = insert.get(
    ref, entry.client, entry.rating, entry.comment, entry.clientVersion, entry.locale, now,
  );
  bump.run(1, entry.rating, ref);
  return { id: row.id, replaced: false };
}).immediate;

const TARGET_TYPES = new Set(["extension", "layout"]);
const TARGET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CLIENT_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,31}$/;
const LOCALE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}$/;

class Invalid extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function optionalPattern(body, field, pattern) {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new Invalid(field, `${field} is not valid`);
  }
  return value;
}

function parseSubmission(body) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new Invalid("body", "request body must be a JSON object");
  }
  if (!TARGET_TYPES.has(body.target_type)) {
    throw new Invalid("target_type", "target_type must be one of extension, layout");
  }
  if (typeof body.target_id !== "string" || !TARGET_ID.test(body.target_id)) {
    throw new Invalid("target_id", "target_id must be an id");
  }
  if (!Number.isInteger(body.rating) || body.rating < 1 || body.rating > 5) {
    throw new Invalid("rating", "rating must be an integer from 1 to 5");
  }
  let comment = body.comment ?? null;
  if (comment !== null) {
    if (typeof comment !== "string") throw new Invalid("comment", "comment must be a string");
    if (comment.length > 4000) throw new Invalid("comment", "comment is too long");
    comment = comment.trim() || null;
  }
  return {
    type: body.target_type,
    id: body.target_id,
    rating: body.rating,
    comment,
    clientVersion: optionalPattern(body, "client_version", CLIENT_VERSION),
    locale: optionalPattern(body, "locale", LOCALE),
  };
}

function seal(text, context) {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(context));
  const sealed = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]);
}

function clientAddress(req, server) {
  const peer = server.requestIP(req)?.address ?? "";
  const forwarded = req.headers.get("x-forwarded-for");
  if (forwarded && peer === trustedProxy) {
    const hops = forwarded.split(",");
    return hops[hops.length - 1].trim();
  }
  return peer;
}

let requests = 0;
const prefix = randomBytes(8).toString("hex");

function accessLog(req, path, status, started, client) {
  const line = JSON.stringify({
    timestamp: new Date().toISOString(),
    level: "info",
    service: "bun-peer",
    logger: "access",
    message: `${req.method} ${path} ${status}`,
    request_id: `${prefix}-${(++requests).toString(16)}`,
    method: req.method,
    path,
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    client: client.slice(0, 16),
  });
  writeSync(2, line + "\n");
}

function json(status, value) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

async function feedback(req, client) {
  const raw = await req.arrayBuffer();
  if (raw.byteLength > 1024 * 1024) return json(413, { error: "Request body too large" });
  let body;
  try {
    body = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    return json(400, { error: "request body is not valid JSON", field: "body" });
  }
  let entry;
  try {
    entry = parseSubmission(body);
  } catch (error) {
    if (error instanceof Invalid) return json(400, { error: error.message, field: error.field });
    throw error;
  }
  entry.client = client;
  if (entry.comment !== null) {
    entry.comment = seal(entry.comment, `${entry.type}/${entry.id}/${client}`);
  }
  return json(201, submit(entry));
}

Bun.serve({
  port: Number(env.PORT),
  hostname: "127.0.0.1",
  reusePort: true,
  async fetch(req, server) {
    const started = performance.now();
    const path = new URL(req.url).pathname;
    if (path === "/health") return json(200, { status: "ok" });
    const client = createHmac("sha256", salt).update(clientAddress(req, server)).digest("hex");
    let response;
    if (path === "/api/extensions" && req.method === "GET") {
      response = new Response(catalog, {
        headers: {
          "Content-Type": "application/json",
          "Cache-Control": "public, max-age=30",
        },
      });
    } else if (path === "/api/feedback" && req.method === "POST") {
      response = await feedback(req, client);
    } else {
      response = json(404, { error: "Not found" });
    }
    accessLog(req, path, response.status, started, client);
    return response;
  },
});
