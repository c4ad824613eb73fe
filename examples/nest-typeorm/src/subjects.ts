// The NATS subject of the stock microservice. NATS delivers a request to every subscriber of
// its subject, so two copies of this app on one NATS server (two checks running at once) must
// not share it: `npm test` gives each run its own with STOCK_SUBJECT.
export const STOCK_SUBJECT = process.env.STOCK_SUBJECT ?? 'stock.check';
