/**
 * What a subgraph knows about one request: who asks, the city errors met so
 * far (sent back beside the data), and DataLoaders per city, made for this
 * request only (permissions differ per caller, so nothing is shared across
 * requests).
 */
import DataLoader from 'dataloader';
import type { Fleet } from '../../adapters/fleet.ts';
import type { CallContext } from '../../adapters/port.ts';
import type { Caller } from '../../access/caller.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import type { CityError } from '../../schema/errors.ts';

export interface SubgraphContext {
  caller: Caller | null;
  fleet: Fleet;
  call: CallContext;
  /** City errors to report in the response's `errors`, once per city and code. */
  cityErrors: Map<string, CityError>;
  report(error: CityError): void;
  /** The request's DataLoader for `name` in `city`, made on first use. */
  loader<K, V>(name: string, city: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>): DataLoader<K, V>;
}

export function createSubgraphContext(fleet: Fleet, caller: Caller | null, logger: Logger = silentLogger): SubgraphContext {
  const loaders = new Map<string, DataLoader<unknown, unknown>>();
  const cityErrors = new Map<string, CityError>();
  return {
    caller,
    fleet,
    call: {},
    cityErrors,
    report(error) {
      const key = `${error.city}:${error.code}`;
      if (cityErrors.has(key)) return;
      cityErrors.set(key, error);
      // The detail names what went wrong, never what the city sent.
      logger.warn('city failed', { city: error.city, code: error.code, detail: error.detail });
    },
    loader<K, V>(name: string, city: string, batch: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>) {
      const key = `${name}@${city}`;
      let l = loaders.get(key) as DataLoader<K, V> | undefined;
      if (!l) {
        l = new DataLoader<K, V>(batch, { maxBatchSize: 1000 });
        loaders.set(key, l as DataLoader<unknown, unknown>);
      }
      return l;
    },
  };
}
