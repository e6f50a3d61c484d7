/**
 * The cities whose system is a SOAP web service (Venezia, Sassari, Trieste)
 * or a workbook kept by hand (Campobasso, Aosta, Catanzaro), each from the
 * source of its city config (copied into adapters/connectors/fixtures/): the
 * stand-in built from that source serves a few hand-made rows, keyed as the
 * config's field specs write them, and the real connector and the shared
 * mapper must read them back as the national records they stand for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceConfig, requestDefaults, type ResolvedSource } from '../adapters/config.ts';
import { createSoapConnector, type SoapSource } from '../adapters/connectors/soap.ts';
import { createSpreadsheetConnector, type SpreadsheetSource } from '../adapters/connectors/spreadsheet.ts';
import { createRowMapper } from '../adapters/mapping.ts';
import type { LookupKey, RawRow, SourceConnector } from '../adapters/port.ts';
import { silentLogger } from '../runtime/logger.ts';
import { fiscalCodeCheckChar } from '../schema/fiscal-code.ts';
import { entityNames, type EntityName } from '../schema/records.ts';
import type { StandIn } from './faults.ts';
import { createSoapStandIn } from './soap-stand-in.ts';
import { createSpreadsheetStandIn } from './spreadsheet-stand-in.ts';

const fixtures = join(import.meta.dirname, '..', 'adapters', 'connectors', 'fixtures');
const now = Date.parse('2025-03-10T08:00:00Z');
const cf = (first15: string) => first15 + fiscalCodeCheckChar(first15);

interface CityCase {
  name: string;
  kind: 'SOAP web service' | 'hand-kept workbook';
  city: string;
  fixture: string;
  /** Each entity's rows, keyed by the config's field specs as written (a template's columns each on its own). */
  rows: Record<EntityName, RawRow[]>;
  /** The national records the rows stand for, in the same order (city and personKey aside). */
  expected: Record<EntityName, Array<Record<string, unknown>>>;
  /** A batch look-up and the local ids it must find. */
  lookup: { entity: EntityName; key: LookupKey; values: string[]; localIds: string[] };
}

// ---------------------------------------------------------------------------
// Venezia: one case-management service, every operation on one endpoint, a
// gateway key, pages from 1, ids as attributes, the birth date in three elements.

