/**
 * A city adapter's conformance check against its live system (`npm run
 * adapter:check -- <city>`): the adapter is built exactly as a subgraph
 * builds it (the city's file from adapters/cities/, endpoints and keys from
 * the environment given), then each source is asked for a record of each
 * entity, a sample of each entity is mapped and validated, and the whole
 * data quality is read. Each check says PASS, WARN or FAIL and, where it
 * can, which key of which file to fix. Never process.env: the caller gives
 * the environment.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { vocabularyTargets, type RejectReason, type VocabularyName } from '../schema/code-lists.ts';
import { CityError } from '../schema/errors.ts';
import { entityDomain, entityNames, type EntityName } from '../schema/records.ts';
import { createCityAdapter, type ConnectorFactory } from './city-adapter.ts';
import { CityConfig, resolveCityLeniently, shownConfigPath, type ResolvedSource } from './config.ts';
import { createConnector as defaultCreateConnector } from './connectors/index.ts';
import { defaultCitiesDir, PERSON_KEY_SECRET_ENV } from './fleet.ts';
import { createRowMapper, fieldValue, folded } from './mapping.ts';
import type { ConnectorDeps, RawRow, SourceConnector } from './port.ts';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

export interface ConformanceCheck {
  source?: string;
  entity?: EntityName;
  /** `config`, `env`, `reachable`, `sample`, `fields`, `codes`, `quality`, `pushdown`. */
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to change, and where (the file and key), when the check does not pass. */
  fix?: string;
}

export interface ConformanceReport {
  city: string;
  /** The city's name, when its file could be read. */
  name?: string;
  /** The city's file, relative to the cities' folder. */
  file: string;
  checks: ConformanceCheck[];
}

export interface ConformanceOptions {
  env: Readonly<Record<string, string | undefined>>;
  deps: ConnectorDeps;
  /** Records of each entity mapped and validated as a sample (the first page). Default 200. */
  sampleSize?: number;
  /** Folder of the city files; default adapters/cities/. */
  citiesDir?: string;
  /** How connectors are built; default the one the subgraphs use. */
  createConnector?: ConnectorFactory;
}

/** The city asked for has no file in the cities' folder. */
export class UnknownCityError extends Error {
  override name = 'UnknownCityError';
}

/** The city's file in a folder, by ISTAT code; null when there is none. */
export function cityFileOf(code: string, dir: string = defaultCitiesDir): string | null {
  return readdirSync(dir).filter((f) => f.endsWith('.json') && f.startsWith(code)).sort()[0] ?? null;
}

/** The vocabulary each coded canonical field is read through ('citizenship': the source's own table). */
const codedFields: Partial<Record<string, VocabularyName | 'citizenship'>> = {
  sex: 'sex',
  permitType: 'permitType',
  vulnerabilities: 'vulnerability',
  intakeChannel: 'intakeChannel',
  intakeStatus: 'intakeStatus',
  category: 'serviceCategory',
  kind: 'housingKind',
  status: 'civicProjectStatus',
  citizenship: 'citizenship',
};

/** Canonical fields a record may leave empty. */
const optionalFields = new Set(['vulnerabilities', 'to', 'signedOn']);

