/**
 * Synthetic population of the sandbox: beneficiaries, service catalogues,
 * enrolments, civic-engagement projects, housing resources and placements for
 * every LGNet city, in national (canonical) terms. Each city's stand-in later
 * renders its share in the city's own dialect.
 *
 * Determinism: everything is drawn from small seeded PRNGs (sfc32), never from
 * Math.random or the clock, and only with operations that are exact in IEEE
 * double arithmetic (integer maths, `* / + -`, Math.floor, Math.sqrt), so the
 * same seed and scale give the same population byte for byte, on any machine.
 * Independent streams (people; each city's catalogue, activity and ids) keep a
 * city's catalogue identical whatever the scale.
 *
 * Dates are handled as day numbers (days since 1970-01-01, UTC) and turned
 * into ISO `yyyy-mm-dd` strings only when a record is written.
 *
 * A city takes people in charge only while it is in the programme: within the
 * periods of its editions (`activePeriods`), so a city that joined in LGNet3
 * has nobody before 2024 and one that left after LGNetEA nobody after 2022.
 */
import type {
  CivicProjectStatus,
  HousingKind,
  IntakeChannel,
  IntakeStatus,
  PermitType,
  ServiceCategory,
  Sex,
  Vulnerability,
} from '../schema/code-lists.ts';
import { fiscalCodeCheckChar } from '../schema/fiscal-code.ts';
import type {
  CivicProject,
  Enrollment,
  HousingResource,
  Placement,
  Service,
} from '../schema/records.ts';
import type {
  CityPopulation,
  Population,
  PopulationCity,
  PopulationOptions,
  SyntheticBeneficiary,
} from './population-types.ts';

// ---------------------------------------------------------------------------
// Sizes and calendar
// ---------------------------------------------------------------------------

/** Distinct persons at scale 1: LGNet3 targets more than 9,000; the tests ask for at least 9,200. */
const PERSONS_AT_SCALE_1 = 9_400;
/** Floor of (first-city) beneficiaries per city at scale 1, so small cities still have data to test. */
const MIN_PER_CITY_AT_SCALE_1 = 80;
/** Share of persons who moved and were taken in charge again in a second city. */
const MOVER_SHARE = 0.025;
/** Share of beneficiaries (city stays) with an individual civic-engagement project. */
const CIVIC_PROJECT_SHARE = 0.2;

const MS_PER_DAY = 86_400_000;
/** Day number of an ISO date (UTC). */
function dayOf(iso: string): number {
  return Date.parse(`${iso}T00:00:00Z`) / MS_PER_DAY;
}
/** First possible intake: LGNet's take-in-charge data start in July 2020. */
const FIRST_INTAKE = dayOf('2020-07-01');
/** Last day of the synthetic world: no date is later than this. */
const LAST_DAY = dayOf('2026-10-31');
/** "Today" for occupancy: a placement is current on this day when it has no end. */
const REFERENCE_DAY = dayOf('2026-11-01');
/** Temporary protection for people fleeing Ukraine starts with the EU decision of 4 March 2022. */
const TEMPORARY_PROTECTION_START = dayOf('2022-03-04');
/** Average days per year and per month of the Gregorian calendar (for ages and "months ago"). */
const DAYS_PER_YEAR = 365.2425;
const DAYS_PER_MONTH = DAYS_PER_YEAR / 12;

const isoCache = new Map<number, string>();
/** ISO `yyyy-mm-dd` of a day number (cached: the same few thousand days recur). */
function isoOf(day: number): string {
  let iso = isoCache.get(day);
  if (iso === undefined) {
    iso = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    isoCache.set(day, iso);
  }
  return iso;
}
function yearOf(day: number): number {
  return new Date(day * MS_PER_DAY).getUTCFullYear();
}
/** Day number of an ISO date given by a caller, which must name a day that exists. */
function parseDay(iso: string, where: string): number {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? dayOf(iso) : NaN;
  // Date.parse rolls 2023-02-30 over into March: only a date that reads back the same is real.
  if (!Number.isInteger(day) || isoOf(day) !== iso) throw new RangeError(`${where}: not an ISO date "${iso}"`);
  return day;
}

/** Days a city takes people in: sorted, disjoint, non-adjacent [first, last] ranges of day numbers. */
type DayRanges = ReadonlyArray<readonly [first: number, last: number]>;

/**
 * The days of the synthetic world (from the first intake to the last day) in
 * a city's active periods; all of them when the city gives none.
 */
function activeRangesOf(city: PopulationCity): DayRanges {
  if (city.activePeriods === undefined) return [[FIRST_INTAKE, LAST_DAY]];
  const ranges: [number, number][] = [];
  for (const period of city.activePeriods) {
    const from = parseDay(period.from, `city ${city.code} active period`);
    const to = parseDay(period.to, `city ${city.code} active period`);
    if (to < from) throw new RangeError(`city ${city.code}: active period ${period.from}..${period.to} ends before it starts`);
    const first = Math.max(from, FIRST_INTAKE);
    const last = Math.min(to, LAST_DAY);
    if (first <= last) ranges.push([first, last]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  // Editions follow one another (LGNetEA ends the day before LGNet2 starts): one range.
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const previous = merged[merged.length - 1];
    if (previous && r[0] <= previous[1] + 1) previous[1] = Math.max(previous[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

function isActiveOn(ranges: DayRanges, day: number): boolean {
  return ranges.some(([first, last]) => first <= day && day <= last);
}

// ---------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------

/** A uniform draw in [0, 1), always a multiple of 2^-32 (so exact in a double). */
type Rng = () => number;

/** FNV-1a hash of a string: names a PRNG stream. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32: spreads a 32-bit seed into well-mixed state words. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/**
 * sfc32 (Small Fast Chaotic, from PractRand) for one named stream of a seed.
 * The seed may be any safe integer: its low and high 32-bit halves both count.
 */
function makeRng(seed: number, stream: string): Rng {
  const low = seed >>> 0;
  const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
  let s = (low ^ Math.imul(high, 0x27d4eb2d) ^ hashString(stream)) | 0;
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [next, out] = splitmix32(s);
    s = next;
    words.push(out);
  }
  let [a, b, c, d] = words as [number, number, number, number];
  const rng: Rng = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 0x1_0000_0000;
  };
  // Warm up: the first outputs of sfc32 still show the seed's structure.
  for (let i = 0; i < 12; i++) rng();
  return rng;
}

/** Integer in [min, max], both included. */
function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}
function chance(rng: Rng, probability: number): boolean {
  return rng() < probability;
}
function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(rng() * items.length)]!;
}
/** One of the keys of `weights`, with probability proportional to its weight. */
function weighted<K extends string>(rng: Rng, weights: Readonly<Record<K, number>>): K {
  const entries = Object.entries(weights) as [K, number][];
  let total = 0;
  for (const [, w] of entries) total += w;
  let r = rng() * total;
  for (const [key, w] of entries) {
    r -= w;
    if (r < 0 && w > 0) return key;
  }
  // Rounding left r at 0: the last key with a weight.
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]![1] > 0) return entries[i]![0];
  throw new Error('weighted draw with no positive weight');
}
/** Up to `count` distinct items, each draw proportional to `weightOf` among those left. */
function weightedDistinct<T>(rng: Rng, items: readonly T[], weightOf: (item: T) => number, count: number): T[] {
  const left = items.map((item) => ({ item, w: weightOf(item) })).filter((e) => e.w > 0);
  const chosen: T[] = [];
  while (chosen.length < count && left.length > 0) {
    let total = 0;
    for (const e of left) total += e.w;
    let r = rng() * total;
    let i = 0;
    while (i < left.length - 1 && (r -= left[i]!.w) >= 0) i++;
    chosen.push(left[i]!.item);
    left.splice(i, 1);
  }
  return chosen;
}
function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

// ---------------------------------------------------------------------------
// Countries of origin: names, Belfiore codes, permit profiles
// ---------------------------------------------------------------------------

/** Which residence permits people of a country typically hold at intake. */
type PermitProfile = 'asylum' | 'refugee' | 'temporary' | 'economic';