const venezia: CityCase = {
  name: 'Venezia',
  kind: 'SOAP web service',
  city: '027042',
  fixture: 'soap-city-venezia.json',
  rows: {
    beneficiaries: [
      {
        '@id': 'VE-2023-0007', 'anagrafica.codiceFiscale': cf('TRAMNT88D52Z329'), 'anagrafica.nome': 'Aminata', 'anagrafica.cognome': 'Traoré', 'anagrafica.sesso': 'D',
        'anagrafica.nascita.giorno': '12', 'anagrafica.nascita.mese': '04', 'anagrafica.nascita.anno': '1988', 'anagrafica.cittadinanza': 'Mali',
        'permessoSoggiorno.tipo': 'richiedente_asilo', vulnerabilita: 'salute_mentale|gravidanza',
        'presaInCarico.data': '03/10/2023', 'presaInCarico.canale': 'UM', 'presaInCarico.stato': 'A',
      },
      {
        '@id': 'VE-2024-0015', 'anagrafica.codiceFiscale': cf('RHMMMM99A07Z200'), 'anagrafica.nome': 'Mohammad', 'anagrafica.cognome': 'Rahimi', 'anagrafica.sesso': 'U',
        'anagrafica.nascita.giorno': '7', 'anagrafica.nascita.mese': '1', 'anagrafica.nascita.anno': '1999', 'anagrafica.cittadinanza': 'Afghanistan',
        'permessoSoggiorno.tipo': 'protezione_sussidiaria', vulnerabilita: '',
        'presaInCarico.data': '15/02/2024', 'presaInCarico.canale': 'PUA', 'presaInCarico.stato': 'D',
      },
      {
        '@id': 'VE-2024-0031', 'anagrafica.codiceFiscale': cf('KVLKSN75S63Z138'), 'anagrafica.nome': 'Oksana', 'anagrafica.cognome': 'Kovalenko', 'anagrafica.sesso': 'D',
        'anagrafica.nascita.giorno': '23', 'anagrafica.nascita.mese': '11', 'anagrafica.nascita.anno': '1975', 'anagrafica.cittadinanza': 'Ucraina',
        'permessoSoggiorno.tipo': 'protezione_temporanea', vulnerabilita: 'senza_dimora',
        'presaInCarico.data': '02/05/2024', 'presaInCarico.canale': 'SEGN', 'presaInCarico.stato': 'T',
      },
    ],
    services: [
      { '@codice': 'SRV-01', descrizione: 'Sportello unico immigrazione Mestre', categoria: 'sportello' },
      { '@codice': 'SRV-07', descrizione: 'Corso di italiano L2 – livello A2', categoria: 'italiano_l2' },
    ],
    enrollments: [
      { '@id': 'VE-2023-0102', 'assistito@id': 'VE-2023-0007', 'servizio@codice': 'SRV-07', 'periodo.dal': '06/11/2023', 'periodo.al': '29/02/2024' },
      { '@id': 'VE-2024-0044', 'assistito@id': 'VE-2024-0015', 'servizio@codice': 'SRV-01', 'periodo.dal': '15/02/2024', 'periodo.al': '' },
      { '@id': 'VE-2024-0051', 'assistito@id': 'VE-2023-0007', 'servizio@codice': 'SRV-01', 'periodo.dal': '01/03/2024', 'periodo.al': '' },
    ],
    civicProjects: [
      { '@id': 'VE-2024-0003', 'assistito@id': 'VE-2023-0007', stato: 'S', dataSottoscrizione: '20/01/2024' },
      { '@id': 'VE-2024-0009', 'assistito@id': 'VE-2024-0031', stato: 'B', dataSottoscrizione: '' },
    ],
    housingResources: [
      { '@codice': 'ALL-03', denominazione: 'Casa di accoglienza Giudecca', tipologia: 'rifugio_protetto', 'posti.totali': '8', 'posti.occupati': '6' },
      { '@codice': 'ALL-11', denominazione: 'Appartamento via Fratelli Bandiera', tipologia: 'semiautonomia', 'posti.totali': '4', 'posti.occupati': '0' },
    ],
    placements: [
      { '@id': 'VE-2023-0210', 'assistito@id': 'VE-2023-0007', 'struttura@codice': 'ALL-03', 'periodo.dal': '05/10/2023', 'periodo.al': '' },
      { '@id': 'VE-2024-0230', 'assistito@id': 'VE-2024-0031', 'struttura@codice': 'ALL-11', 'periodo.dal': '10/05/2024', 'periodo.al': '30/09/2024' },
    ],
  },
  expected: {
    beneficiaries: [
      {
        localId: 'VE-2023-0007', fiscalCode: cf('TRAMNT88D52Z329'), givenName: 'Aminata', familyName: 'Traoré', sex: 'FEMALE', birthDate: '1988-04-12', citizenship: 'ML',
        permitType: 'ASYLUM_SEEKER', vulnerabilities: ['MENTAL_HEALTH', 'PREGNANCY'], intake: { date: '2023-10-03', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      },
      {
        localId: 'VE-2024-0015', fiscalCode: cf('RHMMMM99A07Z200'), givenName: 'Mohammad', familyName: 'Rahimi', sex: 'MALE', birthDate: '1999-01-07', citizenship: 'AF',
        permitType: 'SUBSIDIARY_PROTECTION', vulnerabilities: [], intake: { date: '2024-02-15', channel: 'ONE_STOP_SHOP', status: 'CLOSED_AUTONOMY' },
      },
      {
        localId: 'VE-2024-0031', fiscalCode: cf('KVLKSN75S63Z138'), givenName: 'Oksana', familyName: 'Kovalenko', sex: 'FEMALE', birthDate: '1975-11-23', citizenship: 'UA',
        permitType: 'TEMPORARY_PROTECTION', vulnerabilities: ['HOMELESSNESS'], intake: { date: '2024-05-02', channel: 'REFERRAL', status: 'TRANSFERRED' },
      },
    ],
    services: [
      { localId: 'SRV-01', name: 'Sportello unico immigrazione Mestre', category: 'ONE_STOP_SHOP' },
      { localId: 'SRV-07', name: 'Corso di italiano L2 – livello A2', category: 'LANGUAGE_COURSE' },
    ],
    enrollments: [
      { localId: 'VE-2023-0102', beneficiaryId: 'VE-2023-0007', serviceId: 'SRV-07', from: '2023-11-06', to: '2024-02-29' },
      { localId: 'VE-2024-0044', beneficiaryId: 'VE-2024-0015', serviceId: 'SRV-01', from: '2024-02-15', to: null },
      { localId: 'VE-2024-0051', beneficiaryId: 'VE-2023-0007', serviceId: 'SRV-01', from: '2024-03-01', to: null },
    ],
    civicProjects: [
      { localId: 'VE-2024-0003', beneficiaryId: 'VE-2023-0007', status: 'SIGNED', signedOn: '2024-01-20' },
      { localId: 'VE-2024-0009', beneficiaryId: 'VE-2024-0031', status: 'DRAFT', signedOn: null },
    ],
    housingResources: [
      { localId: 'ALL-03', name: 'Casa di accoglienza Giudecca', kind: 'PROTECTED_SHELTER', capacity: 8, occupancy: 6 },
      { localId: 'ALL-11', name: 'Appartamento via Fratelli Bandiera', kind: 'SEMI_AUTONOMY_FLAT', capacity: 4, occupancy: 0 },
    ],
    placements: [
      { localId: 'VE-2023-0210', beneficiaryId: 'VE-2023-0007', resourceId: 'ALL-03', from: '2023-10-05', to: null },
      { localId: 'VE-2024-0230', beneficiaryId: 'VE-2024-0031', resourceId: 'ALL-11', from: '2024-05-10', to: '2024-09-30' },
    ],
  },
  lookup: { entity: 'enrollments', key: 'beneficiaryId', values: ['VE-2023-0007'], localIds: ['VE-2023-0102', 'VE-2024-0051'] },
};

// ---------------------------------------------------------------------------
// Sassari: a JAX-WS service per entity, offset paging, unqualified children,
// Basic auth, ISO dates, vulnerabilities as repeated <voce codice="..."/>.

const sassari: CityCase = {
  name: 'Sassari',
  kind: 'SOAP web service',
  city: '090064',
  fixture: 'soap-city-sassari.json',
  rows: {
    beneficiaries: [
      {
        codiceUtente: 'SS-2022-0004', 'datiAnagrafici.codiceFiscale': cf('DLLBRH94H30Z319'), 'datiAnagrafici.nome': 'Ibrahima', 'datiAnagrafici.cognome': 'Diallo',
        'datiAnagrafici.sesso': 'M', 'datiAnagrafici.dataNascita': '1994-06-30', 'datiAnagrafici.cittadinanza': 'GN', 'permessoSoggiorno@tipo': '01',
        'fragilita.voce@codice': ['SD', 'PSI'], 'presaInCarico.dataInizio': '2022-09-12', 'presaInCarico.canaleAccesso': 'UDS', 'presaInCarico.stato': 'attivo',
      },
      {
        codiceUtente: 'SS-2023-0019', 'datiAnagrafici.codiceFiscale': cf('KFOBSS97B54Z335'), 'datiAnagrafici.nome': 'Blessing', 'datiAnagrafici.cognome': 'Okafor',
        'datiAnagrafici.sesso': 'F', 'datiAnagrafici.dataNascita': '1997-02-14', 'datiAnagrafici.cittadinanza': 'NG', 'permessoSoggiorno@tipo': '04',
        'fragilita.voce@codice': ['TRA'], 'presaInCarico.dataInizio': '2023-04-03', 'presaInCarico.canaleAccesso': 'INVIO', 'presaInCarico.stato': 'trasferito',
      },
      {
        // The fiscal code in groups, as this system prints it.
        codiceUtente: 'SS-2024-0002', 'datiAnagrafici.codiceFiscale': (() => { const c = cf('LMRYSF88T01Z330'); return `${c.slice(0, 6)} ${c.slice(6, 11)} ${c.slice(11)}`; })(),
        'datiAnagrafici.nome': 'Youssef', 'datiAnagrafici.cognome': 'El Amrani', 'datiAnagrafici.sesso': 'M', 'datiAnagrafici.dataNascita': '1988-12-01',
        'datiAnagrafici.cittadinanza': 'MA', 'permessoSoggiorno@tipo': '06', 'fragilita.voce@codice': [],
        'presaInCarico.dataInizio': '2024-01-08', 'presaInCarico.canaleAccesso': 'SPORTELLO', 'presaInCarico.stato': 'chiuso_autonomia',
      },
    ],
    services: [
      { codiceServizio: 'S01', descrizione: "Sportello unico per l'immigrazione", categoria: 'Sportello unico' },
      { codiceServizio: 'S04', descrizione: 'Orientamento al lavoro Porta Nuova', categoria: 'Orientamento al lavoro' },
    ],
    enrollments: [
      { codiceIscrizione: 'SS-2022-0031', codiceUtente: 'SS-2022-0004', codiceServizio: 'S01', dataInizio: '2022-09-12', dataFine: '2022-12-31' },
      { codiceIscrizione: 'SS-2024-0007', codiceUtente: 'SS-2024-0002', codiceServizio: 'S04', dataInizio: '2024-01-15', dataFine: null },
    ],
    civicProjects: [
      { codiceProgetto: 'SS-2023-0001', codiceUtente: 'SS-2022-0004', 'stato@codice': '2', dataFirma: '2023-02-01' },
      { codiceProgetto: 'SS-2023-0005', codiceUtente: 'SS-2023-0019', 'stato@codice': '9', dataFirma: '2023-06-10' },
    ],
    housingResources: [
      { codiceStruttura: 'STR-1', denominazione: 'Centro di accoglienza Latte Dolce', tipologia: 'Rifugio protetto', capienza: 10, postiOccupati: 7 },
      { codiceStruttura: 'STR-2', denominazione: 'Co-housing via Roma', tipologia: 'Co-housing', capienza: 5, postiOccupati: 5 },
    ],
    placements: [
      { codiceInserimento: 'SS-2022-0011', codiceUtente: 'SS-2022-0004', codiceStruttura: 'STR-1', dataIngresso: '2022-09-15', dataUscita: '2023-03-31' },
      { codiceInserimento: 'SS-2023-0020', codiceUtente: 'SS-2023-0019', codiceStruttura: 'STR-2', dataIngresso: '2023-04-05', dataUscita: null },
    ],
  },
  expected: {
    beneficiaries: [
      {
        localId: 'SS-2022-0004', fiscalCode: cf('DLLBRH94H30Z319'), givenName: 'Ibrahima', familyName: 'Diallo', sex: 'MALE', birthDate: '1994-06-30', citizenship: 'GN',
        permitType: 'ASYLUM_SEEKER', vulnerabilities: ['HOMELESSNESS', 'MENTAL_HEALTH'], intake: { date: '2022-09-12', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      },
      {
        localId: 'SS-2023-0019', fiscalCode: cf('KFOBSS97B54Z335'), givenName: 'Blessing', familyName: 'Okafor', sex: 'FEMALE', birthDate: '1997-02-14', citizenship: 'NG',
        permitType: 'SPECIAL_PROTECTION', vulnerabilities: ['TRAFFICKING'], intake: { date: '2023-04-03', channel: 'REFERRAL', status: 'TRANSFERRED' },
      },
      {
        localId: 'SS-2024-0002', fiscalCode: cf('LMRYSF88T01Z330'), givenName: 'Youssef', familyName: 'El Amrani', sex: 'MALE', birthDate: '1988-12-01', citizenship: 'MA',
        permitType: 'WORK', vulnerabilities: [], intake: { date: '2024-01-08', channel: 'ONE_STOP_SHOP', status: 'CLOSED_AUTONOMY' },
      },
    ],
    services: [
      { localId: 'S01', name: "Sportello unico per l'immigrazione", category: 'ONE_STOP_SHOP' },
      { localId: 'S04', name: 'Orientamento al lavoro Porta Nuova', category: 'JOB_GUIDANCE' },
    ],
    enrollments: [
      { localId: 'SS-2022-0031', beneficiaryId: 'SS-2022-0004', serviceId: 'S01', from: '2022-09-12', to: '2022-12-31' },
      { localId: 'SS-2024-0007', beneficiaryId: 'SS-2024-0002', serviceId: 'S04', from: '2024-01-15', to: null },
    ],
    civicProjects: [
      { localId: 'SS-2023-0001', beneficiaryId: 'SS-2022-0004', status: 'COMPLETED', signedOn: '2023-02-01' },
      { localId: 'SS-2023-0005', beneficiaryId: 'SS-2023-0019', status: 'WITHDRAWN', signedOn: '2023-06-10' },
    ],
    housingResources: [
      { localId: 'STR-1', name: 'Centro di accoglienza Latte Dolce', kind: 'PROTECTED_SHELTER', capacity: 10, occupancy: 7 },
      { localId: 'STR-2', name: 'Co-housing via Roma', kind: 'SOLIDARITY_COHOUSING', capacity: 5, occupancy: 5 },
    ],
    placements: [
      { localId: 'SS-2022-0011', beneficiaryId: 'SS-2022-0004', resourceId: 'STR-1', from: '2022-09-15', to: '2023-03-31' },
      { localId: 'SS-2023-0020', beneficiaryId: 'SS-2023-0019', resourceId: 'STR-2', from: '2023-04-05', to: null },
    ],
  },
  lookup: { entity: 'beneficiaries', key: 'localId', values: ['SS-2023-0019', 'SS-2024-0002', 'SS-2099-0001'], localIds: ['SS-2023-0019', 'SS-2024-0002'] },
};

// ---------------------------------------------------------------------------
// Trieste: three services on the regional network (no key), pages from 0,
// codes in attributes, dotted dates, vulnerabilities joined by "|".

const trieste: CityCase = {
  name: 'Trieste',
  kind: 'SOAP web service',
  city: '032006',
  fixture: 'soap-city-trieste.json',
  rows: {
    beneficiaries: [
      {
        '@codice': 'TS.A.000041', codiceFiscale: cf('HSSHMD01C03Z200'), 'nominativo.nome': 'Ahmad', 'nominativo.cognome': 'Hussaini', sesso: 'M', dataNascita: '03.03.2001',
        'cittadinanza@codiceIso': 'AF', 'titoloSoggiorno@tipo': 'RIF', vulnerabilita: 'SD|SAN', 'accesso.data': '18.07.2023', 'accesso.canale': 'UM', statoPresaInCarico: 'IN_CARICO',
      },
      {
        '@codice': 'TS.A.000057', codiceFiscale: cf('JVNMLC90M59Z158'), 'nominativo.nome': 'Milica', 'nominativo.cognome': 'Jovanović', sesso: 'F', dataNascita: '19.08.1990',
        'cittadinanza@codiceIso': 'RS', 'titoloSoggiorno@tipo': 'FAM', vulnerabilita: 'VDG|MONO', 'accesso.data': '02.10.2023', 'accesso.canale': 'SEGN', statoPresaInCarico: 'DIMESSO',
      },
      {
        '@codice': 'TS.A.000063', codiceFiscale: cf('DDNRHM96E11Z249'), 'nominativo.nome': 'Rahim', 'nominativo.cognome': 'Uddin', sesso: 'M', dataNascita: '11.05.1996',
        'cittadinanza@codiceIso': 'BD', 'titoloSoggiorno@tipo': 'PSP', vulnerabilita: null, 'accesso.data': '09.01.2024', 'accesso.canale': 'PUA', statoPresaInCarico: 'ABBANDONO',
      },
    ],
    services: [
      { '@codice': 'TS.S.000001', denominazione: 'Unità di strada Carso', tipologia: 'UM' },
      { '@codice': 'TS.S.000004', denominazione: 'Laboratorio di falegnameria', tipologia: 'LAB' },
    ],
    enrollments: [
      { '@codice': 'TS.I.000101', 'persona@codice': 'TS.A.000041', 'servizio@codice': 'TS.S.000004', dataInizio: '01.08.2023', dataFine: '31.12.2023' },
      { '@codice': 'TS.I.000115', 'persona@codice': 'TS.A.000063', 'servizio@codice': 'TS.S.000001', dataInizio: '09.01.2024', dataFine: null },
    ],
    civicProjects: [
      { '@codice': 'TS.P.000008', 'persona@codice': 'TS.A.000041', stato: 'SOTTOSCRITTO', dataSottoscrizione: '01.09.2023' },
      { '@codice': 'TS.P.000012', 'persona@codice': 'TS.A.000057', stato: 'IN_PREPARAZIONE', dataSottoscrizione: null },
    ],
    housingResources: [
      { '@codice': 'TS.R.000002', denominazione: 'Casa Betania', tipologia: 'RP', 'posti@totali': '12', 'posti@occupati': '9' },
      { '@codice': 'TS.R.000005', denominazione: 'Contributo affitto del Comune', tipologia: 'SAF', 'posti@totali': '30', 'posti@occupati': '18' },
    ],
    placements: [
      { '@codice': 'TS.N.000020', 'persona@codice': 'TS.A.000041', 'struttura@codice': 'TS.R.000002', dataIngresso: '20.07.2023', dataDimissione: null },
      { '@codice': 'TS.N.000026', 'persona@codice': 'TS.A.000057', 'struttura@codice': 'TS.R.000005', dataIngresso: '05.10.2023', dataDimissione: '31.03.2024' },
    ],
  },
  expected: {
    beneficiaries: [
      {
        localId: 'TS.A.000041', fiscalCode: cf('HSSHMD01C03Z200'), givenName: 'Ahmad', familyName: 'Hussaini', sex: 'MALE', birthDate: '2001-03-03', citizenship: 'AF',
        permitType: 'REFUGEE_STATUS', vulnerabilities: ['HOMELESSNESS', 'PHYSICAL_HEALTH'], intake: { date: '2023-07-18', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      },
      {
        localId: 'TS.A.000057', fiscalCode: cf('JVNMLC90M59Z158'), givenName: 'Milica', familyName: 'Jovanović', sex: 'FEMALE', birthDate: '1990-08-19', citizenship: 'RS',
        permitType: 'FAMILY', vulnerabilities: ['GENDER_VIOLENCE', 'SINGLE_PARENT'], intake: { date: '2023-10-02', channel: 'REFERRAL', status: 'CLOSED_AUTONOMY' },
      },
      {
        localId: 'TS.A.000063', fiscalCode: cf('DDNRHM96E11Z249'), givenName: 'Rahim', familyName: 'Uddin', sex: 'MALE', birthDate: '1996-05-11', citizenship: 'BD',
        permitType: 'SPECIAL_PROTECTION', vulnerabilities: [], intake: { date: '2024-01-09', channel: 'ONE_STOP_SHOP', status: 'DROPPED_OUT' },
      },
    ],
    services: [
      { localId: 'TS.S.000001', name: 'Unità di strada Carso', category: 'MOBILE_UNIT' },
      { localId: 'TS.S.000004', name: 'Laboratorio di falegnameria', category: 'WORKSHOP' },
    ],
    enrollments: [
      { localId: 'TS.I.000101', beneficiaryId: 'TS.A.000041', serviceId: 'TS.S.000004', from: '2023-08-01', to: '2023-12-31' },
      { localId: 'TS.I.000115', beneficiaryId: 'TS.A.000063', serviceId: 'TS.S.000001', from: '2024-01-09', to: null },
    ],
    civicProjects: [
      { localId: 'TS.P.000008', beneficiaryId: 'TS.A.000041', status: 'SIGNED', signedOn: '2023-09-01' },
      { localId: 'TS.P.000012', beneficiaryId: 'TS.A.000057', status: 'DRAFT', signedOn: null },
    ],
    housingResources: [
      { localId: 'TS.R.000002', name: 'Casa Betania', kind: 'PROTECTED_SHELTER', capacity: 12, occupancy: 9 },
      { localId: 'TS.R.000005', name: 'Contributo affitto del Comune', kind: 'RENT_SUPPORT', capacity: 30, occupancy: 18 },
    ],
    placements: [
      { localId: 'TS.N.000020', beneficiaryId: 'TS.A.000041', resourceId: 'TS.R.000002', from: '2023-07-20', to: null },
      { localId: 'TS.N.000026', beneficiaryId: 'TS.A.000057', resourceId: 'TS.R.000005', from: '2023-10-05', to: '2024-03-31' },
    ],
  },
  lookup: { entity: 'placements', key: 'beneficiaryId', values: ['TS.A.000057'], localIds: ['TS.N.000026'] },
};

// ---------------------------------------------------------------------------
// Campobasso: one workbook, a sheet per entity, a title above every header,
// countries in capitals, fiscal codes typed in lower case.

const campobasso: CityCase = {
  name: 'Campobasso',
  kind: 'hand-kept workbook',
  city: '070006',
  fixture: 'spreadsheet-city-campobasso.json',
  rows: {
    beneficiaries: [
      {
        'N. cartella': '17', 'Codice fiscale': cf('KNWCDC92P45Z335').toLowerCase(), Nome: 'Chidinma', Cognome: 'Okonkwo', Sesso: 'F', 'Data di nascita': '05/09/1992',
        Cittadinanza: 'NIGERIA', 'Tipo permesso': 'RA', 'Vulnerabilità': 'PSI,GRAV', 'Data presa in carico': '14/03/2024', 'Canale di accesso': 'UDS', 'Stato presa in carico': 'A',
      },
      {
        'N. cartella': '18', 'Codice fiscale': cf('LIXMHM85L12Z236').toLowerCase(), Nome: 'Muhammad', Cognome: 'Ali', Sesso: 'M', 'Data di nascita': '12/07/1985',
        Cittadinanza: 'PAKISTAN', 'Tipo permesso': 'LAV', 'Vulnerabilità': '', 'Data presa in carico': '02/04/2024', 'Canale di accesso': 'SPORTELLO', 'Stato presa in carico': 'D',
      },
      {
        'N. cartella': '21', 'Codice fiscale': cf('HRNJSE00A15Z506').toLowerCase(), Nome: 'José', Cognome: 'Hernández', Sesso: 'M', 'Data di nascita': '15/01/2000',
        Cittadinanza: 'EL SALVADOR', 'Tipo permesso': 'SUS', 'Vulnerabilità': 'SD', 'Data presa in carico': '30/05/2024', 'Canale di accesso': 'INVIO', 'Stato presa in carico': 'I',
      },
    ],
    services: [
      { 'Codice servizio': '3', Descrizione: 'Corso di lingua italiana', Categoria: 'L2' },
      { 'Codice servizio': '5', Descrizione: 'Consulenza legale CAS', Categoria: 'LEG' },
    ],
    enrollments: [
      { 'N. iscrizione': '40', 'N. cartella': '17', 'Codice servizio': '3', 'Data inizio': '18/03/2024', 'Data fine': '' },
      { 'N. iscrizione': '41', 'N. cartella': '18', 'Codice servizio': '5', 'Data inizio': '03/04/2024', 'Data fine': '30/04/2024' },
      { 'N. iscrizione': '44', 'N. cartella': '21', 'Codice servizio': '3', 'Data inizio': '03/06/2024', 'Data fine': '' },
    ],
    civicProjects: [
      { 'N. progetto': '6', 'N. cartella': '17', Stato: 'S', 'Data firma': '10/04/2024' },
      { 'N. progetto': '7', 'N. cartella': '21', Stato: 'I', 'Data firma': '' },
    ],
    housingResources: [
      { 'Codice struttura': '1', Denominazione: 'Casa rifugio Molise', Tipologia: 'rifugio_protetto', 'Posti totali': '6', 'Posti occupati': '4' },
      { 'Codice struttura': '2', Denominazione: 'Coabitazione via Mazzini', Tipologia: 'coabitazione_solidale', 'Posti totali': '3', 'Posti occupati': '0' },
    ],
    placements: [
      { 'N. inserimento': '9', 'N. cartella': '17', 'Codice struttura': '1', 'Data ingresso': '15/03/2024', 'Data uscita': '' },
      { 'N. inserimento': '10', 'N. cartella': '21', 'Codice struttura': '2', 'Data ingresso': '01/06/2024', 'Data uscita': '31/08/2024' },
    ],
  },
  expected: {
    beneficiaries: [
      {
        localId: '17', fiscalCode: cf('KNWCDC92P45Z335'), givenName: 'Chidinma', familyName: 'Okonkwo', sex: 'FEMALE', birthDate: '1992-09-05', citizenship: 'NG',
        permitType: 'ASYLUM_SEEKER', vulnerabilities: ['MENTAL_HEALTH', 'PREGNANCY'], intake: { date: '2024-03-14', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      },
      {
        localId: '18', fiscalCode: cf('LIXMHM85L12Z236'), givenName: 'Muhammad', familyName: 'Ali', sex: 'MALE', birthDate: '1985-07-12', citizenship: 'PK',
        permitType: 'WORK', vulnerabilities: [], intake: { date: '2024-04-02', channel: 'ONE_STOP_SHOP', status: 'CLOSED_AUTONOMY' },
      },
      {
        localId: '21', fiscalCode: cf('HRNJSE00A15Z506'), givenName: 'José', familyName: 'Hernández', sex: 'MALE', birthDate: '2000-01-15', citizenship: 'SV',
        permitType: 'SUBSIDIARY_PROTECTION', vulnerabilities: ['HOMELESSNESS'], intake: { date: '2024-05-30', channel: 'REFERRAL', status: 'DROPPED_OUT' },
      },
    ],
    services: [
      { localId: '3', name: 'Corso di lingua italiana', category: 'LANGUAGE_COURSE' },
      { localId: '5', name: 'Consulenza legale CAS', category: 'LEGAL_ADVICE' },
    ],
    enrollments: [
      { localId: '40', beneficiaryId: '17', serviceId: '3', from: '2024-03-18', to: null },
      { localId: '41', beneficiaryId: '18', serviceId: '5', from: '2024-04-03', to: '2024-04-30' },
      { localId: '44', beneficiaryId: '21', serviceId: '3', from: '2024-06-03', to: null },
    ],
    civicProjects: [
      { localId: '6', beneficiaryId: '17', status: 'SIGNED', signedOn: '2024-04-10' },
      { localId: '7', beneficiaryId: '21', status: 'WITHDRAWN', signedOn: null },
    ],
    housingResources: [
      { localId: '1', name: 'Casa rifugio Molise', kind: 'PROTECTED_SHELTER', capacity: 6, occupancy: 4 },
      { localId: '2', name: 'Coabitazione via Mazzini', kind: 'SOLIDARITY_COHOUSING', capacity: 3, occupancy: 0 },
    ],
    placements: [
      { localId: '9', beneficiaryId: '17', resourceId: '1', from: '2024-03-15', to: null },
      { localId: '10', beneficiaryId: '21', resourceId: '2', from: '2024-06-01', to: '2024-08-31' },
    ],
  },
  lookup: { entity: 'enrollments', key: 'beneficiaryId', values: ['17', '21'], localIds: ['40', '44'] },
};

// ---------------------------------------------------------------------------
// Aosta: one file per entity, group labels merged above their sub-columns
// ("Presa in carico - Data"), codes in plain words.

const aosta: CityCase = {
  name: 'Aosta',
  kind: 'hand-kept workbook',
  city: '007003',
  fixture: 'spreadsheet-city-aosta.json',
  rows: {
    beneficiaries: [
      {
        'Cod. utente': 'AO.A.000012', 'Anagrafica - Codice fiscale': cf('TSFSMN93E50Z368'), 'Anagrafica - Nome': 'Semhar', 'Anagrafica - Cognome': 'Tesfaye',
        'Anagrafica - Sesso': 'F', 'Anagrafica - Data di nascita': '10/05/1993', 'Anagrafica - Cittadinanza': 'Eritrea', 'Permesso di soggiorno': 'Status di rifugiato',
        'Vulnerabilità': 'Violenza di genere, Disagio psichico', 'Presa in carico - Data': '22/11/2023', 'Presa in carico - Canale': 'Invio servizi', 'Presa in carico - Stato': 'In carico',
      },
      {
        'Cod. utente': 'AO.A.000015', 'Anagrafica - Codice fiscale': cf('BNSMHD91R20Z352'), 'Anagrafica - Nome': 'Mohamed', 'Anagrafica - Cognome': 'Ben Salah',
        'Anagrafica - Sesso': 'M', 'Anagrafica - Data di nascita': '20/10/1991', 'Anagrafica - Cittadinanza': 'Tunisia', 'Permesso di soggiorno': 'Richiesta asilo',
        'Vulnerabilità': 'Senza dimora', 'Presa in carico - Data': '08/01/2024', 'Presa in carico - Canale': 'Unità di strada', 'Presa in carico - Stato': 'Interrotto',
      },
      {
        'Cod. utente': 'AO.A.000016', 'Anagrafica - Codice fiscale': cf('QSPLCU88H47Z611'), 'Anagrafica - Nome': 'Lucía', 'Anagrafica - Cognome': 'Quispe',
        'Anagrafica - Sesso': 'F', 'Anagrafica - Data di nascita': '07/06/1988', 'Anagrafica - Cittadinanza': 'Perù', 'Permesso di soggiorno': 'Motivi familiari',
        'Vulnerabilità': '', 'Presa in carico - Data': '15/01/2024', 'Presa in carico - Canale': 'Sportello unico', 'Presa in carico - Stato': 'Dimesso per autonomia',
      },
    ],
    services: [
      { 'Cod. servizio': 'AO.S.000002', Servizio: 'Spazio donne Saint-Martin-de-Corléans', Categoria: 'Spazio di incontro' },
      { 'Cod. servizio': 'AO.S.000006', Servizio: 'Supporto psicologico', Categoria: 'Supporto psicosociale' },
    ],
    enrollments: [
      { 'Cod. iscrizione': 'AO.I.000031', 'Cod. utente': 'AO.A.000012', 'Cod. servizio': 'AO.S.000006', 'Frequenza - Dal': '01/12/2023', 'Frequenza - Al': '' },
      { 'Cod. iscrizione': 'AO.I.000032', 'Cod. utente': 'AO.A.000012', 'Cod. servizio': 'AO.S.000002', 'Frequenza - Dal': '04/12/2023', 'Frequenza - Al': '28/06/2024' },
    ],
    civicProjects: [
      { 'Cod. progetto': 'AO.P.000004', 'Cod. utente': 'AO.A.000016', 'Stato del progetto': 'Concluso', 'Data di firma': '01/02/2024' },
    ],
    housingResources: [
      { 'Cod. alloggio': 'AO.R.000001', Alloggio: 'Alloggio protetto Quart', Tipologia: 'Rifugio protetto', 'Posti - Totali': '5', 'Posti - Occupati': '2' },
      { 'Cod. alloggio': 'AO.R.000003', Alloggio: "Sostegno all'affitto", Tipologia: "Sostegno all'affitto", 'Posti - Totali': '12', 'Posti - Occupati': '12' },
    ],
    placements: [
      { 'Cod. inserimento': 'AO.N.000007', 'Cod. utente': 'AO.A.000012', 'Cod. alloggio': 'AO.R.000001', 'Permanenza - Ingresso': '23/11/2023', 'Permanenza - Uscita': '' },
      { 'Cod. inserimento': 'AO.N.000009', 'Cod. utente': 'AO.A.000016', 'Cod. alloggio': 'AO.R.000003', 'Permanenza - Ingresso': '01/02/2024', 'Permanenza - Uscita': '31/07/2024' },
    ],
  },
  expected: {
    beneficiaries: [
      {
        localId: 'AO.A.000012', fiscalCode: cf('TSFSMN93E50Z368'), givenName: 'Semhar', familyName: 'Tesfaye', sex: 'FEMALE', birthDate: '1993-05-10', citizenship: 'ER',
        permitType: 'REFUGEE_STATUS', vulnerabilities: ['GENDER_VIOLENCE', 'MENTAL_HEALTH'], intake: { date: '2023-11-22', channel: 'REFERRAL', status: 'ACTIVE' },
      },
      {
        localId: 'AO.A.000015', fiscalCode: cf('BNSMHD91R20Z352'), givenName: 'Mohamed', familyName: 'Ben Salah', sex: 'MALE', birthDate: '1991-10-20', citizenship: 'TN',
        permitType: 'ASYLUM_SEEKER', vulnerabilities: ['HOMELESSNESS'], intake: { date: '2024-01-08', channel: 'MOBILE_UNIT', status: 'DROPPED_OUT' },
      },
      {
        localId: 'AO.A.000016', fiscalCode: cf('QSPLCU88H47Z611'), givenName: 'Lucía', familyName: 'Quispe', sex: 'FEMALE', birthDate: '1988-06-07', citizenship: 'PE',
        permitType: 'FAMILY', vulnerabilities: [], intake: { date: '2024-01-15', channel: 'ONE_STOP_SHOP', status: 'CLOSED_AUTONOMY' },
      },
    ],
    services: [
      { localId: 'AO.S.000002', name: 'Spazio donne Saint-Martin-de-Corléans', category: 'MEETING_SPACE' },
      { localId: 'AO.S.000006', name: 'Supporto psicologico', category: 'PSYCHOSOCIAL_SUPPORT' },
    ],
    enrollments: [
      { localId: 'AO.I.000031', beneficiaryId: 'AO.A.000012', serviceId: 'AO.S.000006', from: '2023-12-01', to: null },
      { localId: 'AO.I.000032', beneficiaryId: 'AO.A.000012', serviceId: 'AO.S.000002', from: '2023-12-04', to: '2024-06-28' },
    ],
    civicProjects: [{ localId: 'AO.P.000004', beneficiaryId: 'AO.A.000016', status: 'COMPLETED', signedOn: '2024-02-01' }],
    housingResources: [
      { localId: 'AO.R.000001', name: 'Alloggio protetto Quart', kind: 'PROTECTED_SHELTER', capacity: 5, occupancy: 2 },
      { localId: 'AO.R.000003', name: "Sostegno all'affitto", kind: 'RENT_SUPPORT', capacity: 12, occupancy: 12 },
    ],
    placements: [
      { localId: 'AO.N.000007', beneficiaryId: 'AO.A.000012', resourceId: 'AO.R.000001', from: '2023-11-23', to: null },
      { localId: 'AO.N.000009', beneficiaryId: 'AO.A.000016', resourceId: 'AO.R.000003', from: '2024-02-01', to: '2024-07-31' },
    ],
  },
  lookup: { entity: 'placements', key: 'beneficiaryId', values: ['AO.A.000016'], localIds: ['AO.N.000009'] },
};

// ---------------------------------------------------------------------------
// Catanzaro: a people register with three sheets, the services on a file of
// their own, a housing workbook with two sheets; codes typed in lower case.

const catanzaro: CityCase = {
  name: 'Catanzaro',
  kind: 'hand-kept workbook',
  city: '079023',
  fixture: 'spreadsheet-city-catanzaro.json',
  rows: {
    beneficiaries: [
      {
        'ID utente': 'CZ.A.000101', 'Codice fiscale': cf('KNEKDJ95D12Z318'), Nome: 'Kouadio', Cognome: 'Konan', Sesso: 'm', 'Data di nascita': '12/04/1995',
        Cittadinanza: 'CI', 'Tipologia permesso': 'ra', 'Vulnerabilità rilevate': 'SAN', 'Data di ingresso': '19/06/2023', 'Canale di ingresso': 'u', 'Stato utente': 'in_carico',
      },
      {
        'ID utente': 'CZ.A.000102', 'Codice fiscale': cf('SLMFTM02S64Z336'), Nome: 'Fatima', Cognome: 'Salem', Sesso: 'f', 'Data di nascita': '24/11/2002',
        Cittadinanza: 'EG', 'Tipologia permesso': 'stu', 'Vulnerabilità rilevate': 'MONO,DIS', 'Data di ingresso': '11/09/2023', 'Canale di ingresso': 's', 'Stato utente': 'dimesso',
      },
    ],
    services: [
      { 'ID servizio': 'CZ.S.000001', 'Nome servizio': 'Orientamento civico e sanitario', Categoria: 'oc' },
      { 'ID servizio': 'CZ.S.000002', 'Nome servizio': 'Progetto di impegno civico', Categoria: 'pic' },
    ],
    enrollments: [
      { 'ID iscrizione': 'CZ.I.000050', 'ID utente': 'CZ.A.000101', 'ID servizio': 'CZ.S.000001', 'Data inizio': '20/06/2023', 'Data fine': '20/07/2023' },
      { 'ID iscrizione': 'CZ.I.000051', 'ID utente': 'CZ.A.000102', 'ID servizio': 'CZ.S.000002', 'Data inizio': '15/09/2023', 'Data fine': '' },
    ],
    civicProjects: [
      { 'ID patto': 'CZ.P.000010', 'ID utente': 'CZ.A.000101', 'Stato del patto': 'sottoscritto', 'Data sottoscrizione': '03/07/2023' },
      { 'ID patto': 'CZ.P.000011', 'ID utente': 'CZ.A.000102', 'Stato del patto': 'in_preparazione', 'Data sottoscrizione': '' },
    ],
    housingResources: [
      { 'ID struttura': 'CZ.R.000001', 'Nome struttura': 'Casa famiglia Lido', Tipologia: 'cs', 'Posti disponibili': '8', 'Posti occupati': '3' },
    ],
    placements: [
      { 'ID inserimento': 'CZ.N.000004', 'ID utente': 'CZ.A.000101', 'ID struttura': 'CZ.R.000001', 'Data inizio': '20/06/2023', 'Data fine': '' },
    ],
  },
  expected: {
    beneficiaries: [
      {
        localId: 'CZ.A.000101', fiscalCode: cf('KNEKDJ95D12Z318'), givenName: 'Kouadio', familyName: 'Konan', sex: 'MALE', birthDate: '1995-04-12', citizenship: 'CI',
        permitType: 'ASYLUM_SEEKER', vulnerabilities: ['PHYSICAL_HEALTH'], intake: { date: '2023-06-19', channel: 'MOBILE_UNIT', status: 'ACTIVE' },
      },
      {
        localId: 'CZ.A.000102', fiscalCode: cf('SLMFTM02S64Z336'), givenName: 'Fatima', familyName: 'Salem', sex: 'FEMALE', birthDate: '2002-11-24', citizenship: 'EG',
        permitType: 'STUDY', vulnerabilities: ['SINGLE_PARENT', 'DISABILITY'], intake: { date: '2023-09-11', channel: 'ONE_STOP_SHOP', status: 'CLOSED_AUTONOMY' },
      },
    ],
    services: [
      { localId: 'CZ.S.000001', name: 'Orientamento civico e sanitario', category: 'CIVIC_ORIENTATION' },
      { localId: 'CZ.S.000002', name: 'Progetto di impegno civico', category: 'CIVIC_ENGAGEMENT' },
    ],
    enrollments: [
      { localId: 'CZ.I.000050', beneficiaryId: 'CZ.A.000101', serviceId: 'CZ.S.000001', from: '2023-06-20', to: '2023-07-20' },
      { localId: 'CZ.I.000051', beneficiaryId: 'CZ.A.000102', serviceId: 'CZ.S.000002', from: '2023-09-15', to: null },
    ],
    civicProjects: [
      { localId: 'CZ.P.000010', beneficiaryId: 'CZ.A.000101', status: 'SIGNED', signedOn: '2023-07-03' },
      { localId: 'CZ.P.000011', beneficiaryId: 'CZ.A.000102', status: 'DRAFT', signedOn: null },
    ],
    housingResources: [{ localId: 'CZ.R.000001', name: 'Casa famiglia Lido', kind: 'SOLIDARITY_COHOUSING', capacity: 8, occupancy: 3 }],
    placements: [{ localId: 'CZ.N.000004', beneficiaryId: 'CZ.A.000101', resourceId: 'CZ.R.000001', from: '2023-06-20', to: null }],
  },
  lookup: { entity: 'civicProjects', key: 'beneficiaryId', values: ['CZ.A.000102'], localIds: ['CZ.P.000011'] },
};

// ---------------------------------------------------------------------------

interface Started {
  standIn: StandIn & { readonly url: string };
  source: ResolvedSource;
  connector: SourceConnector;
}

let agent: Agent;
beforeAll(() => {
  agent = new Agent();
});
afterAll(async () => {
  await agent.close();
});

/** The city's source as its config declares it, its stand-in serving the case's rows, and the real connector reading it. */
async function start(c: CityCase): Promise<Started> {
  const config = SourceConfig.parse(JSON.parse(readFileSync(join(fixtures, c.fixture), 'utf8')));
  const apiKey = config.auth ? `chiave-${c.city}` : null;
  const rows = new Map(Object.entries(c.rows) as Array<[EntityName, RawRow[]]>);
  const deps = { dispatcher: agent, now: () => now, logger: silentLogger };
  // No retries: a failure shows at once.
  const settings = { ...requestDefaults, retries: 0 };
  if (config.kind === 'soap') {
    // Pages of two, so that every entity is read over several requests.
    const soap = { ...config, paging: { ...config.paging, maxPageSize: 2 } };
    const auth = soap.auth ? { header: soap.auth.header, prefix: soap.auth.prefix } : null;
    const standIn = await createSoapStandIn({ dialect: { ...soap, auth }, rows, apiKey, basePath: '/ws' });
    const source = { ...soap, ...settings, baseUrl: standIn.url, apiKey } as SoapSource;
    return { standIn, source, connector: createSoapConnector(c.city, source, deps) };
  }
  if (config.kind === 'spreadsheet') {
    const standIn = await createSpreadsheetStandIn({ source: config, rows, apiKey: apiKey!, basePath: '/condivisi', exportedAt: new Date('2025-03-10T06:00:00Z') });
    const source = { ...config, ...settings, baseUrl: standIn.url, apiKey } as SpreadsheetSource;
    return { standIn, source, connector: createSpreadsheetConnector(c.city, source, deps) };
  }
  throw new Error(`${c.fixture}: a ${config.kind} source, not SOAP nor spreadsheet`);
}

describe.each([venezia, sassari, trieste, campobasso, aosta, catanzaro])('$name, whose system is a $kind', (c) => {
  let started: Started;
  beforeAll(async () => {
    started = await start(c);
  });
  afterAll(async () => {
    await started?.standIn.close();
  });

  it('gives every entity, read through the real connector and mapper, as the national records its rows stand for', async () => {
    const mapper = createRowMapper(c.city, started.source, 'segreto-di-prova-dei-pseudonimi', () => now);
    for (const entity of entityNames) {
      const page = await started.connector.page(entity, { offset: 0, limit: 100 });
      expect(page.total, entity).toBe(c.rows[entity].length);
      const mapped = page.rows.map((row) => mapper.map(entity, row));
      expect(mapped.filter((m) => !m.ok), entity).toEqual([]);
      const records = mapped.map((m) => (m.ok ? m.record : null));
      expect(records, entity).toEqual(c.expected[entity].map((e) => ({ ...e, city: c.city, ...(entity === 'beneficiaries' ? { personKey: expect.any(String) } : {}) })));
    }
  });

  it('finds records by a batch look-up of its ids', async () => {
    const { entity, key, values, localIds } = c.lookup;
    const mapper = createRowMapper(c.city, started.source, 'segreto-di-prova-dei-pseudonimi', () => now);
    const found = await started.connector.lookup(entity, key, values);
    expect(found.map((row) => { const m = mapper.map(entity, row); return m.ok ? m.record.localId : m; }).sort()).toEqual(localIds);
  });
});
