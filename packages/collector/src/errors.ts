/** Coded start-up errors of the collector; messages name the option and how to fix it. */
export class CollectorError extends Error {
  constructor(
    readonly code: 'OSP_COLLECTOR_BAD_OPTION' | 'OSP_COLLECTOR_RULES' | 'OSP_COLLECTOR_START',
    message: string,
  ) {
    super(message);
    this.name = 'CollectorError';
  }
}
