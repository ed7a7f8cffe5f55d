// Opens a mobileone-compile --report page in headless Chromium (Debian's
// /usr/bin/chromium, driven by npm playwright-core) and prints what a reader
// would see, for FileCheck:
//   console errors, page errors and requests for anything but the page itself
//   (the page must be self-contained), the drawings' sizes and node counts,
//   and, from screenshots of each drawing, how many pixels carry the fill of
//   a fused block (training-time drawing) and of a conv (deployed drawing):
//   proof that the drawing is rendered, not just present in the DOM.
//
//   node browser_check.js report.html screenshot-prefix
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

async function countFill(page, png, rgb) {
  return page.evaluate(async ([data, [r, g, b]]) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + data;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4)
      if (Math.abs(px[i] - r) <= 3 && Math.abs(px[i + 1] - g) <= 3 &&
          Math.abs(px[i + 2] - b) <= 3)
        ++n;
    return { n, width: img.width, height: img.height };
  }, [png.toString('base64'), rgb]);
}

(async () => {
  const [file, prefix] = process.argv.slice(2);
  const url = 'file://' + path.resolve(file);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  const foreign = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== url) foreign.push(r.url()); });
  await page.goto(url, { waitUntil: 'load' });
  console.log(`console errors: ${errors.length}${errors.length ? ' ' + errors.join(' | ') : ''}`);
  console.log(`requests outside the page: ${foreign.length}${foreign.length ? ' ' + foreign.join(' ') : ''}`);
  console.log(`title: ${await page.title()}`);
  console.log(`check: ${(await page.textContent('#check')).trim()}`);
  const fused = await page.locator('#fused tr').count();
  console.log(`fused rows: ${fused - 1}`);
  console.log(`not-fused reasons: ${(await page.locator('#refused tr').count()) - 1}`);
  console.log(`stages: ${(await page.locator('#stages tr td:first-child').allTextContents()).join(' ')}`);
  const fills = { 'drawing-before': [253, 227, 200], 'drawing-after': [219, 231, 243] };
  for (const id of ['drawing-before', 'drawing-after']) {
    const svg = page.locator('#' + id);
    const box = await svg.boundingBox();
    const nodes = await page.locator(`#${id} g.node`).count();
    const blocks = await page.locator(`#${id} g.node.block`).count();
    const convs = await page.locator(`#${id} g.node.conv`).count();
    // What a reader sees: the drawing's scrolling box, as laid out.
    const view = svg.locator('xpath=..');
    await view.scrollIntoViewIfNeeded();
    const png = await view.screenshot({ path: `${prefix}-${id}.png` });
    const fill = await countFill(page, png, fills[id]);
    console.log(`${id}: ${Math.round(box.width)}x${Math.round(box.height)} px, ` +
                `${nodes} nodes (${blocks} blocks, ${convs} convs), screenshot ` +
                `${fill.width}x${fill.height} with ${fill.n} pixels of the ` +
                `${id === 'drawing-before' ? 'block' : 'conv'} fill`);
  }
  await page.screenshot({ path: `${prefix}-page.png` });
  await browser.close();
})().catch((e) => { console.error('browser_check: ' + e.message); process.exit(1); });