const PERMIT_WEIGHTS: Record<PermitProfile, Partial<Record<PermitType, number>>> = {
  // Central Mediterranean route: mostly pending asylum claims or national protection.
  asylum: {
    ASYLUM_SEEKER: 38, SUBSIDIARY_PROTECTION: 16, SPECIAL_PROTECTION: 16, REFUGEE_STATUS: 12,
    WORK: 5, FAMILY: 4, LONG_TERM_RESIDENT: 3, MEDICAL_CARE: 2, STUDY: 1, OTHER: 3,
  },
  // Countries at war or under persecution: high recognition rates.
  refugee: {
    ASYLUM_SEEKER: 30, REFUGEE_STATUS: 30, SUBSIDIARY_PROTECTION: 25, SPECIAL_PROTECTION: 8,
    FAMILY: 4, OTHER: 3,
  },
  // Ukraine: EU temporary protection.
  temporary: { TEMPORARY_PROTECTION: 92, LONG_TERM_RESIDENT: 3, WORK: 3, FAMILY: 2 },
  // Long-standing migration for work and family, some in hardship.
  economic: {
    WORK: 28, FAMILY: 24, LONG_TERM_RESIDENT: 16, ASYLUM_SEEKER: 10, SPECIAL_PROTECTION: 10,
    MEDICAL_CARE: 5, STUDY: 2, OTHER: 5,
  },
};

interface Country {
  /** Belfiore (cadastral) code of the foreign state, used in the fiscal code in place of the birth municipality. */
  belfiore: string;
  /** Relative share of beneficiaries from this country. */
  weight: number;
  /** Share of women among them. */
  femaleShare: number;
  permits: PermitProfile;
  male: readonly string[];
  female: readonly string[];
  surnames: readonly string[];
  /** Peru: most people carry both paternal and maternal surnames. */
  doubleSurname?: boolean;
}