const percent = (n: number, of: number) => (of === 0 ? '0%' : `${((100 * n) / of).toFixed(n * 100 < of ? 1 : 0)}%`);
const tally = (m: ReadonlyMap<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${k} ${n}`).join(', ');
const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);

/**
 * Whether rejections show a fault of the mapping: more than the source's
 * maxRejectedShare even without one of them. One broken record among a
 * handful (3 housing resources) is beyond the share, and the graph shows the
 * source DEGRADED, but it is the city's data, not the adapter: a WARN.
 */
function failsShare(rejected: number, of: number, maxShare: number): boolean {
  return of > 0 && rejected > 0 && (rejected - 1) / of > maxShare;
}

/** The source's own field names a field spec reads: the name, or each name of a template. */
function specNames(spec: string): string[] {
  return spec.includes('{') ? [...spec.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim()) : [spec];
}

/** The environment variables a source's file references, by role. */
function envRefs(source: CityConfig['sources'][number]): Array<{ key: string; name: string }> {
  const refs: Array<{ key: string; name: string }> = [];
  if (typeof source.baseUrl !== 'string') refs.push({ key: 'baseUrl', name: source.baseUrl.env });
  if (source.auth) refs.push({ key: 'auth.key', name: source.auth.key.env });
  return refs;
}

/** The local codes of a row's field that its vocabulary (or citizenship table) lacks. */
function unknownCodes(source: ResolvedSource, list: VocabularyName | 'citizenship', value: unknown): string[] {
  if (value === null || value === undefined) return [];
  const items = list === 'vulnerability'
    ? (Array.isArray(value) ? value.map(String) : String(value).split(source.listSeparator)).map((s) => s.trim()).filter((s) => s !== '')
    : [String(value).trim()];
  const table = list === 'citizenship' ? source.citizenship : source.vocabularies[list];
  return items.filter((item) => {
    if (table) return !Object.keys(table).some((k) => folded(k) === folded(item));
    if (list === 'citizenship') return !/^[A-Z]{2}$/.test(item.toUpperCase());
    return !vocabularyTargets[list].safeParse(item.toUpperCase()).success;
  });
}

function errorText(e: unknown): { code: string; detail: string } {
  if (e instanceof CityError) return { code: e.code, detail: e.detail };
  return { code: 'ERROR', detail: e instanceof Error ? e.message : String(e) };
}

/**
 * Runs every check of a city's adapter against its live system. Throws
 * UnknownCityError when the city has no file; everything else is a check.
 */
export async function runConformance(city: string, options: ConformanceOptions): Promise<ConformanceReport> {
  const dir = options.citiesDir ?? defaultCitiesDir;
  const sampleSize = options.sampleSize ?? 200;
  const file = cityFileOf(city, dir);
  if (!file) throw new UnknownCityError(`no city ${city} in ${dir}: its file would be named ${city}-<name>.json`);
  const report: ConformanceReport = { city, file, checks: [] };
  const add = (c: ConformanceCheck) => report.checks.push(c);

  // 1. The file parses, under the same rules (and in the same words) as loadCityConfigs.
  let config: CityConfig;
  {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (e) {
      add({ check: 'config', status: 'FAIL', detail: `${file}: not valid JSON (${(e as Error).message})`, fix: `make ${file} valid JSON` });
      return report;
    }
    const parsed = CityConfig.safeParse(json);
    if (!parsed.success) {
      add({ check: 'config', status: 'FAIL', detail: `${file}: ${z.prettifyError(parsed.error)}`, fix: `correct ${file} as the rule says` });
      return report;
    }
    if (parsed.data.code !== city) {
      add({ check: 'config', status: 'FAIL', detail: `${file}: the file name must start with the city's ISTAT code ${parsed.data.code}`, fix: `rename ${file} or correct its "code"` });
      return report;
    }
    config = parsed.data;
    report.name = config.name;
    add({ check: 'config', status: 'PASS', detail: `${file} parses: ${config.sources.length} source(s)` });
  }
  if (config.sources.length === 0) {
    add({ check: 'config', status: 'WARN', detail: 'no source system is configured yet ("sources": []): national answers name the city CITY_NOT_CONFIGURED', fix: `add the city's source(s) to "sources" in ${file}` });
    return report;
  }

  // 2. The adapter as a subgraph builds it, keeping hold of each source's connector for the raw rows.
  const resolved = resolveCityLeniently(config, options.env, shownConfigPath(dir, file));
  const secret = options.env[PERSON_KEY_SECRET_ENV] && options.env[PERSON_KEY_SECRET_ENV]!.length >= 16 ? options.env[PERSON_KEY_SECRET_ENV]! : randomBytes(24).toString('base64url');
  const connectors = new Map<string, SourceConnector>();
  const make = options.createConnector ?? defaultCreateConnector;
  const adapter = createCityAdapter(resolved, {
    personKeySecret: secret,
    deps: options.deps,
    createConnector: (c, source, deps) => {
      const connector = make(c, source, deps);
      connectors.set(source.id, connector);
      return connector;
    },
  });

  const reachable = new Set<string>();
  for (const source of resolved.sources) {
    const where = `${file} sources[id=${source.id}]`;
    const entities = entityNames.filter((e) => source.entities[e] && source.domains.includes(entityDomain[e]));

    // Its variables are set.
    const refs = envRefs(config.sources.find((s) => s.id === source.id)!);
    const unset = refs.filter((r) => !options.env[r.name]);
    if (source.problem || unset.length > 0) {
      add({
        source: source.id,
        check: 'env',
        status: 'FAIL',
        detail: unset.length > 0 ? `${unset.map((r) => `${r.name} (${r.key})`).join(', ')} not set` : source.problem!,
        fix: `set ${unset.map((r) => r.name).join(' and ')} in the environment of the subgraphs (named by ${unset.map((r) => `${where}.${r.key}`).join(', ')})`,
      });
      continue;
    }
    add({ source: source.id, check: 'env', status: 'PASS', detail: `${refs.map((r) => r.name).join(', ') || 'no variables'} set` });

    // It answers, and accepts the key: one record of each entity, timed.
    const connector = connectors.get(source.id)!;
    const timings: string[] = [];
    let failure: { entity: EntityName; code: string; detail: string } | null = null;
    for (const entity of entities) {
      const started = performance.now();
      try {
        await connector.page(entity, { offset: 0, limit: 1 });
        timings.push(`${entity} ${Math.round(performance.now() - started)} ms`);
      } catch (e) {
        failure = { entity, ...errorText(e) };
        break;
      }
    }
    if (failure) {
      const keyVar = source.auth ? source.auth.key.env : null;
      const refused = failure.code === 'CITY_AUTH_FAILED';
      add({
        source: source.id,
        check: 'reachable',
        status: 'FAIL',
        detail: refused
          ? `the key in ${keyVar} is refused (${failure.entity}: ${failure.detail})`
          : `${failure.entity}: ${failure.code}: ${failure.detail}`,
        fix: refused
          ? `give ${keyVar} a key the system accepts (${source.auth && 'header' in source.auth ? `sent in header "${source.auth.header}", ` : ''}${where}.auth.key)`
          : `check that the system is up at ${source.baseUrl} (${refs.find((r) => r.key === 'baseUrl')?.name ?? `${where}.baseUrl`}) and that ${where}.entities.${failure.entity}.path is right`,
      });
      continue;
    }
    reachable.add(source.id);
    add({ source: source.id, check: 'reachable', status: 'PASS', detail: `answers and accepts the key: ${timings.join(', ')}` });

    // A sample of each entity maps and validates.
    const mapper = createRowMapper(config.code, source, secret, options.deps.now);
    for (const entity of entities) {
      const fields = source.entities[entity]!.fields as Record<string, string>;
      const entityWhere = `${where}.entities.${entity}`;
      let rows: readonly RawRow[];
      try {
        rows = (await connector.page(entity, { offset: 0, limit: sampleSize })).rows;
      } catch (e) {
        const { code, detail } = errorText(e);
        add({ source: source.id, entity, check: 'sample', status: 'FAIL', detail: `a page of ${sampleSize} could not be read: ${code}: ${detail}` });
        continue;
      }
      const reasons = new Map<RejectReason, number>();
      const missingByField = new Map<string, number>();
      const unknownByField = new Map<string, { rejected: number; codes: Map<string, number> }>();
      for (const row of rows) {
        const r = mapper.map(entity, row);
        if (r.ok) continue;
        bump(reasons, r.rejection.reason);
        if (r.rejection.reason === 'MISSING_FIELD') bump(missingByField, r.rejection.field);
        if (r.rejection.reason === 'UNKNOWN_CODE') {
          const list = codedFields[r.rejection.field];
          let u = unknownByField.get(r.rejection.field);
          if (!u) unknownByField.set(r.rejection.field, (u = { rejected: 0, codes: new Map() }));
          u.rejected++;
          if (list && fields[r.rejection.field]) for (const c of unknownCodes(source, list, fieldValue(row, fields[r.rejection.field]!))) bump(u.codes, c);
        }
      }
      let rejected = 0;
      for (const n of reasons.values()) rejected += n;
      const over = failsShare(rejected, rows.length, source.maxRejectedShare);
      const beyond = rows.length > 0 && rejected / rows.length > source.maxRejectedShare;
      add({
        source: source.id,
        entity,
        check: 'sample',
        status: rows.length === 0 || (beyond && !over) ? 'WARN' : over ? 'FAIL' : 'PASS',
        detail: rows.length === 0
          ? 'the system sent no records: nothing to check the mapping against'
          : `${rows.length} sampled, ${rejected} rejected (${percent(rejected, rows.length)}, maxRejectedShare ${source.maxRejectedShare})${rejected ? `: ${tally(reasons)}` : ''}${beyond && !over ? '; beyond the share by one record only: the city\'s data rather than the mapping' : ''}`,
        ...(over ? { fix: `see the fields and codes checks of ${entity}` } : {}),
      });

      // Mapped fields the system does not send at all (renamed, or never there).
      if (rows.length > 0) {
        const absent: Array<{ field: string; names: string[] }> = [];
        for (const [field, spec] of Object.entries(fields)) {
          const names = specNames(spec).filter((name) => rows.every((row) => fieldValue(row, name) === undefined));
          if (names.length > 0) absent.push({ field, names });
        }
        const required = absent.filter((a) => !optionalFields.has(a.field));
        const optional = absent.filter((a) => optionalFields.has(a.field));
        const say = (a: { field: string; names: string[] }) => `fields.${a.field} names \`${a.names.join('`, `')}\`, which the system does not send`;
        const empties = [...missingByField].filter(([f]) => !absent.some((a) => a.field === f));
        if (absent.length > 0) {
          add({
            source: source.id,
            entity,
            check: 'fields',
            status: required.length > 0 ? 'FAIL' : 'WARN',
            detail: [
              ...required.map((a) => `${say(a)} (${missingByField.get(a.field) ?? rows.length} of ${rows.length} sampled records rejected MISSING_FIELD)`),
              ...optional.map((a) => `${say(a)} (optional: every record reads it as empty)`),
            ].join('; '),
            fix: `in ${entityWhere}.fields, name the system's own field for ${absent.map((a) => a.field).join(', ')} (a renamed field, or a dotted path into a nested record)`,
          });
        } else if (empties.length > 0) {
          add({
            source: source.id,
            entity,
            check: 'fields',
            status: 'PASS',
            detail: `every mapped field is sent; some records leave a required one empty (MISSING_FIELD: ${tally(new Map(empties))}): the city's data, not the mapping`,
          });
        } else {
          add({ source: source.id, entity, check: 'fields', status: 'PASS', detail: `all ${Object.keys(fields).length} mapped fields are sent` });
        }
      }

      // Local codes the vocabularies lack.
      for (const [field, u] of unknownByField) {
        const list = codedFields[field];
        const key = list === 'citizenship' ? `${where}.citizenship` : `${where}.vocabularies.${list ?? field}`;
        const overShare = failsShare(u.rejected, rows.length, source.maxRejectedShare);
        const codes = [...u.codes].sort((a, b) => b[1] - a[1]);
        const shown = codes.slice(0, 10).map(([c, n]) => `"${c}" (${n})`).join(', ') + (codes.length > 10 ? `, and ${codes.length - 10} more` : '');
        add({
          source: source.id,
          entity,
          check: 'codes',
          status: overShare ? 'FAIL' : 'WARN',
          detail: `${u.rejected} of ${rows.length} sampled records rejected UNKNOWN_CODE in ${field}${codes.length ? `: local codes ${shown} are not in ${key.slice(where.length + 1)}` : ''}`,
          fix: codes.length
            ? `add ${codes.slice(0, 10).map(([c]) => `"${c}"`).join(', ')} to ${key}, each mapped to its national code`
            : `check ${key}: the values sent for ${field} are not national codes`,
        });
      }

      // Whether filtered questions reach the system (informational).
      const declared = Object.keys((source.entities[entity] as { filters?: Record<string, unknown> }).filters ?? {});
      add({
        source: source.id,
        entity,
        check: 'pushdown',
        status: 'PASS',
        detail: source.kind === 'sql'
          ? 'SQL: conditions and counts are pushed into the query'
          : declared.length > 0
            ? `filters pushed to the system: ${declared.join(', ')}`
            : source.kind === 'csv' || source.kind === 'spreadsheet'
              ? `${source.kind === 'csv' ? 'a CSV export' : 'a spreadsheet'}: parsed once per new file, filtered in memory`
              : `no filters declared (${entityWhere}.filters): a filtered question reads the entity whole`,
      });
    }
  }

  // 3. The whole data quality, as the graph reports it: it reads every source, so only when all answer.
  if (reachable.size === resolved.sources.length) {
    try {
      const quality = await adapter.dataQuality({});
      for (const q of quality) {
        const source = resolved.sources.find((s) => s.domains.includes(entityDomain[q.entity]))!;
        const balanced = q.received === q.accepted + q.rejected;
        const share = q.received === 0 ? 0 : q.rejected / q.received;
        const reasons = tally(new Map(q.reasons.map((r) => [r.code, r.count])));
        const beyond = share > source.maxRejectedShare;
        const over = failsShare(q.rejected, q.received, source.maxRejectedShare);
        add({
          source: source.id,
          entity: q.entity,
          check: 'quality',
          status: !balanced || over ? 'FAIL' : q.received === 0 || beyond ? 'WARN' : 'PASS',
          detail: `received ${q.received} = accepted ${q.accepted} + rejected ${q.rejected}${balanced ? '' : ' does NOT add up'}; rejected ${percent(q.rejected, q.received)} against maxRejectedShare ${source.maxRejectedShare}${reasons ? ` (${reasons})` : ''}${q.received === 0 ? '; the system holds no records' : ''}${beyond ? `; the graph shows the source DEGRADED${over ? '' : ' (by one record: the city\'s data rather than the mapping)'}` : ''}`,
          ...(beyond
            ? {
                fix: (q.reasons.find((r) => r.code === 'PARENT_REJECTED')?.count ?? 0) * 2 > q.rejected
                  ? `mostly PARENT_REJECTED: their persons' records are rejected; mend beneficiaries first`
                  : `the source would show as DEGRADED: mend the mapping (fields, vocabularies in ${file}) or the city's records`,
              }
            : {}),
        });
      }
    } catch (e) {
      const { code, detail } = errorText(e);
      add({ check: 'quality', status: 'FAIL', detail: `the data quality could not be read: ${code}: ${detail}` });
    }
  } else {
    add({ check: 'quality', status: 'FAIL', detail: 'not read: a source does not answer (see above); the graph would name the city in coverage.missing' });
  }
  return report;
}

/** FAIL beats WARN beats PASS. */
export function worstStatus(report: ConformanceReport): CheckStatus {
  const s = report.checks.map((c) => c.status);
  return s.includes('FAIL') ? 'FAIL' : s.includes('WARN') ? 'WARN' : 'PASS';
}
