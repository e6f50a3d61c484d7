/**
 * The rules of access/rules.ts, applied in a subgraph: what each request
 * withheld and read is kept in its context; before the answer leaves, the
 * reads of person records are appended to the audit trail (no entry, no
 * data), and the answer gets one error per withheld field and per published
 * figure with suppressed cells, so a null never passes for missing data.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { operationHash, type AuditLog } from '../../access/audit.ts';
import { publishFigure } from '../../access/published.ts';
import { cityOf, describeGrants, type AccessHooks } from '../../access/rules.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { SubgraphContext } from './context.ts';

export const accessHooks: AccessHooks<SubgraphContext> = {
  caller: (ctx) => ctx.caller,
  denied(ctx, coordinate, rule) {
    if (!ctx.denied.has(coordinate)) ctx.denied.set(coordinate, rule);
  },
  read(ctx, coordinate, rule, parent) {
    ctx.reads.fields.add(coordinate);
    const city = cityOf(parent);
    const localId = (parent as { localId?: unknown }).localId;
    if (city && typeof localId === 'string') ctx.reads.records.set(`${rule.audit}:${city}:${localId}`, city);
  },
  publish(ctx, coordinate, value) {
    const shown = publishFigure(value, { threshold: ctx.suppressionThreshold });
    if (shown.withheld) ctx.suppressed.add(coordinate);
    return shown.value;
  },
};

/** The errors that explain the nulls of an answer: one per withheld field, one per suppressed figure. */
export function accessErrors(ctx: SubgraphContext): GraphQLFormattedError[] {
  const errors: GraphQLFormattedError[] = [];
  for (const [field, rule] of ctx.denied) {
    errors.push({
      message: `${field} is withheld: only ${describeGrants(rule.grants)} may read it (this token's role is ${ctx.caller.role})`,
      extensions: { code: 'FORBIDDEN_FIELD', field, rule: [...rule.grants] },
    });
  }
  for (const field of ctx.suppressed) {
    errors.push({
      message: `Some counts in ${field} are withheld from published figures: counts from 1 to ${ctx.suppressionThreshold - 1}, and any count that would give them away`,
      extensions: { code: 'SMALL_COUNT_SUPPRESSED', field, threshold: ctx.suppressionThreshold },
    });
  }
  return errors;
}

/** The audit trail's entry for a request's reads of person records. */
function auditRecord(ctx: SubgraphContext, source: string | undefined, service: string) {
  const perCity = new Map<string, number>();
  for (const city of ctx.reads.records.values()) perCity.set(city, (perCity.get(city) ?? 0) + 1);
  return {
    time: new Date().toISOString(),
    subject: ctx.caller.subject,
    role: ctx.caller.role,
    ...(ctx.caller.city ? { callerCity: ctx.caller.city } : {}),
    cities: [...perCity].sort(([a], [b]) => a.localeCompare(b)).map(([city, records]) => ({ city, records })),
    fields: [...ctx.reads.fields].sort(),
    records: ctx.reads.records.size,
    // The text this subgraph answered; the gateway's word for the client's, beside it.
    operation: operationHash(source ?? ''),
    ...(ctx.origin.operationHash ? { clientOperation: ctx.origin.operationHash } : {}),
    ...(ctx.origin.operationName ? { operationName: ctx.origin.operationName } : {}),
    ...(ctx.origin.requestId ? { requestId: ctx.origin.requestId } : {}),
    service,
  };
}

export function accessPlugin(service: string, audit: AuditLog | null, logger: Logger): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue: ctx, source }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (ctx.reads.records.size > 0 && audit) {
            try {
              await audit.append(auditRecord(ctx, source, service));
            } catch (e) {
              // Personal data leaves only with its entry in the trail.
              logger.error('audit trail write failed: answer withheld', { error: (e as Error).message });
              result.data = null;
              result.errors = [new GraphQLError('The read could not be recorded in the audit trail, so no data is sent', { extensions: { code: 'INTERNAL_ERROR' } })];
              response.http.status = 500;
              return;
            }
          }
          const extra = [
            ...accessErrors(ctx),
            ...[...ctx.cityErrors.values()].map((e) => ({ message: e.message, extensions: { code: e.code, city: e.city } })),
          ];
          if (extra.length) result.errors = [...(result.errors ?? []), ...extra];
        },
      };
    },
  };
}