/** Third countries of origin, ISO 3166-1 alpha-2 → data. Names keep their accents and apostrophes. */
const COUNTRIES: Record<string, Country> = {
  NG: {
    belfiore: 'Z335', weight: 9, femaleShare: 0.42, permits: 'asylum',
    male: ['Chukwuemeka', 'Oluwaseun', 'Emeka', 'Ifeanyi', 'Tunde', 'Babatunde', 'Chidi', 'Obinna', 'Ikechukwu', 'Adebayo', 'Segun', 'Uchenna', 'Kelechi', 'Osagie'],
    female: ['Ngozi', 'Chiamaka', 'Blessing', 'Adaeze', 'Funmilayo', 'Oluwakemi', 'Precious', 'Joy', 'Chioma', 'Nkechi', 'Favour', 'Esther', 'Osasere', 'Gift'],
    surnames: ['Okafor', 'Adeyemi', 'Okonkwo', 'Eze', 'Nwosu', 'Ogunleye', 'Balogun', 'Obi', 'Ibrahim', 'Bello', 'Ojo', 'Olawale', 'Osaghae', 'Igbinedion', 'Uwaifo', 'Edosomwan'],
  },
  SN: {
    belfiore: 'Z343', weight: 5, femaleShare: 0.12, permits: 'asylum',
    male: ['Mamadou', 'Moussa', 'Cheikh', 'Ousmane', 'Abdoulaye', 'Ibrahima', 'Modou', 'Babacar', 'Serigne', 'Pape', 'Alioune', 'Lamine'],
    female: ['Fatou', 'Aminata', 'Awa', 'Mariama', 'Khady', 'Ndèye', 'Aïssatou', 'Coumba', 'Astou', 'Bineta', 'Sokhna', 'Rokhaya'],
    surnames: ['Diop', 'Ndiaye', 'Fall', 'Sow', 'Diallo', 'Sarr', 'Gueye', 'Faye', 'Mbaye', 'Thiam', 'Cissé', 'Ndour', 'Seck', 'Niang', 'Ba'],
  },
  GM: {
    belfiore: 'Z317', weight: 4, femaleShare: 0.1, permits: 'asylum',
    male: ['Lamin', 'Ebrima', 'Modou', 'Alieu', 'Omar', 'Musa', 'Ousman', 'Bakary', 'Sainey', 'Momodou', 'Kebba', 'Yusupha'],
    female: ['Isatou', 'Fatoumata', 'Mariama', 'Haddy', 'Binta', 'Awa', 'Ndey', 'Kaddy', 'Jainaba', 'Sainabou'],
    surnames: ['Jallow', 'Ceesay', 'Touray', 'Sanneh', 'Bojang', 'Darboe', 'Jammeh', 'Njie', 'Sowe', 'Camara', 'Bah', 'Manneh', 'Jobe', 'Drammeh'],
  },
  ML: {
    belfiore: 'Z329', weight: 4, femaleShare: 0.08, permits: 'asylum',
    male: ['Boubacar', 'Souleymane', 'Adama', 'Seydou', 'Mahamadou', 'Oumar', 'Bakary', 'Sékou', 'Drissa', 'Moussa', 'Amadou', 'Modibo'],
    female: ['Oumou', 'Aïssata', 'Kadiatou', 'Fanta', 'Rokia', 'Djénéba', 'Mariam', 'Assitan', 'Salimata', 'Hawa'],
    surnames: ['Traoré', 'Keïta', 'Coulibaly', 'Diarra', 'Koné', 'Sangaré', 'Touré', 'Dembélé', 'Konaté', 'Sissoko', 'Doumbia', 'Maïga', 'Diakité'],
  },
  GN: {
    belfiore: 'Z319', weight: 5, femaleShare: 0.15, permits: 'asylum',
    male: ['Alpha', 'Mamadou', 'Ibrahima', 'Thierno', 'Sékou', 'Oumar', 'Amadou', 'Lansana', 'Mohamed', 'Abdoulaye', 'Souleymane', 'Naby'],
    female: ['Fatoumata', 'Mariama', 'Kadiatou', 'Hadja', 'Aïssatou', 'Djénabou', 'Oumou', 'Fanta', "M'Balou", 'Nènè'],
    surnames: ['Diallo', 'Bah', 'Barry', 'Camara', 'Sylla', 'Soumah', 'Condé', 'Bangoura', 'Baldé', 'Kourouma', 'Keïta', 'Touré', 'Sow'],
  },
  CI: {
    belfiore: 'Z313', weight: 5, femaleShare: 0.3, permits: 'asylum',
    male: ['Kouadio', 'Yao', 'Koffi', 'Konan', 'Kouamé', 'Serge', 'Arsène', 'Ismaël', 'Brice', 'Hervé', 'Yannick', 'Didier'],
    female: ['Adjoua', 'Amenan', 'Affoué', 'Akissi', 'Aya', 'Ahou', 'Clarisse', 'Ange', 'Josiane', 'Bintou', 'Nadège'],
    surnames: ['Kouassi', "N'Guessan", 'Kouamé', 'Koné', 'Ouattara', 'Yao', 'Konan', 'Bamba', 'Traoré', 'Koffi', "N'Dri", 'Touré', 'Diabaté', 'Aka'],
  },
  BD: {
    belfiore: 'Z249', weight: 10, femaleShare: 0.12, permits: 'asylum',
    male: ['Mohammad', 'Rahim', 'Karim', 'Abdul', 'Sohel', 'Rakib', 'Shafiqul', 'Habibur', 'Mizanur', 'Jahid', 'Rashed', 'Tanvir', 'Shahidul', 'Mamun'],
    female: ['Fatema', 'Nusrat', 'Shirin', 'Sumaiya', 'Taslima', 'Rokeya', 'Jannatul', 'Nasrin', 'Sharmin', 'Rupa'],
    surnames: ['Rahman', 'Hossain', 'Islam', 'Uddin', 'Ahmed', 'Akter', 'Chowdhury', 'Miah', 'Sarker', 'Khan', 'Alam', 'Haque', 'Mollah', 'Begum'],
  },
  PK: {
    belfiore: 'Z236', weight: 7, femaleShare: 0.1, permits: 'asylum',
    male: ['Muhammad', 'Ali', 'Imran', 'Usman', 'Bilal', 'Asif', 'Zeeshan', 'Kashif', 'Waqas', 'Faisal', 'Hamza', 'Tariq'],
    female: ['Ayesha', 'Fatima', 'Sana', 'Hina', 'Sadia', 'Rabia', 'Nadia', 'Saima', 'Amna', 'Zainab'],
    surnames: ['Khan', 'Ahmed', 'Hussain', 'Ali', 'Butt', 'Malik', 'Iqbal', 'Shah', 'Raza', 'Chaudhry', 'Qureshi', 'Javed', 'Akhtar', 'Abbasi'],
  },
  AF: {
    belfiore: 'Z200', weight: 5, femaleShare: 0.3, permits: 'refugee',
    male: ['Ahmad', 'Mohammad', 'Abdul', 'Farid', 'Jawad', 'Naveed', 'Rahmatullah', 'Sayed', 'Hamid', 'Mustafa', 'Nasir', 'Zabihullah'],
    female: ['Mariam', 'Zahra', 'Fatima', 'Habiba', 'Nargis', 'Shabnam', 'Parwana', 'Soraya', 'Farzana', 'Laila'],
    surnames: ['Ahmadi', 'Hakimi', 'Rahimi', 'Popal', 'Karimi', 'Sultani', 'Noori', 'Hashimi', 'Amiri', 'Stanekzai', 'Safi', 'Wardak', 'Mohammadi', 'Haidari'],
  },
  UA: {
    belfiore: 'Z138', weight: 10, femaleShare: 0.72, permits: 'temporary',
    male: ['Oleksandr', 'Andrii', 'Serhii', 'Dmytro', 'Mykola', 'Volodymyr', 'Yurii', 'Ivan', 'Bohdan', 'Taras', 'Vasyl', 'Maksym'],
    female: ['Olena', 'Nataliia', 'Oksana', 'Tetiana', 'Iryna', 'Yuliia', 'Svitlana', 'Kateryna', 'Halyna', 'Liudmyla', 'Anastasiia', 'Mariia'],
    surnames: ['Shevchenko', 'Kovalenko', 'Bondarenko', 'Tkachenko', 'Kravchenko', 'Boiko', 'Melnyk', 'Oliinyk', 'Kovalchuk', 'Polishchuk', 'Moroz', 'Lysenko', 'Savchenko', 'Marchenko'],
  },
  MA: {
    belfiore: 'Z330', weight: 7, femaleShare: 0.3, permits: 'economic',
    male: ['Mohamed', 'Youssef', 'Hamza', 'Rachid', 'Abdelaziz', 'Mustapha', 'Khalid', 'Said', 'Hicham', 'Omar', 'Brahim', 'Ayoub'],
    female: ['Fatima Zahra', 'Khadija', 'Naima', 'Samira', 'Latifa', 'Hanane', 'Salma', 'Imane', 'Meryem', 'Zineb'],
    surnames: ['El Amrani', 'Benali', 'Alaoui', 'El Idrissi', 'Bennani', 'Ouahbi', 'Tazi', 'Chraibi', 'El Fassi', 'Berrada', 'Aït Ben Ali', 'Lahlou', 'Ziani', 'El Khatib'],
  },
  TN: {
    belfiore: 'Z352', weight: 7, femaleShare: 0.15, permits: 'asylum',
    male: ['Mohamed Amine', 'Ahmed', 'Walid', 'Sami', 'Karim', 'Anis', 'Bilel', 'Houssem', 'Nizar', 'Yassine', 'Aymen', 'Oussama'],
    female: ['Amira', 'Sana', 'Rim', 'Ines', 'Mariem', 'Hela', 'Nour', 'Olfa', 'Asma', 'Yosra'],
    surnames: ['Ben Salah', 'Trabelsi', 'Gharbi', 'Jlassi', 'Ben Ammar', 'Mejri', 'Ayari', 'Hammami', 'Sassi', 'Chaabane', 'Dridi', 'Bouazizi', 'Ben Youssef'],
  },
  EG: {
    belfiore: 'Z336', weight: 6, femaleShare: 0.12, permits: 'asylum',
    male: ['Ahmed', 'Mahmoud', 'Mostafa', 'Ibrahim', 'Khaled', 'Tarek', 'Hossam', 'Amr', 'Karim', 'Sherif', 'Ashraf', 'Walid'],
    female: ['Mona', 'Nour', 'Heba', 'Rania', 'Dina', 'Yasmin', 'Aya', 'Mariam', 'Shaimaa', 'Nesma'],
    surnames: ['Abdel Rahman', 'El Sayed', 'Hassan', 'Mahmoud', 'Farouk', 'Mansour', 'Soliman', 'Abdel Aziz', 'Fathy', 'Said', 'Gaber', 'Ramadan', 'Ezzat', 'Shehata'],
  },
  ER: {
    belfiore: 'Z368', weight: 2, femaleShare: 0.35, permits: 'refugee',
    male: ['Tesfay', 'Yonas', 'Merhawi', 'Berhane', 'Dawit', 'Filmon', 'Habtom', 'Kidane', 'Mussie', 'Samuel', 'Yohannes', 'Henok'],
    female: ['Helen', 'Senait', 'Selam', 'Rahel', 'Lidia', 'Mebrat', 'Yordanos', 'Winta', 'Saba', 'Almaz', 'Tsega'],
    surnames: ['Tesfamariam', 'Ghebremedhin', 'Habte', 'Tekle', 'Woldemichael', 'Kidane', 'Berhe', 'Asmerom', 'Haile', 'Mehari', 'Gebreyesus', 'Andemariam', 'Tewelde'],
  },
  SO: {
    belfiore: 'Z345', weight: 2, femaleShare: 0.35, permits: 'refugee',
    male: ['Abdirahman', 'Abdullahi', 'Mohamed', 'Ahmed', 'Hassan', 'Abdikarim', 'Mahad', 'Omar', 'Yusuf', 'Liban', 'Abdiaziz', 'Farah'],
    female: ['Hodan', 'Fadumo', 'Amina', 'Sahra', 'Halima', 'Ifrah', 'Ayaan', 'Hibo', 'Nasra', 'Deeqa', 'Maryan'],
    surnames: ['Abdi', 'Warsame', 'Hassan', 'Farah', 'Mohamud', 'Ali', 'Osman', 'Jama', 'Aden', 'Nur', 'Hirsi', 'Egal', 'Yusuf', 'Ismail'],
  },
  SD: {
    belfiore: 'Z348', weight: 3, femaleShare: 0.1, permits: 'refugee',
    male: ['Mohamed', 'Ahmed', 'Osman', 'Abdelrahman', 'Musa', 'Adam', 'Hamid', 'Ibrahim', 'Yahya', 'Khalid', 'Elfatih', 'Mubarak'],
    female: ['Amna', 'Fatima', 'Hawa', 'Mariam', 'Samah', 'Hadia', 'Sara', 'Malaz', 'Rayan', 'Tasneem'],
    surnames: ['Abdalla', 'Osman', 'Elhassan', 'Mohamed Ali', 'Adam', 'Babiker', 'Abakar', 'Ishag', 'Ahmed', 'Elnour', 'Hamid', 'Idris', 'Suleiman', 'Yousif'],
  },
  AL: {
    belfiore: 'Z100', weight: 3, femaleShare: 0.45, permits: 'economic',
    male: ['Arben', 'Ilir', 'Gentian', 'Ermal', 'Dritan', 'Besnik', 'Erion', 'Klodian', 'Fatmir', 'Artan', 'Mirel', 'Endrit'],
    female: ['Elira', 'Anisa', 'Blerina', 'Mirela', 'Jonida', 'Ledia', 'Eriona', 'Brunilda', 'Valbona', 'Klea', 'Dorina', 'Ërjona'],
    surnames: ['Hoxha', 'Shehu', 'Çela', 'Gashi', 'Krasniqi', 'Dervishi', 'Leka', 'Kola', 'Prifti', 'Bregu', 'Meta', 'Hysa', 'Shkreli', 'Gjoka'],
  },
  PE: {
    belfiore: 'Z611', weight: 3, femaleShare: 0.6, permits: 'economic', doubleSurname: true,
    male: ['José Luis', 'Juan Carlos', 'Luis Alberto', 'Jorge', 'Carlos', 'Miguel Ángel', 'César', 'Víctor', 'Wilmer', 'Edwin', 'Jhon', 'Renzo'],
    female: ['María Elena', 'Rosa', 'Ana María', 'Milagros', 'Yesenia', 'Gladys', 'Lucía', 'Carmen Rosa', 'Flor', 'Maritza', 'Rocío', 'Yolanda'],
    surnames: ['Quispe', 'Flores', 'Huamán', 'Mamani', 'Rojas', 'Sánchez', 'García', 'Chávez', 'Ramírez', 'Torres', 'Mendoza', 'Vásquez', 'Gutiérrez', 'Condori', 'Cárdenas'],
  },
  SY: {
    belfiore: 'Z240', weight: 2, femaleShare: 0.4, permits: 'refugee',
    male: ['Mohammad', 'Ahmad', 'Omar', 'Khaled', 'Yazan', 'Hussam', 'Mahmoud', 'Rami', 'Bassel', 'Firas', 'Anas', 'Wael'],
    female: ['Rasha', 'Lina', 'Rana', 'Hala', 'Reem', 'Noor', 'Dima', 'Raghad', 'Hiba', 'Bushra'],
    surnames: ['Al-Hassan', 'Haddad', 'Al-Khatib', 'Khoury', 'Al-Ahmad', 'Darwish', 'Al-Masri', 'Hamdan', 'Al-Ali', 'Sabbagh', 'Qassem', 'Al-Halabi', 'Shami', 'Nasser'],
  },
  GE: {
    belfiore: 'Z254', weight: 2, femaleShare: 0.55, permits: 'economic',
    male: ['Giorgi', 'Levan', 'Davit', 'Irakli', 'Zurab', 'Nika', 'Luka', 'Tornike', 'Lasha', 'Giga', 'Vakhtang', 'Shota'],
    female: ['Nino', 'Tamar', 'Mariam', 'Ketevan', 'Natia', 'Salome', 'Eka', 'Maia', 'Nana', 'Tamta', 'Lela', 'Sopho'],
    surnames: ['Beridze', 'Kapanadze', 'Gelashvili', 'Maisuradze', 'Giorgadze', 'Lomidze', 'Tsiklauri', 'Bolkvadze', 'Kvaratskhelia', 'Nozadze', 'Abashidze', 'Chkheidze', 'Japaridze', 'Khutsishvili'],
  },
};

