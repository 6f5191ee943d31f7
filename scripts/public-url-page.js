#!/usr/bin/env node
// Writes an HTML page that shows one of your images through signed public URLs: an
// <img src> and an <img srcset> with format=auto, no token in the page.
//
//   PIXMILL_TOKEN=… node scripts/public-url-page.js <imageId> [apiBaseUrl] > page.html
//
// The API signs the URLs (GET /v1/images/{id}/srcset); open page.html in a browser.
const [imageId, base = 'http://localhost:3000'] = process.argv.slice(2);
const token = process.env.PIXMILL_TOKEN;
if (!imageId || !token) {
  process.stderr.write('usage: PIXMILL_TOKEN=… node scripts/public-url-page.js <imageId> [apiBaseUrl] > page.html\n');
  process.exit(2);
}

async function main() {
  const res = await fetch(`${base}/v1/images/${imageId}/srcset?widths=320,640,1280&format=auto`, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`srcset: HTTP ${res.status} ${JSON.stringify(body)}`);
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  process.stdout.write(`<!doctype html>
<html><head><meta charset="utf-8"><title>Pixmill public image URLs</title></head>
<body>
<h1>Signed public URLs, no token</h1>
<p>Plain &lt;img src&gt;:</p>
<img src="${body.src.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}" width="640" alt="">
<p>Responsive (&lt;img srcset&gt;, format=auto):</p>
${body.html}
<pre>${esc(body.html)}</pre>
</body></html>
`);
}

main().catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
