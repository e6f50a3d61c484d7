/**
 * The access log GDPR asks for: one entry per read of personal or per-record
 * pseudonymised data, who read it, for which cities, which fields.
 *
 * On disk it is JSON Lines (`.jsonl`), one entry per line, each entry chained
 * to the one before it: `hash` is the SHA-256 of the previous entry's hash and
 * the entry's own content, so changing, removing, inserting or reordering a
 * line breaks the chain at that line and `verifyAuditLog` names it.
 *
 * One file has exactly one writer process: each service writes its own file
 * (`people.jsonl`, `services.jsonl`...). Two writers would each continue the
 * chain from the last entry they know and fork it. Within a process
 * `openAuditLog` refuses to open a file twice, and every append checks that
 * the file is still the size it left it, so a second writer is noticed
 * rather than silently interleaved.
 *
 * The chain shows tampering inside the file, not its end being cut off at a
 * line boundary or the whole file rewritten with fresh hashes: for that the
 * latest hash has to be kept somewhere the writer of the file cannot change.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** One read of personal or per-record pseudonymised data. */
export interface AuditRecord {
  /** ISO 8601 UTC, as `Date.prototype.toISOString` writes it. */
  time: string;
  /** The token's `sub`. */
  subject: string;
  /** `operator`, `analyst` or `dashboard`. */
  role: string;
  /** The operator's city (ISTAT code). */
  callerCity?: string;
  /** Whose records were read: how many per city. */
  cities: Array<{ city: string; records: number }>;
  /** Schema coordinates read, e.g. `Beneficiary.givenName`; stored sorted. */
  fields: string[];
  /** Total records read. */
  records: number;
  /** SHA-256 hex of the GraphQL operation text (`operationHash`): which query, without its literals. */
  operation: string;
  operationName?: string;
  requestId?: string;
  /** The service whose answer it was, e.g. `people`. */
  service?: string;
  /**
   * SHA-256 hex of the client's own operation, as the gateway reports it (a
   * subgraph answers the gateway's plan of it, whose hash is `operation`).
   * Reported, not proven: a caller reaching a subgraph directly could claim any.
   */
  clientOperation?: string;
}

export interface AuditEntry extends AuditRecord {
  /** 1 for the first entry of a file, then one more per entry. */
  seq: number;
  /** The previous entry's `hash`; 64 zeros for the first entry. */
  prev: string;
  /** SHA-256 hex of `prev`, a newline, and the canonical JSON of the entry without `hash`. */
  hash: string;
}

export interface AuditLog {
  /**
   * Adds one entry. Calls are written one after the other in the order they
   * were made; the promise resolves once the line is written. After a failed
   * write every later append rejects too: the file may end in a partial line,
   * and continuing would hide that.
   */
  append(record: AuditRecord): Promise<AuditEntry>;
  /** Waits for pending appends, flushes the file to disk and closes it. */
  close(): Promise<void>;
  /** The log's absolute path. */
  readonly file: string;
}

/** When not ok, `line` is the first bad line (1-based) and `entries` counts the good entries before it. */
export type AuditVerification =
  | { ok: true; entries: number }
  | { ok: false; entries: number; line: number; seq: number | null; problem: string };

/** The `prev` of a file's first entry. */
export const GENESIS = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** How much of a file's end `openAuditLog` reads first; entries are a few hundred bytes. */
const TAIL_CHUNK = 64 * 1024;
/** Files open for appending in this process, so the same file is not opened twice. */
const openFiles = new Set<string>();

export function operationHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * JSON with object keys sorted at every level, so an entry hashes the same
 * whatever order its keys were written or parsed in. Undefined properties are
 * left out, as `JSON.stringify` leaves them out of the line.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function entryHash(entry: Omit<AuditEntry, 'hash'> & { hash?: unknown }): string {
  const { hash: _, ...rest } = entry;
  return createHash('sha256').update(`${entry.prev}\n${canonicalJson(rest)}`, 'utf8').digest('hex');
}

/**
 * The entry as it is written: only the fields an AuditRecord has (an object
 * carrying more, say the records themselves, must not leak them into the
 * log), with a fixed key order so the file reads easily.
 */
