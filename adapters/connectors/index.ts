/** The connector for a source, by its kind. */
import type { ResolvedSource } from '../config.ts';
import type { ConnectorDeps, SourceConnector } from '../port.ts';
import { createCsvConnector } from './csv.ts';
import { createGraphqlConnector } from './graphql.ts';
import { createRestConnector } from './rest.ts';
import { createSoapConnector } from './soap.ts';
import { createSpreadsheetConnector } from './spreadsheet.ts';
import { createSqlConnector } from './sql.ts';

export { createCsvConnector } from './csv.ts';
export { createRestConnector } from './rest.ts';

export function createConnector(city: string, source: ResolvedSource, deps: ConnectorDeps): SourceConnector {
  switch (source.kind) {
    case 'rest':
      return createRestConnector(city, source, deps);
    case 'csv':
      return createCsvConnector(city, source, deps);
    case 'soap':
      return createSoapConnector(city, source, deps);
    case 'sql':
      return createSqlConnector(city, source, deps);
    case 'spreadsheet':
      return createSpreadsheetConnector(city, source, deps);
    case 'graphql':
      return createGraphqlConnector(city, source, deps);
  }
}
