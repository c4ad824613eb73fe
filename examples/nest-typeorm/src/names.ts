// Names this app shares with other copies of itself on the same servers. NATS delivers a
// request to every subscriber of its subject, and PostgreSQL is one database for everyone:
// two checks running at once must not share them, so `npm test` gives each run its own.
export const STOCK_SUBJECT = process.env.STOCK_SUBJECT ?? 'stock.check';
export const ORDERS_TABLE = process.env.ORDERS_TABLE ?? 'nest_example_orders';