/** Belfiore codes of the countries of birth the generator uses (ISO alpha-2 → Z-code). */
export const birthCountryCodes: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(COUNTRIES).map(([iso, c]) => [iso, c.belfiore]),
);
const COUNTRY_WEIGHTS: Record<string, number> = Object.fromEntries(
  Object.entries(COUNTRIES).map(([iso, c]) => [iso, c.weight]),
);

// ---------------------------------------------------------------------------
// Fiscal code (codice fiscale) of a person born abroad
// ---------------------------------------------------------------------------

/** Month letters of the fiscal code, January to December. */
const MONTH_LETTERS = 'ABCDEHLMPRST';

/** Letters of a name as the fiscal code reads them: accents dropped, apostrophes, spaces and hyphens removed. */
function fiscalLetters(name: string): string {
  return name.normalize('NFD').toUpperCase().replace(/[^A-Z]/g, '');
}
function splitLetters(name: string): { consonants: string; vowels: string } {
  const letters = fiscalLetters(name);
  return { consonants: letters.replace(/[AEIOU]/g, ''), vowels: letters.replace(/[^AEIOU]/g, '') };
}
/** Surname part: consonants, then vowels, then X, first three. */
function surnameCode(surname: string): string {
  const { consonants, vowels } = splitLetters(surname);
  return `${consonants}${vowels}XXX`.slice(0, 3);
}
/** Given-name part: with four or more consonants the 1st, 3rd and 4th; otherwise as the surname. */
function givenNameCode(givenName: string): string {
  const { consonants, vowels } = splitLetters(givenName);
  if (consonants.length >= 4) return `${consonants[0]}${consonants[2]}${consonants[3]}`;
  return `${consonants}${vowels}XXX`.slice(0, 3);
}

/**
 * The fiscal code of a person born abroad, built the way the Agenzia delle
 * Entrate does: surname and name letters, birth year (2 digits), month letter,
 * day of birth (+40 for women), the Belfiore Z-code of the birth country, and
 * the check character. `birthDate` is ISO `yyyy-mm-dd`.
 */
export function buildFiscalCode(person: {
  givenName: string;
  familyName: string;
  sex: Sex;
  birthDate: string;
  belfiore: string;
}): string {
  const [year, month, day] = person.birthDate.split('-').map(Number) as [number, number, number];
  const first15 =
    surnameCode(person.familyName) +
    givenNameCode(person.givenName) +
    pad(year % 100, 2) +
    MONTH_LETTERS[month - 1] +
    pad(person.sex === 'FEMALE' ? day + 40 : day, 2) +
    person.belfiore;
  return first15 + fiscalCodeCheckChar(first15);
}

// ---------------------------------------------------------------------------
// Persons and their stays in cities
// ---------------------------------------------------------------------------

interface Person {
  /** Order of creation: breaks ties when sorting, so sorts are deterministic. */
  index: number;
  givenName: string;
  familyName: string;
  sex: Sex;
  birthDay: number;
  citizenship: string;
  fiscalCode: string;
  vulnerabilities: Vulnerability[];
}

/** One person taken in charge by one city: becomes one beneficiary record. */
interface Stay {
  person: Person;
  intakeDay: number;
  channel: IntakeChannel;
  status: IntakeStatus;
  /** Day the case was closed (null while ACTIVE): every enrolment and placement ends by then. */
  closedDay: number | null;
  permit: PermitType;
  /** The city's last active day: nothing of the stay (enrolment, signature, placement) starts later. */
  lastStartDay: number;
}

const VULNERABILITY_ORDER: readonly Vulnerability[] = [
  'PHYSICAL_HEALTH', 'MENTAL_HEALTH', 'HOMELESSNESS', 'GENDER_VIOLENCE',
  'TRAFFICKING', 'SINGLE_PARENT', 'DISABILITY', 'PREGNANCY',
];
const VULNERABILITY_WEIGHTS: Record<Sex, Record<Vulnerability, number>> = {
  FEMALE: {
    PHYSICAL_HEALTH: 15, MENTAL_HEALTH: 12, HOMELESSNESS: 10, GENDER_VIOLENCE: 20,
    TRAFFICKING: 8, SINGLE_PARENT: 18, DISABILITY: 5, PREGNANCY: 10,
  },
  MALE: {
    PHYSICAL_HEALTH: 25, MENTAL_HEALTH: 22, HOMELESSNESS: 35, GENDER_VIOLENCE: 1,
    TRAFFICKING: 5, SINGLE_PARENT: 3, DISABILITY: 9, PREGNANCY: 0,
  },
};

function drawVulnerabilities(rng: Rng, sex: Sex, citizenship: string): Vulnerability[] {
  const count = Number(weighted(rng, { '0': 40, '1': 35, '2': 18, '3': 7 }));
  const weights = { ...VULNERABILITY_WEIGHTS[sex] };
  // Nigerian women are the largest group of trafficking victims identified in Italy.
  if (sex === 'FEMALE' && citizenship === 'NG') weights.TRAFFICKING += 25;
  const chosen = new Set(weightedDistinct(rng, VULNERABILITY_ORDER, (v) => weights[v], count));
  return VULNERABILITY_ORDER.filter((v) => chosen.has(v));
}

/**
 * Intake day among the city's active days within [earliest, latest], skewed
 * towards recent years (the programme grew from one edition to the next): the
 * mean of a uniform and its square root, laid over those days end to end.
 * Null, without drawing, when there is no such day.
 */
function drawIntakeDay(rng: Rng, ranges: DayRanges, earliest: number, latest: number): number | null {
  const clipped: [number, number][] = [];
  let total = 0;
  for (const [first, last] of ranges) {
    const a = Math.max(first, earliest);
    const b = Math.min(last, latest);
    if (a > b) continue;
    clipped.push([a, b]);
    total += b - a + 1;
  }
  if (total === 0) return null;
  const r = rng();
  const u = (r + Math.sqrt(r)) / 2;
  let k = Math.floor(u * total);
  for (const [a, b] of clipped) {
    if (k <= b - a) return a + k;
    k -= b - a + 1;
  }
  return clipped[clipped.length - 1]![1];
}

/** Status of a case opened on `intakeDay`: recent cases are mostly open, old ones mostly closed. */
function drawStatus(rng: Rng, intakeDay: number): { status: IntakeStatus; closedDay: number | null } {
  const monthsAgo = (REFERENCE_DAY - intakeDay) / DAYS_PER_MONTH;
  const activeProbability = clamp(0.92 - 0.0135 * monthsAgo, 0.12, 0.92);
  if (chance(rng, activeProbability)) return { status: 'ACTIVE', closedDay: null };
  const status = weighted(rng, { CLOSED_AUTONOMY: 50, TRANSFERRED: 20, DROPPED_OUT: 30 });
  // Cases last from about six weeks to two and a half years.
  return { status, closedDay: Math.min(intakeDay + int(rng, 45, 900), LAST_DAY) };
}

function drawChannel(rng: Rng): IntakeChannel {
  return weighted(rng, { ONE_STOP_SHOP: 55, MOBILE_UNIT: 25, REFERRAL: 20 });
}

/** Creates persons with fiscal codes unique across the whole population. */
class PersonFactory {
  #rng: Rng;
  #usedCodes = new Set<string>();
  #count = 0;

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  /** A new person of a random country, adult at `intakeDay` (their first intake). */
  create(intakeCountry: string, intakeDay: number): Person {
    const rng = this.#rng;
    const country = COUNTRIES[intakeCountry]!;
    const sex: Sex = chance(rng, country.femaleShare) ? 'FEMALE' : 'MALE';
    const vulnerabilities = drawVulnerabilities(rng, sex, intakeCountry);
    // Age at intake: 18 to 65, most people in their twenties and thirties (median about 30).
    const r = rng();
    const ageYears = 18 + Math.floor(48 * r * r);
    let names = this.#drawNames(country, sex);
    for (let attempt = 1; ; attempt++) {
      // Whole years plus 2 to 364 days: always at least 18 years before intake.
      const birthDay = intakeDay - Math.floor(ageYears * DAYS_PER_YEAR) - int(rng, 2, 364);
      const fiscalCode = buildFiscalCode({
        givenName: names.givenName,
        familyName: names.familyName,
        sex,
        birthDate: isoOf(birthDay),
        belfiore: country.belfiore,
      });
      if (this.#usedCodes.has(fiscalCode)) {
        // Taken (a namesake born on the same day): another birthday, and every fourth try other names.
        if (attempt % 4 === 0) names = this.#drawNames(country, sex);
        continue;
      }
      this.#usedCodes.add(fiscalCode);
      return {
        index: this.#count++,
        ...names,
        sex,
        birthDay,
        citizenship: intakeCountry,
        fiscalCode,
        vulnerabilities,
      };
    }
  }

