/**
 * The config of a soap source (see docs/CITIES.md): a SOAP 1.1,
 * document/literal web service, one operation per entity, paged by elements
 * of the request and answering the total in an element of the response.
 */
import { z } from 'zod';
import { entityNames, type EntityName } from '../../schema/records.ts';
import { Auth, MappingBase, fieldMap } from '../source-base.ts';

/** An XML element name without a prefix (prefixes are the connector's business). */
const LocalName = z.string().regex(/^[A-Za-z_][\w.-]*$/, 'an XML element name without prefix');
/** A path of local names separated by dots (`RicercaAssistitiRisposta.assistiti.assistito`): prefixes never matter. */
const ElementPath = z.string().regex(/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/, 'local element names separated by dots, e.g. "Risposta.elenco.voce"');

const SoapEntity = <E extends EntityName>(entity: E) =>
  z
    .object({
      /**
       * The service's endpoint below baseUrl ("" for baseUrl itself, e.g.
       * "/CartellaSociale" where each service has its own); its WSDL is at
       * `<endpoint>?wsdl`.
       */
      path: z.union([z.literal(''), z.string().regex(/^\/[^?#]*$/, 'a path below baseUrl, starting with "/", without query')]).default(''),
      /** The WSDL operation that reads the entity, e.g. "RicercaAssistiti" (checked against the WSDL at first use). */
      operation: LocalName,
      /** The SOAPAction header, as the WSDL's binding declares it (may be empty); sent in double quotes. */
      soapAction: z.string(),
      /** The request element in the Body, in the source's namespace, e.g. "RicercaAssistitiRichiesta". */
      request: LocalName,
      /**
       * Path below the response's Body to the repeated record element, e.g.
       * "RicercaAssistitiRisposta.assistiti.assistito": every element but the
       * last must be there; no record element at all is an empty list.
       */
      recordsPath: ElementPath,
      /** Path below the Body to the number of records the request matches (all pages), e.g. "RicercaAssistitiRisposta.totaleRecord". */
      totalPath: ElementPath,
      /**
       * Batch look-ups: key -> the list in the request that selects records,
       * as "list.item" (`elencoCodici.codice` sends one `<codice>` per id
       * inside `<elencoCodici>`). Without one, a look-up reads the whole entity.
       */
      batchParams: z.partialRecord(z.enum(['localId', 'beneficiaryId']), ElementPath).default({}),
      /**
       * Canonical field -> dotted path of local names inside a record element
       * (`anagrafica.nome`); an attribute is `path@name` (`@id` on the record
       * itself). Repeated children arrive as a list.
       */
      fields: fieldMap(entity),
    })
    .strict();

export const SoapSource = z
  .object({
    kind: z.literal('soap'),
    ...MappingBase,
    /** Optional: many such services are reached through a gateway that wants a key in a header. */
    auth: Auth.optional(),
    /** The target namespace of the request elements, e.g. "http://cartellasociale.comune.example.it/ws/v1". */
    namespace: z.string().min(1),
    /** As the schema's elementFormDefault: whether the request's child elements are in the namespace too. */
    elementFormDefault: z.enum(['qualified', 'unqualified']).default('qualified'),
    paging: z
      .object({
        /** `page`: a page number and size; `offset`: the first record's position and a count. */
        style: z.enum(['page', 'offset']).default('page'),
        /** Request element of the page number or offset, e.g. "pagina". */
        startParam: LocalName,
        /** Request element of the page size, e.g. "dimensionePagina". */
        sizeParam: LocalName,
        /** Number of the first page (0 or 1); ignored for `offset`. */
        firstPage: z.union([z.literal(0), z.literal(1)]).default(1),
        /** Largest page the service serves. */
        maxPageSize: z.number().int().positive(),
      })
      .strict(),
    /** Most ids in one batch look-up request; larger batches are split. */
    maxBatchSize: z.number().int().positive().default(200),
    /** Check at first use that each endpoint's WSDL (`<endpoint>?wsdl`) declares the configured operation and SOAPAction (read once, then cached). */
    checkWsdl: z.boolean().default(true),
    entities: z
      .object(Object.fromEntries(entityNames.map((e) => [e, SoapEntity(e).optional()])) as {
        [E in EntityName]: z.ZodOptional<ReturnType<typeof SoapEntity<E>>>;
      })
      .strict(),
  })
  .strict()
  .superRefine((source, ctx) => {
    const { startParam, sizeParam } = source.paging;
    if (startParam === sizeParam) ctx.addIssue({ code: 'custom', path: ['paging'], message: `startParam and sizeParam are both "${startParam}"` });
    for (const [entity, e] of Object.entries(source.entities)) {
      if (!e) continue;
      for (const [key, list] of Object.entries(e.batchParams)) {
        const head = list.split('.')[0]!;
        if (head === startParam || head === sizeParam) {
          ctx.addIssue({ code: 'custom', path: ['entities', entity, 'batchParams', key], message: `"${list}" starts with the paging element "${head}"` });
        }
      }
    }
  });
export type SoapSourceConfig = z.infer<typeof SoapSource>;