function toEntry(record: AuditRecord, seq: number, prev: string): AuditEntry {
  const entry = {
    seq,
    time: record.time,
    subject: record.subject,
    role: record.role,
    ...(record.callerCity !== undefined && { callerCity: record.callerCity }),
    cities: record.cities.map(({ city, records }) => ({ city, records })),
    fields: [...record.fields].sort(),
    records: record.records,
    operation: record.operation,
    ...(record.operationName !== undefined && { operationName: record.operationName }),
    ...(record.requestId !== undefined && { requestId: record.requestId }),
    ...(record.service !== undefined && { service: record.service }),
    ...(record.clientOperation !== undefined && { clientOperation: record.clientOperation }),
    prev,
  };
  return { ...entry, hash: entryHash(entry) };
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isText = (s: unknown): s is string => typeof s === 'string' && s.length > 0;

/** Refuses a record the log could not be read back from; called before it is queued, so the caller learns at once. */
function checkRecord(r: AuditRecord): void {
  const bad = (what: string) => new TypeError(`Audit record: ${what}`);
  if (typeof r.time !== 'string' || !ISO_UTC.test(r.time) || Number.isNaN(Date.parse(r.time))) throw bad(`time must be ISO 8601 UTC, got ${JSON.stringify(r.time)}`);
  if (!isText(r.subject)) throw bad('subject is missing');
  if (!isText(r.role)) throw bad('role is missing');
  if (r.callerCity !== undefined && !isText(r.callerCity)) throw bad('callerCity must be a city code');
  if (!Array.isArray(r.cities) || !r.cities.every((c) => isText(c?.city) && isCount(c.records))) throw bad('cities must be a list of { city, records }');
  if (!Array.isArray(r.fields) || !r.fields.every(isText)) throw bad('fields must be a list of schema coordinates');
  if (!isCount(r.records)) throw bad('records must be a whole number');
  if (typeof r.operation !== 'string' || !HEX64.test(r.operation)) throw bad('operation must be the SHA-256 hex of the operation text (operationHash)');
  if (r.operationName !== undefined && typeof r.operationName !== 'string') throw bad('operationName must be a string');
  if (r.requestId !== undefined && typeof r.requestId !== 'string') throw bad('requestId must be a string');
  if (r.service !== undefined && !isText(r.service)) throw bad('service must be a service name');
  if (r.clientOperation !== undefined && (typeof r.clientOperation !== 'string' || !HEX64.test(r.clientOperation))) throw bad('clientOperation must be a SHA-256 hex');
}

type LineCheck = { entry: AuditEntry } | { entry?: undefined; seq: number | null; problem: string };

/** Whether one line, on its own, is an intact entry. The chain between lines is checked by the caller. */
function checkLine(text: string, terminated: boolean): LineCheck {
  // When the JSON cannot be parsed, the seq at the start of the line still says which entry it was.
  const seqOf = () => {
    const m = /^\{"seq":(\d+)[,}]/.exec(text);
    return m ? Number(m[1]) : null;
  };
  if (!terminated) return { seq: seqOf(), problem: 'unreadable: cut short, no newline at the end (an interrupted write or a truncated file)' };
  if (text.trim() === '') return { seq: null, problem: 'unreadable: empty line' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { seq: seqOf(), problem: 'unreadable: not JSON' };
  }
  const e = value as Partial<AuditEntry> | null;
  if (e === null || typeof e !== 'object' || Array.isArray(e) || !Number.isSafeInteger(e.seq) || e.seq! < 1 || typeof e.prev !== 'string' || !HEX64.test(e.prev) || typeof e.hash !== 'string' || !HEX64.test(e.hash)) {
    const seq = e !== null && typeof e === 'object' && Number.isSafeInteger(e.seq) ? e.seq! : null;
    return { seq, problem: 'unreadable: not an audit entry (it needs seq, prev and hash)' };
  }
  if (entryHash(e as AuditEntry) !== e.hash) return { seq: e.seq!, problem: 'changed: its hash does not match its content' };
  return { entry: e as AuditEntry };
}

interface Line {
  text: string;
  /** 1-based. */
  number: number;
  /** False only for a last line with no newline after it. */
  terminated: boolean;
}

/** The file's lines, streamed: a log may be far larger than memory wants to hold. */
async function* readLines(file: string): AsyncGenerator<Line> {
  let rest: Buffer = Buffer.alloc(0);
  let number = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    let nl: number;
    // Splitting on the byte is safe: 0x0a never occurs inside a multi-byte UTF-8 character.
    while ((nl = buf.indexOf(0x0a, start)) !== -1) {
      yield { text: buf.toString('utf8', start, nl), number: ++number, terminated: true };
      start = nl + 1;
    }
    rest = buf.subarray(start);
  }
  if (rest.length > 0) yield { text: rest.toString('utf8'), number: ++number, terminated: false };
}

/** Throws an error naming the file when it is missing or not a file: there is nothing to verify or read there. */
async function mustBeFile(file: string): Promise<void> {
  const s = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new Error(e.code === 'ENOENT' ? `Audit log ${file} does not exist` : `Audit log ${file} cannot be read: ${e.message}`);
  });
  if (!s.isFile()) throw new Error(`Audit log ${file} is not a file`);
}