  #drawNames(country: Country, sex: Sex): { givenName: string; familyName: string } {
    const rng = this.#rng;
    const givenName = pick(rng, sex === 'FEMALE' ? country.female : country.male);
    let familyName = pick(rng, country.surnames);
    if (country.doubleSurname && chance(rng, 0.7)) {
      const second = pick(rng, country.surnames);
      if (second !== familyName) familyName = `${familyName} ${second}`;
    }
    return { givenName, familyName };
  }
}

function drawPermit(rng: Rng, citizenship: string): PermitType {
  return weighted(rng, PERMIT_WEIGHTS[COUNTRIES[citizenship]!.permits] as Record<PermitType, number>);
}

/** Earliest intake for people of a country: Ukrainians arrive with temporary protection from March 2022. */
function earliestIntake(citizenship: string): number {
  return COUNTRIES[citizenship]!.permits === 'temporary' ? TEMPORARY_PROTECTION_START : FIRST_INTAKE;
}

// ---------------------------------------------------------------------------
// Spreading people over cities
// ---------------------------------------------------------------------------

/**
 * Splits `total` over the weights (largest remainder, ties to the first city),
 * then lifts every eligible city to `minimum` by taking from the largest ones.
 */
function allocate(total: number, weights: readonly number[], minimum: number, eligible: readonly boolean[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, i) => ({ i, rest: x - Math.floor(x) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    counts[i]!++;
  }
  for (let i = 0; i < counts.length; i++) {
    while (eligible[i] && counts[i]! < minimum) {
      let largest = 0;
      for (let j = 1; j < counts.length; j++) if (counts[j]! > counts[largest]!) largest = j;
      if (counts[largest]! <= minimum) break;
      counts[largest]!--;
      counts[i]!++;
    }
  }
  return counts;
}

/**
 * A city other than `exclude` that takes people in on `day`, with probability
 * proportional to its weight; -1, without drawing, when there is none.
 */
function otherCityActiveOn(rng: Rng, weights: readonly number[], ranges: readonly DayRanges[], exclude: number, day: number): number {
  const open: number[] = [];
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    if (i === exclude || !(weights[i]! > 0) || !isActiveOn(ranges[i]!, day)) continue;
    open.push(i);
    total += weights[i]!;
  }
  if (open.length === 0) return -1;
  let r = rng() * total;
  for (const i of open) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return open[open.length - 1]!;
}

// ---------------------------------------------------------------------------
// Local ids: each city's own style
// ---------------------------------------------------------------------------

type IdEntity = 'beneficiary' | 'service' | 'enrollment' | 'civicProject' | 'housingResource' | 'placement';

/** Per entity: one letter (for compact styles) and a short Italian tag. */
const ENTITY_TAGS: Record<IdEntity, { letter: string; short: string }> = {
  beneficiary: { letter: 'A', short: 'BEN' }, // assistito / beneficiario
  service: { letter: 'S', short: 'SRV' }, // servizio
  enrollment: { letter: 'I', short: 'ISC' }, // iscrizione
  civicProject: { letter: 'P', short: 'PIC' }, // progetto di impegno civico
  housingResource: { letter: 'R', short: 'ALL' }, // risorsa / alloggio
  placement: { letter: 'N', short: 'INS' }, // inserimento
};

/**
 * How a city's system numbers its records. `tag` is the city's own prefix
 * (its province abbreviation) where the style has one, so that no two cities
 * produce the same beneficiary id.
 */
type IdStyle =
  | { kind: 'letter' } // A000123
  | { kind: 'integer' } // 17 (auto-increment)
  | { kind: 'uuid' } // 3f2c9a1e-...-...
  | { kind: 'slash' } // BEN/0099
  | { kind: 'yearSlash' } // 2023/000456
  | { kind: 'cartella' } // CS-000123 (cartella sociale)
  | { kind: 'provinceYear'; tag: string } // PA-2023-0042
  | { kind: 'dotted'; tag: string }; // GE.A.000123

const CITY_ID_STYLES: Record<string, IdStyle> = {
  '001272': { kind: 'letter' }, // Torino
  '007003': { kind: 'dotted', tag: 'AO' },
  '015146': { kind: 'uuid' }, // Milano
  '021008': { kind: 'dotted', tag: 'BZ' },
  '027042': { kind: 'provinceYear', tag: 'VE' },
  '032006': { kind: 'dotted', tag: 'TS' },
  '010025': { kind: 'dotted', tag: 'GE' },
  '037006': { kind: 'cartella' }, // Bologna
  '048017': { kind: 'provinceYear', tag: 'FI' },
  '054039': { kind: 'provinceYear', tag: 'PG' },
  '058091': { kind: 'yearSlash' }, // Roma
  '059011': { kind: 'provinceYear', tag: 'LT' },
  '070006': { kind: 'integer' }, // Campobasso
  '061022': { kind: 'provinceYear', tag: 'CE' },
  '063049': { kind: 'provinceYear', tag: 'NA' },
  '072006': { kind: 'slash' }, // Bari
  '073027': { kind: 'dotted', tag: 'TA' },
  '076063': { kind: 'provinceYear', tag: 'PZ' },
  '079023': { kind: 'dotted', tag: 'CZ' },
  '082053': { kind: 'provinceYear', tag: 'PA' },
  '084001': { kind: 'provinceYear', tag: 'AG' },
  '087015': { kind: 'dotted', tag: 'CT' },
  '090064': { kind: 'provinceYear', tag: 'SS' },
  '092009': { kind: 'dotted', tag: 'CA' },
};

/** Hands out a city's local ids: sequences per entity, and per entity and year for year-based styles. */
class IdFactory {
  #style: IdStyle;
  #rng: Rng;
  #sequences = new Map<string, number>();
  #usedUuids = new Set<string>();

  constructor(city: string, rng: Rng) {
    // Cities outside the LGNet list get a dotted style with their ISTAT code as prefix.
    this.#style = CITY_ID_STYLES[city] ?? { kind: 'dotted', tag: `C${city}` };
    this.#rng = rng;
  }

  /** The next id of `entity`; `year` is the year of the record's main date (null for catalogue items). */
  next(entity: IdEntity, year: number | null): string {
    const { letter, short } = ENTITY_TAGS[entity];
    const seq = this.#bump(entity);
    const style = this.#style;
    switch (style.kind) {
      case 'letter':
        return `${letter}${pad(seq, 6)}`;
      case 'integer':
        return String(seq);
      case 'uuid':
        return this.#uuid();
      case 'slash':
        return `${short}/${pad(seq, 4)}`;
      case 'cartella':
        return entity === 'beneficiary' ? `CS-${pad(seq, 6)}` : `${short}-${pad(seq, 6)}`;
      case 'dotted':
        return `${style.tag}.${letter}.${pad(seq, 6)}`;
      case 'yearSlash':
        if (year === null) return `${short}/${seq}`;
        return entity === 'beneficiary'
          ? `${year}/${pad(this.#bump(`${entity}/${year}`), 6)}`
          : `${short}/${year}/${pad(this.#bump(`${entity}/${year}`), 5)}`;
      case 'provinceYear':
        if (year === null) return `${style.tag}-${short}-${pad(seq, 2)}`;
        return entity === 'beneficiary'
          ? `${style.tag}-${year}-${pad(this.#bump(`${entity}/${year}`), 4)}`
          : `${style.tag}-${short}-${year}-${pad(this.#bump(`${entity}/${year}`), 4)}`;
    }
  }

  #bump(key: string): number {
    const n = (this.#sequences.get(key) ?? 0) + 1;
    this.#sequences.set(key, n);
    return n;
  }

