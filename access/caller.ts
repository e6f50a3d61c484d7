/**
 * Who is asking: the identity a verified token gives, shared by the gateway
 * (which verifies the token first) and the subgraphs (which verify it again
 * and enforce the rules where the data is).
 */

/** The roles a token may carry. */
export const roles = ['operator', 'analyst', 'dashboard'] as const;
export type Role = (typeof roles)[number];

export interface Caller {
  /**
   * `operator`: staff of one city, who see that city's records in full;
   * `analyst`: national analysts, who see pseudonymised, minimised records of
   * every city; `dashboard`: published figures only, no records.
   */
  role: Role;
  /** The city (ISTAT code) an operator is bound to; absent for other roles. */
  city?: string;
  /** The token's subject: who the person or system is, at the identity provider. */
  subject: string;
}
