// An ordinary ESM Express app with no osprofiler code: run as
// `node --import @osprofiler/auto auto.mjs`. /hello calls /inner with fetch.
import express from 'express';

const app = express();
app.get('/hello/:name', async (req, res) => {
  const inner = await fetch(`http://127.0.0.1:${server.address().port}/inner`);
  res.json({ hello: req.params.name, inner: await inner.text() });
});
app.get('/inner', (req, res) => res.send('inner'));
const server = app.listen(0, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));
