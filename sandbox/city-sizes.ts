/**
 * The 24 LGNet cities of the sandbox and the relative share of the synthetic
 * population each one takes in charge.
 *
 * `code` is the ISTAT municipality code (six digits). `weight` is a relative
 * share of beneficiaries: the weights add up to 100, so each one reads as
 * "percent of the programme's beneficiaries". They are rough orders of
 * magnitude, not official figures: the big metropolitan cities (Roma, Milano,
 * Napoli, Torino, Palermo) take the most people, the cities on the arrival
 * routes (Agrigento for Lampedusa, Trieste for the Balkan route, Caserta and
 * Latina for agricultural work) weigh more than their size alone would give,
 * and the smallest share (1%) still gives each city about 94 beneficiaries at
 * scale 1, above the sandbox's floor of 80.
 */
export const citySizes: ReadonlyArray<{ code: string; weight: number }> = [
  { code: '058091', weight: 13 }, // Roma
  { code: '015146', weight: 11 }, // Milano
  { code: '063049', weight: 9 }, // Napoli
  { code: '001272', weight: 8 }, // Torino
  { code: '082053', weight: 7 }, // Palermo
  { code: '037006', weight: 5 }, // Bologna
  { code: '010025', weight: 4.5 }, // Genova
  { code: '048017', weight: 4.5 }, // Firenze
  { code: '072006', weight: 4.5 }, // Bari
  { code: '087015', weight: 4.5 }, // Catania
  { code: '027042', weight: 3 }, // Venezia
  { code: '032006', weight: 3 }, // Trieste
  { code: '061022', weight: 2.5 }, // Caserta
  { code: '059011', weight: 2.5 }, // Latina
  { code: '073027', weight: 2.5 }, // Taranto
  { code: '092009', weight: 2.5 }, // Cagliari
  { code: '084001', weight: 2.5 }, // Agrigento
  { code: '021008', weight: 2 }, // Bolzano
  { code: '054039', weight: 2 }, // Perugia
  { code: '090064', weight: 1.5 }, // Sassari
  { code: '079023', weight: 1.5 }, // Catanzaro
  { code: '076063', weight: 1.5 }, // Potenza
  { code: '070006', weight: 1 }, // Campobasso
  { code: '007003', weight: 1 }, // Aosta
];
