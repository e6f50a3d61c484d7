/**
 * The AMIF 2021-2027 common indicators of specific objective 2 (Regulation
 * (EU) 2021/1147, Annex VIII; the wording and counting rules are in
 * schema/amif-indicators.ts), counted over a period. They cross domains (a
 * participant may be known by an intake, an enrolment, a placement or a
 * project), so the registry, which reads every source of every city, counts
 * them; only figures leave it. An indicator the data cannot support is listed
 * with the reason, never estimated.
 */
import { amifIndicators, amifPersonBreakdown } from '../../schema/amif-indicators.ts';
import type { Beneficiary } from '../../schema/records.ts';
import { badInput } from '../../schema/errors.ts';
import type { SubgraphContext } from '../shared/context.ts';
import { askCities, coverageOf } from '../shared/fan-out.ts';
import { ageOn, wholeMonths } from '../shared/figures.ts';

interface Participant {
  sex: string;
  age: number;
}

/** One city's participants in the period, by indicator, each person by personKey. */
interface CityParticipants {
  city: string;
  byIndicator: Map<string, Map<string, Participant>>;
  rejected: number;
}

const overlaps = (r: { from: string; to: string | null }, from: string, to: string) => r.from <= to && (r.to === null || r.to >= from);

async function cityParticipants(ctx: SubgraphContext, city: string, from: string, to: string): Promise<CityParticipants> {
  const adapter = ctx.fleet.adapter(city)!;
  const whole = { offset: 0, limit: Infinity };
  const [people, enrollments, services, placements, projects] = await Promise.all([
    adapter.list('beneficiaries', whole, ctx.call),
    adapter.list('enrollments', whole, ctx.call),
    adapter.list('services', whole, ctx.call),
    adapter.list('placements', whole, ctx.call),
    adapter.list('civicProjects', whole, ctx.call),
  ]);
  const persons = new Map<string, Beneficiary>(people.items.map((b) => [b.localId, b]));
  const categories = new Map(services.items.map((s) => [s.localId, s.category]));
  const byIndicator = new Map<string, Map<string, Participant>>(amifIndicators.filter((i) => i.supported).map((i) => [i.id, new Map()]));
  const add = (indicator: string, b: Beneficiary | undefined) => {
    // Age is taken at the person's intake in the city: the Annex does not say at which date.
    if (b) byIndicator.get(indicator)?.set(b.personKey, { sex: b.sex, age: ageOn(b.birthDate, b.intake.date) });
  };
  for (const b of people.items) if (b.intake.date >= from && b.intake.date <= to) add('O.2.3', b);
  for (const e of enrollments.items) {
    if (!overlaps(e, from, to)) continue;
    const b = persons.get(e.beneficiaryId);
    add('O.2.3', b);
    const category = categories.get(e.serviceId);
    for (const i of amifIndicators) if (category && i.supported?.serviceCategories?.includes(category)) add(i.id, b);
  }
  for (const p of placements.items) if (overlaps(p, from, to)) add('O.2.3', persons.get(p.beneficiaryId));
  for (const c of projects.items) if (c.signedOn !== null && c.signedOn >= from && c.signedOn <= to) add('O.2.3', persons.get(c.beneficiaryId));
  const rejected = [people, enrollments, services, placements, projects].reduce((n, p) => n + p.rejected, 0);
  return { city, byIndicator, rejected };
}

function bracketOf(age: number): string {
  return amifPersonBreakdown.ageBrackets.find((b) => age >= b.minAge && (b.maxAge === null || age <= b.maxAge))!.label;
}

export async function euIndicators(ctx: SubgraphContext, asked: { from: string; to: string }) {
  const args = wholeMonths(asked);
  if (args.from > args.to) throw badInput(`from (${args.from}) is after to (${args.to})`);
  const cities = ctx.fleet.cities.map((c) => c.code);
  const fan = await askCities(ctx, cities, (city) => cityParticipants(ctx, city, args.from, args.to));
  const coverage = coverageOf(ctx, 'people', cities, fan.failures);
  coverage.rejected = fan.answers.reduce((n, a) => n + a.value.rejected, 0);
  const indicators = amifIndicators.map((i) => {
    const base = { id: i.id, annexNumber: i.annexNumber, kind: i.kind, partOf: i.partOf ?? null, wording: i.wording, rule: i.supported?.rule ?? null, notSupportedBecause: i.notSupportedBecause ?? null };
    if (!i.supported) return { ...base, value: null, byGenderAndAge: null };
    if (i.id === 'O.2.2') {
      // Authorities supported: the cities with any participant in the period.
      return { ...base, value: fan.answers.filter((a) => (a.value.byIndicator.get('O.2.3')?.size ?? 0) > 0).length, byGenderAndAge: null };
    }
    // A person counted once across cities: their first city's record gives sex and age.
    const all = new Map<string, Participant>();
    for (const a of fan.answers) for (const [key, p] of a.value.byIndicator.get(i.id) ?? []) if (!all.has(key)) all.set(key, p);
    const cells = new Map<string, number>();
    for (const p of all.values()) {
      const cell = `${p.sex}|${bracketOf(p.age)}`;
      cells.set(cell, (cells.get(cell) ?? 0) + 1);
    }
    const byGenderAndAge = ['FEMALE', 'MALE'].flatMap((sex) =>
      amifPersonBreakdown.ageBrackets.map((b) => ({ sex, ageBracket: b.label, count: cells.get(`${sex}|${b.label}`) ?? 0 })),
    );
    return { ...base, value: all.size, byGenderAndAge };
  });
  return { from: args.from, to: args.to, indicators, coverage };
}