/**
 * Checks every entry and the chain between them, and reports the first bad
 * line. A missing file is an error (it throws, naming the file): a log that
 * should exist and does not is not a log that verifies. An empty file is a
 * good log with no entries: that is what `openAuditLog` leaves before the
 * first append.
 */
export async function verifyAuditLog(file: string): Promise<AuditVerification> {
  await mustBeFile(file);
  let prev = GENESIS;
  let entries = 0;
  for await (const line of readLines(file)) {
    const checked = checkLine(line.text, line.terminated);
    if (!checked.entry) return { ok: false, entries, line: line.number, seq: checked.seq, problem: checked.problem };
    const { entry } = checked;
    const expected = entries + 1;
    if (entry.seq !== expected) {
      return { ok: false, entries, line: line.number, seq: entry.seq, problem: await explainOutOfPlace(file, line.number, entry, expected, prev) };
    }
    if (entry.prev !== prev) {
      const problem = expected === 1
        ? 'broken chain: the first entry\'s prev is not 64 zeros (it comes from another log, or the log\'s beginning was replaced)'
        : `broken chain: prev is not the hash of line ${line.number - 1} (that entry was rewritten with a new hash, or this one comes from another log)`;
      return { ok: false, entries, line: line.number, seq: entry.seq, problem };
    }
    prev = entry.hash;
    entries = expected;
  }
  return { ok: true, entries };
}

/**
 * Why an intact entry carries the wrong seq: a copy of another line, an entry
 * that is somewhere else in the file, or entries that are gone. Only run on a
 * bad log, so reading the file a second time costs nothing in the usual case.
 */
async function explainOutOfPlace(file: string, lineNumber: number, entry: AuditEntry, expected: number, prev: string): Promise<string> {
  let copyOf: Line | undefined;
  let missingAt: Line | undefined;
  for await (const line of readLines(file)) {
    if (line.number === lineNumber || !line.terminated) continue;
    // The hash is unique per entry, so a cheap substring test picks out candidates before parsing.
    if (!copyOf && line.text.includes(entry.hash)) {
      const c = checkLine(line.text, true);
      if (c.entry?.hash === entry.hash) copyOf = line;
    }
    if (!missingAt && line.number > lineNumber && line.text.includes(prev)) {
      const c = checkLine(line.text, true);
      if (c.entry?.seq === expected && c.entry.prev === prev) missingAt = line;
    }
    if (copyOf && missingAt) break;
  }
  if (copyOf) return `inserted: a copy of line ${copyOf.number} (seq ${entry.seq})`;
  if (missingAt) return `reordered: seq ${expected} belongs here but is at line ${missingAt.number}`;
  if (entry.seq > expected) {
    return entry.seq === expected + 1
      ? `removed: seq ${expected} is missing before this line`
      : `removed: seq ${expected} to ${entry.seq - 1} are missing before this line`;
  }
  return `inserted or moved: seq ${entry.seq} comes after seq ${expected - 1}`;
}

async function readFully(handle: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error('file shrank while being read');
    done += bytesRead;
  }
}

/**
 * The file's last line, read from the end in growing chunks, so resuming the
 * chain of a large log reads a few kilobytes rather than the whole file.
 */
async function lastLine(handle: FileHandle, size: number): Promise<{ text: string; start: number; terminated: boolean }> {
  for (let chunk = TAIL_CHUNK; ; chunk *= 4) {
    const from = Math.max(0, size - chunk);
    const buf = Buffer.alloc(size - from);
    await readFully(handle, buf, from);
    const terminated = buf[buf.length - 1] === 0x0a;
    const body = terminated ? buf.subarray(0, buf.length - 1) : buf;
    const nl = body.lastIndexOf(0x0a);
    if (nl !== -1 || from === 0) return { text: body.toString('utf8', nl + 1), start: from + nl + 1, terminated };
  }
}