  /** A version-4-shaped UUID from the PRNG (redrawn in the astronomically unlikely case of a repeat). */
  #uuid(): string {
    for (;;) {
      let hex = '';
      for (let i = 0; i < 4; i++) hex += Math.floor(this.#rng() * 0x1_0000_0000).toString(16).padStart(8, '0');
      const variant = '89ab'[parseInt(hex[16]!, 16) & 3]!;
      const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20)}`;
      if (!this.#usedUuids.has(uuid)) {
        this.#usedUuids.add(uuid);
        return uuid;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Catalogues: services and housing resources
// ---------------------------------------------------------------------------

const SERVICE_NAMES: Record<ServiceCategory, readonly string[]> = {
  ONE_STOP_SHOP: [
    'Sportello Unico Sociosanitario', 'Punto Unico di Accesso per cittadini stranieri',
    'Sportello Unico Immigrazione e Inclusione', 'Sportello Multifunzionale LGNet',
  ],
  MOBILE_UNIT: ['Unità mobile sociosanitaria', 'Unità di strada', 'Camper di prossimità'],
  LANGUAGE_COURSE: [
    'Corso di italiano L2 – livello A1', 'Corso di italiano L2 – livello A2',
    'Corso di italiano L2 – livello B1', 'Alfabetizzazione in lingua italiana (pre-A1)',
  ],
  WORKSHOP: [
    'Laboratorio di sartoria', 'Laboratorio di cucina interculturale', 'Laboratorio di falegnameria',
    'Laboratorio di orticoltura urbana', 'Laboratorio di informatica di base',
  ],
  CIVIC_ENGAGEMENT: ['Progetti di impegno civico', 'Cittadinanza attiva e beni comuni', 'Volontariato di quartiere'],
  CIVIC_ORIENTATION: ['Orientamento civico – Vivere in Italia', 'Educazione civica, diritti e doveri'],
  JOB_GUIDANCE: ['Orientamento al lavoro', 'Bilancio di competenze', "Tirocini d'inclusione"],
  MEETING_SPACE: ['Safe Space donne e minori', "Spazio d'incontro interculturale", 'Centro diurno «La Casa di tutti»'],
  PSYCHOSOCIAL_SUPPORT: ['Supporto psicosociale ed etnopsichiatria', "Sportello d'ascolto psicologico"],
  LEGAL_ADVICE: ['Consulenza legale – protezione internazionale', 'Sportello legale diritti e permessi'],
};

/** Categories every city offers: the LGNet core (access, outreach, Italian, workshops, civic engagement). */
const CORE_CATEGORIES: readonly ServiceCategory[] = [
  'ONE_STOP_SHOP', 'MOBILE_UNIT', 'LANGUAGE_COURSE', 'WORKSHOP', 'CIVIC_ENGAGEMENT',
];

interface CityService {
  record: Service;
  category: ServiceCategory;
}

/**
 * A city's catalogue: 6 to 14 services, more in bigger cities. Cities with at
 * least 7% of the programme run two street units (north and south).
 */
function buildServices(rng: Rng, ids: IdFactory, city: string, sizeRatio: number, weight: number): CityService[] {
  const used = new Set<string>();
  const chosen: { category: ServiceCategory; name: string }[] = [];
  const take = (category: ServiceCategory, name: string) => {
    used.add(name);
    chosen.push({ category, name });
  };
  for (const category of CORE_CATEGORIES) {
    if (category === 'MOBILE_UNIT' && weight >= 7) {
      take(category, 'Unità di strada Nord');
      take(category, 'Unità di strada Sud');
    } else {
      take(category, pick(rng, SERVICE_NAMES[category]));
    }
  }
  const target = clamp(6 + Math.round(6 * sizeRatio) + int(rng, 0, 2), 6, 14);
  // Extras from every category but access and outreach, which stay fixed.
  const extras = (Object.keys(SERVICE_NAMES) as ServiceCategory[])
    .filter((c) => c !== 'ONE_STOP_SHOP' && c !== 'MOBILE_UNIT')
    .flatMap((category) => SERVICE_NAMES[category].map((name) => ({ category, name })))
    .filter((s) => !used.has(s.name));
  for (const s of weightedDistinct(rng, extras, () => 1, target - chosen.length)) take(s.category, s.name);
  return chosen.map(({ category, name }) => ({
    category,
    record: { localId: ids.next('service', null), city, name, category },
  }));
}

const HOUSING_NAMES: Record<HousingKind, readonly string[]> = {
  PROTECTED_SHELTER: [
    'Rifugio protetto Casa Aurora', 'Rifugio protetto «Le Ginestre»', 'Rifugio protetto Casa delle Donne',
    'Rifugio protetto Il Melograno', 'Rifugio protetto Casa Iris', 'Rifugio protetto La Ginestra',
  ],
  SOLIDARITY_COHOUSING: [
    'Co-abitazione solidale Via Garibaldi', 'Co-abitazione solidale Casa Comune',
    "Co-abitazione solidale Corte dell'Ulivo", 'Co-abitazione solidale San Lorenzo',
    'Co-abitazione solidale Villaggio Aperto', 'Co-abitazione solidale Il Cortile',
  ],
  SEMI_AUTONOMY_FLAT: [
    'Appartamento di semi-autonomia Borgo Vecchio', 'Appartamento di semi-autonomia Via Roma 12',
    'Appartamenti di semi-autonomia Ponte Nuovo', 'Appartamento di semi-autonomia Casa Ponte',
    'Appartamento di semi-autonomia Via dei Mille', 'Appartamento di semi-autonomia Le Querce',
  ],
  RENT_SUPPORT: [
    "Sostegno all'affitto – Fondo LGNet", "Contributo all'affitto – Bando casa 2023",
    "Sostegno all'affitto – Agenzia sociale per la casa", "Contributo all'affitto – Bando casa 2025",
  ],
};

/**
 * Minimum places of each kind of resource at scale 1, even when nobody is
 * placed there today: a shelter has a few rooms, rent support a yearly budget
 * for a few households.
 */
const MIN_PLACES: Record<HousingKind, readonly [number, number]> = {
  PROTECTED_SHELTER: [4, 8],
  SOLIDARITY_COHOUSING: [4, 10],
  SEMI_AUTONOMY_FLAT: [2, 6],
  RENT_SUPPORT: [5, 15],
};

interface CityResource {
  localId: string;
  name: string;
  kind: HousingKind;
  /** Places at scale 1 when empty, see MIN_PLACES; also the weight for choosing it among its kind. */
  minPlaces: number;
}

/**
 * 3 to 12 housing resources, more in bigger cities. Every city has at least a
 * protected shelter, a solidarity co-housing and a semi-autonomy flat, the
 * fourth is rent support, the rest are drawn.
 */
function buildHousing(rng: Rng, ids: IdFactory, sizeRatio: number): CityResource[] {
  const count = clamp(3 + Math.round(9 * sizeRatio) - int(rng, 0, 1), 3, 12);
  const kinds: HousingKind[] = ['PROTECTED_SHELTER', 'SOLIDARITY_COHOUSING', 'SEMI_AUTONOMY_FLAT', 'RENT_SUPPORT'];
  while (kinds.length < count) {
    kinds.push(weighted(rng, { PROTECTED_SHELTER: 2, SOLIDARITY_COHOUSING: 3, SEMI_AUTONOMY_FLAT: 3, RENT_SUPPORT: 1 }));
  }
  kinds.length = count;
  const used = new Set<string>();
  return kinds.map((kind) => {
    const free = HOUSING_NAMES[kind].filter((n) => !used.has(n));
    // Should a city ever need more names of a kind than the list holds, number them.
    const name = free.length > 0 ? pick(rng, free) : `${HOUSING_NAMES[kind][0]} ${used.size + 1}`;
    used.add(name);
    const [lo, hi] = MIN_PLACES[kind];
    return { localId: ids.next('housingResource', null), name, kind, minPlaces: int(rng, lo, hi) };
  });
}

// ---------------------------------------------------------------------------
// Activity: enrolments, civic projects, placements
// ---------------------------------------------------------------------------

/** How long a course or activity typically lasts, in days. */
const SERVICE_DAYS: Record<ServiceCategory, readonly [number, number]> = {
  ONE_STOP_SHOP: [30, 720],
  MOBILE_UNIT: [14, 180],
  LANGUAGE_COURSE: [90, 270],
  WORKSHOP: [60, 180],
  CIVIC_ENGAGEMENT: [90, 365],
  CIVIC_ORIENTATION: [14, 60],
  JOB_GUIDANCE: [30, 180],
  MEETING_SPACE: [30, 365],
  PSYCHOSOCIAL_SUPPORT: [60, 365],
  LEGAL_ADVICE: [7, 120],
};

/** How often each kind of service is chosen, before personal needs. */
const SERVICE_POPULARITY: Record<ServiceCategory, number> = {
  ONE_STOP_SHOP: 0,
  MOBILE_UNIT: 0,
  LANGUAGE_COURSE: 30,
  WORKSHOP: 15,
  JOB_GUIDANCE: 15,
  LEGAL_ADVICE: 12,
  CIVIC_ORIENTATION: 10,
  PSYCHOSOCIAL_SUPPORT: 8,
  MEETING_SPACE: 8,
  CIVIC_ENGAGEMENT: 5,
};

/** Last day anything of a stay can run to: its closing day, or the end of the synthetic world. */
function limitOf(stay: Stay): number {
  return stay.closedDay ?? LAST_DAY;
}
/**
 * Last day anything of a stay can start on: within the case, and while the
 * city is in the programme (a city that left it starts no new activity).
 */
function startLimitOf(stay: Stay): number {
  return Math.min(limitOf(stay), stay.lastStartDay);
}
/**
 * End of something that started on `from` and would last `days`: that day if
 * it is within the stay, otherwise the stay's closing day, or null (still
 * running) for an open case.
 */
function endWithin(stay: Stay, from: number, days: number): number | null {
  const end = from + days;
  return end <= limitOf(stay) ? end : stay.closedDay;
}

interface Draft<T> {
  /** Day that orders the records before ids are given (ids grow with dates, as in real systems). */
  sortDay: number;
  record: Omit<T, 'localId'>;
}

function enrolmentsOf(
  rng: Rng,
  stay: Stay,
  beneficiaryId: string,
  city: string,
  services: readonly CityService[],
  withCivicProject: boolean,
): Draft<Enrollment>[] {
  const out: Draft<Enrollment>[] = [];
  const add = (service: CityService, from: number, to: number | null) =>
    out.push({
      sortDay: from,
      record: { city, beneficiaryId, serviceId: service.record.localId, from: isoOf(from), to: to === null ? null : isoOf(to) },
    });

  // Taken in charge through a street unit, or through the one-stop-shop (referrals land there too).
  if (stay.channel === 'MOBILE_UNIT') {
    const unit = pick(rng, services.filter((s) => s.category === 'MOBILE_UNIT'));
    const [lo, hi] = SERVICE_DAYS.MOBILE_UNIT;
    add(unit, stay.intakeDay, endWithin(stay, stay.intakeDay, int(rng, lo, hi)));
  } else {
    const desk = services.find((s) => s.category === 'ONE_STOP_SHOP')!;
    // The one-stop-shop follows the case until it closes.
    add(desk, stay.intakeDay, stay.closedDay);
  }

  // 0 to 3 other services, chosen by popularity and need.
  const { vulnerabilities, sex } = stay.person;
  const need = (s: CityService): number => {
    let w = SERVICE_POPULARITY[s.category];
    if (s.category === 'PSYCHOSOCIAL_SUPPORT' && vulnerabilities.includes('MENTAL_HEALTH')) w += 40;
    if (s.category === 'MEETING_SPACE' && sex === 'FEMALE') w += 15;
    if (s.category === 'LEGAL_ADVICE' && stay.permit === 'ASYLUM_SEEKER') w += 15;
    return w;
  };
  let count = Number(weighted(rng, { '0': 25, '1': 35, '2': 25, '3': 15 }));
  const others = services.filter((s) => s.category !== 'ONE_STOP_SHOP' && s.category !== 'MOBILE_UNIT');
  let chosen = weightedDistinct(rng, others, need, count);
  // Whoever has a civic-engagement project follows the city's civic-engagement service.
  if (withCivicProject && !chosen.some((s) => s.category === 'CIVIC_ENGAGEMENT')) {
    const civic = services.find((s) => s.category === 'CIVIC_ENGAGEMENT')!;
    chosen = [...chosen.slice(0, 2), civic];
  }
  const limit = startLimitOf(stay);
  for (const service of chosen) {
    const from = Math.min(stay.intakeDay + int(rng, 0, 150), limit);
    const [lo, hi] = SERVICE_DAYS[service.category];
    add(service, from, endWithin(stay, from, int(rng, lo, hi)));
  }
  return out;
}

function civicProjectOf(rng: Rng, stay: Stay, beneficiaryId: string, city: string): Draft<CivicProject> | null {
  const limit = startLimitOf(stay);
  let status: CivicProjectStatus;
  if (stay.status === 'ACTIVE') {
    // A project takes a few weeks to agree: cases opened in the last month are still drafts.
    status = LAST_DAY - stay.intakeDay < 30
      ? 'DRAFT'
      : weighted(rng, { SIGNED: 60, COMPLETED: 20, DRAFT: 12, WITHDRAWN: 8 });
  } else if (stay.status === 'CLOSED_AUTONOMY') {
    status = chance(rng, 0.85) ? 'COMPLETED' : 'WITHDRAWN';
  } else if (stay.status === 'TRANSFERRED') {
    status = chance(rng, 0.4) ? 'COMPLETED' : 'WITHDRAWN';
  } else {
    status = chance(rng, 0.8) ? 'WITHDRAWN' : 'COMPLETED';
  }
  let signedDay: number | null = null;
  if (status !== 'DRAFT') {
    // Signed two weeks to eight months after intake, always strictly after it, within the case
    // and while the city is in the programme.
    signedDay = Math.min(stay.intakeDay + int(rng, 14, 240), limit);
    if (signedDay <= stay.intakeDay) {
      if (stay.status !== 'ACTIVE') return null; // a case closed on its first day has no project
      status = 'DRAFT';
      signedDay = null;
    }
  }
  return {
    sortDay: signedDay ?? stay.intakeDay,
    record: { city, beneficiaryId, status, signedOn: signedDay === null ? null : isoOf(signedDay) },
  };
}

/** Where a housing pathway usually leads after each kind of resource. */
const NEXT_KIND: Record<HousingKind, Partial<Record<HousingKind, number>>> = {
  PROTECTED_SHELTER: { SEMI_AUTONOMY_FLAT: 3, SOLIDARITY_COHOUSING: 2 },
  SOLIDARITY_COHOUSING: { SEMI_AUTONOMY_FLAT: 2, RENT_SUPPORT: 2 },
  SEMI_AUTONOMY_FLAT: { RENT_SUPPORT: 3, SOLIDARITY_COHOUSING: 1 },
  RENT_SUPPORT: { RENT_SUPPORT: 1 },
};

/** Probability that a stay includes housing: low by default, high for the people housing measures are for. */
function housingProbability(stay: Stay): number {
  const v = stay.person.vulnerabilities;
  let p = 0.11;
  if (v.includes('HOMELESSNESS')) p += 0.12;
  if (v.includes('GENDER_VIOLENCE') || v.includes('TRAFFICKING')) p += 0.25;
  if (v.includes('SINGLE_PARENT') || v.includes('PREGNANCY')) p += 0.08;
  return Math.min(p, 0.8);
}

function placementsOf(
  rng: Rng,
  stay: Stay,
  beneficiaryId: string,
  city: string,
  resources: readonly CityResource[],
): { resource: CityResource; draft: Draft<Placement> }[] {
  if (!chance(rng, housingProbability(stay))) return [];
  const { vulnerabilities } = stay.person;
  const resourceOf = (kind: HousingKind): CityResource => {
    const ofKind = resources.filter((r) => r.kind === kind);
    const pool = ofKind.length > 0 ? ofKind : resources;
    return weightedDistinct(rng, pool, (r) => r.minPlaces, 1)[0]!;
  };
  // Victims of violence or trafficking go to a protected shelter first.
  const firstKind: HousingKind =
    vulnerabilities.includes('GENDER_VIOLENCE') || vulnerabilities.includes('TRAFFICKING')
      ? 'PROTECTED_SHELTER'
      : weighted(rng, { SOLIDARITY_COHOUSING: 35, SEMI_AUTONOMY_FLAT: 30, RENT_SUPPORT: 20, PROTECTED_SHELTER: 15 });
  const limit = startLimitOf(stay);
  const out: { resource: CityResource; draft: Draft<Placement> }[] = [];
  const add = (resource: CityResource, from: number, to: number | null) =>
    out.push({
      resource,
      draft: {
        sortDay: from,
        record: { city, beneficiaryId, resourceId: resource.localId, from: isoOf(from), to: to === null ? null : isoOf(to) },
      },
    });

  // First placement: within four months of intake, two months to a year and a half.
  const first = resourceOf(firstKind);
  const from1 = Math.min(stay.intakeDay + int(rng, 0, 120), limit);
  const to1 = endWithin(stay, from1, int(rng, 60, 540));
  add(first, from1, to1);
  // About a third move on to a second step of the pathway, up to a month later.
  if (to1 !== null && chance(rng, 0.3)) {
    const from2 = to1 + int(rng, 1, 30);
    if (from2 <= limit) {
      const next = resourceOf(weighted(rng, NEXT_KIND[first.kind] as Record<HousingKind, number>));
      add(next, from2, endWithin(stay, from2, int(rng, 90, 720)));
    }
  }
  return out;
}

/** Gives ids in date order (stable: equal days keep the beneficiaries' order). */
function withIds<T extends { localId: string }>(drafts: Draft<T>[], ids: IdFactory, entity: IdEntity): T[] {
  return drafts
    .sort((a, b) => a.sortDay - b.sortDay)
    .map((d) => ({ localId: ids.next(entity, yearOf(d.sortDay)), ...d.record }) as T);
}

function buildCity(
  seed: number,
  scale: number,
  city: string,
  weight: number,
  maxWeight: number,
  stays: Stay[],
): CityPopulation {
  const ids = new IdFactory(city, makeRng(seed, `ids:${city}`));
  // Catalogues depend on the city's size class only, not on the scale or the people.
  const catalogueRng = makeRng(seed, `catalogue:${city}`);
  const sizeRatio = maxWeight > 0 ? weight / maxWeight : 0;
  const services = buildServices(catalogueRng, ids, city, sizeRatio, weight);
  const resources = buildHousing(catalogueRng, ids, sizeRatio);

  // Beneficiary ids follow the order of intake, as a city's register would.
  stays.sort((a, b) => a.intakeDay - b.intakeDay || a.person.index - b.person.index);
  const rng = makeRng(seed, `activity:${city}`);
  const beneficiaries: SyntheticBeneficiary[] = [];
  const enrolments: Draft<Enrollment>[] = [];
  const projects: Draft<CivicProject>[] = [];
  const placements: Draft<Placement>[] = [];
  const occupancy = new Map<CityResource, number>();
  for (const stay of stays) {
    const p = stay.person;
    const localId = ids.next('beneficiary', yearOf(stay.intakeDay));
    beneficiaries.push({
      localId,
      city,
      fiscalCode: p.fiscalCode,
      givenName: p.givenName,
      familyName: p.familyName,
      sex: p.sex,
      birthDate: isoOf(p.birthDay),
      citizenship: p.citizenship,
      permitType: stay.permit,
      vulnerabilities: [...p.vulnerabilities],
      intake: { date: isoOf(stay.intakeDay), channel: stay.channel, status: stay.status },
    });
    const project = chance(rng, CIVIC_PROJECT_SHARE) ? civicProjectOf(rng, stay, localId, city) : null;
    if (project) projects.push(project);
    enrolments.push(...enrolmentsOf(rng, stay, localId, city, services, project !== null));
    for (const { resource, draft } of placementsOf(rng, stay, localId, city, resources)) {
      placements.push(draft);
      if (draft.record.to === null) occupancy.set(resource, (occupancy.get(resource) ?? 0) + 1);
    }
  }

  // Capacity: the resource's own minimum (times the scale), and always room for
  // today's occupants plus 5-35% spare places and up to two more.
  const housingResources: HousingResource[] = resources.map((r) => {
    const occupied = occupancy.get(r) ?? 0;
    const spare = Math.ceil((occupied * int(catalogueRng, 5, 35)) / 100) + int(catalogueRng, 0, 2);
    const capacity = Math.max(Math.round(r.minPlaces * scale), occupied + spare);
    return { localId: r.localId, city, name: r.name, kind: r.kind, capacity, occupancy: occupied };
  });

  return {
    city,
    beneficiaries,
    services: services.map((s) => s.record),
    enrollments: withIds(enrolments, ids, 'enrollment'),
    civicProjects: withIds(projects, ids, 'civicProject'),
    housingResources,
    placements: withIds(placements, ids, 'placement'),
  };
}

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

/**
 * The synthetic population of the given cities. `options.scale` multiplies the
 * number of persons (9,400 distinct persons at scale 1, plus about 2.5% who
 * are taken in charge again in a second city) and with them every activity
 * record and the housing places; catalogues keep the same size at any scale.
 * Each city takes people in only on the days of its `activePeriods` (all days
 * when it gives none); a city with no such day in the synthetic world takes
 * nobody. A person who leaves a city is taken in again only by a city active
 * on that day, if there is one. The result maps each city code to its
 * records, in the order of `cities`.
 */
export function generatePopulation(
  cities: ReadonlyArray<PopulationCity>,
  options: PopulationOptions,
): Population {
  const { seed, scale } = options;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale must be a positive number, got ${scale}`);
  if (cities.length === 0) return new Map();
  if (new Set(cities.map((c) => c.code)).size !== cities.length) throw new Error('duplicate city code');
  const weights = cities.map((c) => c.weight);
  if (weights.some((w) => !(w >= 0)) || !weights.some((w) => w > 0)) {
    throw new RangeError('city weights must be non-negative, and one at least positive');
  }
  const ranges = cities.map(activeRangesOf);
  const active = ranges.map((r) => r.length > 0);
  // A city that is never in the programme within the synthetic world takes nobody in.
  const shares = weights.map((w, i) => (active[i] ? w : 0));
  if (!shares.some((w) => w > 0)) {
    throw new RangeError('no city with a positive weight is active between 2020-07-01 and 2026-10-31');
  }
  const activeCount = active.filter(Boolean).length;

  const distinctPersons = Math.max(activeCount, Math.round(PERSONS_AT_SCALE_1 * scale));
  const minimum = Math.min(Math.ceil(MIN_PER_CITY_AT_SCALE_1 * scale), Math.floor(distinctPersons / activeCount));
  const firstCityCounts = allocate(distinctPersons, shares, minimum, active);

  const rng = makeRng(seed, 'people');
  const persons = new PersonFactory(rng);
  const stays: Stay[][] = cities.map(() => []);
  for (let c = 0; c < cities.length; c++) {
    // A person can only move on if some other city takes people in.
    const canMove = shares.some((w, i) => i !== c && w > 0);
    const lastStartDay = active[c] ? ranges[c]![ranges[c]!.length - 1]![1] : LAST_DAY;
    for (let k = 0; k < firstCityCounts[c]!; k++) {
      const { citizenship, mover, intakeDay } = drawFirstIntake(rng, ranges[c]!, canMove);
      const person = persons.create(citizenship, intakeDay);
      const permit = drawPermit(rng, citizenship);
      const channel = drawChannel(rng);
      if (!mover) {
        stays[c]!.push({ person, intakeDay, channel, permit, lastStartDay, ...drawStatus(rng, intakeDay) });
        continue;
      }
      // The first city closes the case (mostly as a transfer) one month to two years later...
      const closedDay = Math.min(intakeDay + int(rng, 30, 720), LAST_DAY - 1);
      const status: IntakeStatus = chance(rng, 0.85) ? 'TRANSFERRED' : 'DROPPED_OUT';
      stays[c]!.push({ person, intakeDay, channel, permit, status, closedDay, lastStartDay });
      // ...and another city takes the person in up to three months after that,
      // often once the asylum claim has been decided: one that is in the
      // programme that day, or none (the person then leaves the programme).
      const secondIntake = Math.min(closedDay + int(rng, 1, 90), LAST_DAY);
      const second = otherCityActiveOn(rng, shares, ranges, c, secondIntake);
      if (second < 0) continue;
      const secondPermit: PermitType =
        permit === 'ASYLUM_SEEKER' && chance(rng, 0.4)
          ? weighted(rng, { REFUGEE_STATUS: 1, SUBSIDIARY_PROTECTION: 1, SPECIAL_PROTECTION: 1 })
          : permit;
      stays[second]!.push({
        person,
        intakeDay: secondIntake,
        channel: drawChannel(rng),
        permit: secondPermit,
        lastStartDay: ranges[second]![ranges[second]!.length - 1]![1],
        ...drawStatus(rng, secondIntake),
      });
    }
  }

  const maxWeight = Math.max(...weights);
  const population = new Map<string, CityPopulation>();
  cities.forEach(({ code, weight }, c) => {
    population.set(code, buildCity(seed, scale, code, weight, maxWeight, stays[c]!));
  });
  return population;
}

/**
 * A new person's country, whether they will move on, and their first intake
 * day among the city's active days (which must not be empty). Movers are
 * taken in at least half a year before the end, to be taken in again
 * elsewhere; where the city has no such day, the person stays.
 */
function drawFirstIntake(
  rng: Rng,
  ranges: DayRanges,
  canMove: boolean,
): { citizenship: string; mover: boolean; intakeDay: number } {
  for (;;) {
    const citizenship = weighted(rng, COUNTRY_WEIGHTS);
    const earliest = earliestIntake(citizenship);
    const mover = canMove && chance(rng, MOVER_SHARE);
    if (mover) {
      const day = drawIntakeDay(rng, ranges, earliest, LAST_DAY - 180);
      if (day !== null) return { citizenship, mover, intakeDay: day };
    }
    const day = drawIntakeDay(rng, ranges, earliest, LAST_DAY);
    if (day !== null) return { citizenship, mover: false, intakeDay: day };
    // The city was in the programme only before people of this country could
    // arrive (Ukrainians before March 2022): it took in someone else.
  }
}
