/**
 * The config of a spreadsheet source (see docs/CITIES.md): an .xlsx workbook
 * kept by hand and published over HTTP, either one workbook with a sheet per
 * entity or one file per entity. Where the column names are (a title row
 * above them, a group label merged above sub-columns) and which rows are not
 * records (a totals row) are said here, per entity.
 */
import { z } from 'zod';
import { entityNames, type EntityName } from '../../schema/records.ts';
import { Auth, MappingBase, fieldMap } from '../source-base.ts';

/** A regular expression given as text: refused at start when it does not compile. */
const Pattern = z.string().min(1).refine(
  (p) => {
    try {
      new RegExp(p, 'i');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

const SpreadsheetEntity = <E extends EntityName>(entity: E) =>
  z
    .object({
      /** The workbook's path below baseUrl, e.g. "/condivisi/assistiti.xlsx". Entities may share one workbook, each on its own sheet. */
      path: z.string().startsWith('/'),
      /** The sheet the entity is on (matched ignoring case and surrounding spaces); without it, the workbook's first sheet. */
      sheet: z.string().trim().min(1).optional(),
      /** The row (from 1) holding the column names; rows above it (a title like "ELENCO ASSISTITI 2024") are not read. */
      headerRow: z.number().int().min(1).max(100).default(1),
      /**
       * A row above `headerRow` holding group labels merged across sub-columns
       * ("Intake" above "Data" and "Canale"): a column is then named
       * "<group><headerJoin><sub>" ("Intake / Data"), or by its one label where
       * the other is blank or the same cell is merged down over both rows.
       */
      groupRow: z.number().int().min(1).max(99).optional(),
      /** Text between a group label and a sub-column label. */
      headerJoin: z.string().default(' / '),
      /**
       * A row whose first non-blank cell matches this pattern (case-insensitive)
       * is a totals row ("TOTALE", "Totale generale"): it is skipped, neither a
       * record nor a rejection.
       */
      totalsPattern: Pattern.default('^totale'),
      /** Canonical field -> the column's name as the header writes it (spaces and line breaks in it count as one space). */
      fields: fieldMap(entity),
    })
    .strict()
    .refine((e) => e.groupRow === undefined || e.groupRow < e.headerRow, {
      message: 'groupRow must be above headerRow',
      path: ['groupRow'],
    });

export const SpreadsheetSource = z
  .object({
    kind: z.literal('spreadsheet'),
    ...MappingBase,
    /** Required: a workbook holds names and fiscal codes, so a city publishes it behind a key. */
    auth: Auth,
    /** How often each workbook is checked for a new version, in milliseconds (a conditional request). */
    revalidateMs: z.number().int().nonnegative().default(30_000),
    entities: z
      .object(Object.fromEntries(entityNames.map((e) => [e, SpreadsheetEntity(e).optional()])) as {
        [E in EntityName]: z.ZodOptional<ReturnType<typeof SpreadsheetEntity<E>>>;
      })
      .strict(),
  })
  .strict()
  .superRefine((source, ctx) => {
    // Two entities in one workbook on its first sheet would read the same rows as both.
    const byPath = new Map<string, string[]>();
    for (const [entity, e] of Object.entries(source.entities)) {
      if (e) byPath.set(e.path, [...(byPath.get(e.path) ?? []), entity]);
    }
    for (const [path, entities] of byPath) {
      if (entities.length < 2) continue;
      const sheets = new Map<string, string>();
      for (const entity of entities) {
        const sheet = source.entities[entity as EntityName]!.sheet;
        if (sheet === undefined) {
          ctx.addIssue({ code: 'custom', path: ['entities', entity, 'sheet'], message: `${entity} shares the workbook ${path} with ${entities.filter((x) => x !== entity).join(', ')}: name its sheet` });
          continue;
        }
        const other = sheets.get(sheet.toLowerCase());
        if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['entities', entity, 'sheet'], message: `${entity} and ${other} both read sheet "${sheet}" of ${path}` });
        sheets.set(sheet.toLowerCase(), entity);
      }
    }
  });
export type SpreadsheetSourceConfig = z.infer<typeof SpreadsheetSource>;
export type SpreadsheetEntityConfig = NonNullable<SpreadsheetSourceConfig['entities'][EntityName]>;