/** Lines before byte `end`: the line number of a bad last line, only needed on the way to an error. */
async function countLines(file: string, end: number): Promise<number> {
  if (end === 0) return 0;
  let lines = 0;
  for await (const chunk of createReadStream(file, { start: 0, end: end - 1 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
  }
  return lines;
}

/**
 * Opens a log for appending, creating its folder (0700) and file (0600) when
 * missing, and continues the chain from the file's last entry. When that last
 * line is not an intact entry it throws, naming the file and the line: a new
 * chain on top of a damaged one would hide the damage.
 */
export async function openAuditLog(file: string): Promise<AuditLog> {
  const path = resolve(file);
  if (openFiles.has(path)) throw new Error(`Audit log ${path} is already open in this process: one file has one writer`);
  openFiles.add(path);
  let handle: FileHandle | undefined;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // 'a+': appends always land at the end (O_APPEND), and the tail can still be read through the same handle.
    handle = await open(path, 'a+', 0o600);
    let size = (await handle.stat()).size;
    let seq = 0;
    let prev = GENESIS;
    if (size > 0) {
      const last = await lastLine(handle, size);
      const checked = checkLine(last.text, last.terminated);
      if (!checked.entry) {
        const line = (await countLines(path, last.start)) + 1;
        const seqText = checked.seq === null ? '' : ` (seq ${checked.seq})`;
        throw new Error(`Audit log ${path} line ${line}${seqText} is not a valid entry (${checked.problem}); not appending to it. Check it with npm run audit:verify and move it aside, keeping it as evidence.`);
      }
      seq = checked.entry.seq;
      prev = checked.entry.hash;
    }
    return logOn(path, handle, size, seq, prev);
  } catch (e) {
    openFiles.delete(path);
    await handle?.close();
    throw e;
  }
}

function logOn(path: string, handle: FileHandle, size: number, seq: number, prev: string): AuditLog {
  // Appends run one at a time on this chain of promises: each needs the hash the one before produced.
  let queue: Promise<unknown> = Promise.resolve();
  let failure: Error | undefined;
  let closed: Promise<void> | undefined;

  const write = async (record: AuditRecord): Promise<AuditEntry> => {
    if (failure) throw failure;
    // Someone else appending or truncating would fork or break the chain: stop rather than write on.
    const now = (await handle.stat()).size;
    if (now !== size) {
      failure = new Error(`Audit log ${path} changed size behind this writer (${size} -> ${now} bytes): one file has one writer; not appending`);
      throw failure;
    }
    const entry = toEntry(record, seq + 1, prev);
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    try {
      // One call for the whole line: with O_APPEND and one writer, lines never interleave.
      // No fsync per line: it would cost a disk flush per request. A crashed process loses
      // nothing written (the kernel has it); a crashed machine may lose the last seconds,
      // which leaves a cut-short last line (openAuditLog then refuses the file) or missing
      // whole lines at the end (see the module comment). close() does flush.
      await handle.appendFile(line);
    } catch (e) {
      failure = new Error(`Audit log ${path}: a write failed, so the file may end in a partial line; not appending any more: ${(e as Error).message}`);
      throw failure;
    }
    size += line.length;
    seq = entry.seq;
    prev = entry.hash;
    return entry;
  };

  return {
    file: path,
    append(record) {
      if (closed) return Promise.reject(new Error(`Audit log ${path} is closed`));
      try {
        checkRecord(record);
      } catch (e) {
        return Promise.reject(e);
      }
      const done = queue.then(() => write(record));
      queue = done.catch(() => {});
      return done;
    },
    close() {
      closed ??= queue.then(async () => {
        try {
          if (!failure) await handle.sync();
        } finally {
          await handle.close();
          openFiles.delete(path);
        }
      });
      return closed;
    },
  };
}

/**
 * The entries of every `*.jsonl` file in `dir` that `keep` accepts, newest
 * first (by `time`; then by file name and seq, latest first). It reads, it does
 * not verify: run `verifyAuditLog` for that. A line that is not an entry
 * throws, naming the file and line, since skipping it would hide accesses.
 * An unterminated last line is skipped: the writer may be writing it.
 */
export async function readAuditEntries(dir: string, keep: (e: AuditEntry) => boolean): Promise<AuditEntry[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && d.name.endsWith('.jsonl'))
    .map((d) => d.name)
    .sort();
  const found: Array<{ entry: AuditEntry; file: string; time: number }> = [];
  for (const name of names) {
    const file = join(dir, name);
    for await (const line of readLines(file)) {
      if (!line.terminated) break;
      let entry: AuditEntry;
      try {
        entry = JSON.parse(line.text) as AuditEntry;
      } catch {
        entry = null as unknown as AuditEntry;
      }
      if (entry === null || typeof entry !== 'object' || !Number.isSafeInteger(entry.seq) || typeof entry.time !== 'string') {
        throw new Error(`Audit log ${file} line ${line.number} is not an audit entry; check it with npm run audit:verify`);
      }
      // An unparseable time sorts as the oldest rather than making the order undefined.
      if (keep(entry)) {
        const time = Date.parse(entry.time);
        found.push({ entry, file: name, time: Number.isNaN(time) ? Number.MIN_SAFE_INTEGER : time });
      }
    }
  }
  return found
    .sort((a, b) => b.time - a.time || (a.file === b.file ? 0 : a.file < b.file ? 1 : -1) || b.entry.seq - a.entry.seq)
    .map((f) => f.entry);
}
