// Upload a photo, make a 300×200 WebP of it and save it: node quickstart.mjs photo.jpg out.webp
import { writeFile } from 'node:fs/promises';
import { Pixmill } from '@pixmill/sdk';
import { fileSource } from '@pixmill/sdk/node';

const [input = 'photo.jpg', output = 'out.webp'] = process.argv.slice(2);
const px = await Pixmill.login({ baseUrl: process.env.PIXMILL_API_URL ?? 'http://localhost:3000' }, process.env.PIXMILL_EMAIL, process.env.PIXMILL_PASSWORD);
const { data, options } = await fileSource(input);
const image = await px.upload(data, { ...options, onProgress: ({ loaded, total }) => console.error(`uploaded ${loaded}/${total} bytes`) });
const job = await px.transformAndWait(image.id, { operations: [{ op: 'resize', width: 300, height: 200, fit: 'cover' }], output: { format: 'webp' } });
await writeFile(output, await px.download(job));
console.log(JSON.stringify({ imageId: image.id, jobId: job.id, url: job.result.url, output }));
