import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netintent } from '../cli/run.js';
import { headTexts, shopInventory } from '../review/scenarios.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const work = mkdtempSync(join(tmpdir(), 'ni-report-'));
let html = '';
let browser: Browser;

beforeAll(async () => {
  mkdirSync(join(work, 'intents'));
  for (const f of headTexts('add-tenant')) writeFileSync(join(work, f.path), f.text);
  const inv = shopInventory();
  const items = [
    ...inv.namespaces.map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, labels: n.labels } })),
    ...inv.pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, uid: p.uid, labels: p.labels }, spec: { nodeName: p.nodeName, containers: [{ name: 'main' }] }, status: { podIPs: p.ips.map((ip) => ({ ip })) } })),
  ];
  writeFileSync(join(work, 'inventory.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const r = await netintent(['report', 'intents', '--inventory', 'inventory.json', '--out', 'out'], work);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  html = readFileSync(join(work, 'out/index.html'), 'utf8');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('netintent report', () => {
  it('is one self-contained page: no external scripts, styles, images or fetches', () => {
    expect(existsSync(join(work, 'out/index.html'))).toBe(true);
    expect(html).not.toMatch(/<(script|img|link|iframe)[^>]*\s(src|href)=/i);
    expect(html).not.toMatch(/fetch\(|XMLHttpRequest|@import|url\(http/i);
  });

  it('loads in Chromium without console errors; cells show the verdict and link to existing anchors', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:')) errors.push(`network request: ${req.url()}`);
    });
    await page.goto(pathToFileURL(join(work, 'out/index.html')).href);
    const cell = (from: string, to: string, port: string) => page.locator(`td[data-from="${from}"][data-to="${to}"][data-port="${port}"]`);
    expect(await cell('shop {app=web}', 'shop {app=api}', 'tcp/8080').getAttribute('data-verdict')).toBe('allow');
    expect(await cell('shop {app=web}', 'shop {app=api}', 'tcp/8080').getAttribute('data-rule')).toBe('rule:shop-app/0');
    expect(await cell('shop {app=api}', 'shop {app=web}', 'tcp/8080').getAttribute('data-verdict')).toBe('deny');
    expect(await cell('bank {app=ledger}', 'shop {app=web}', 'tcp/443').getAttribute('data-rule')).toBe('rule:~isolation-bank/1');
    expect(await cell('bank {app=ledger}', 'bank {app=ledger}', 'tcp/7000').getAttribute('data-verdict')).toBe('allow');
    // Every in-page link lands on an element that exists.
    const dangling = await page.$$eval('a[href^="#"]', (links) => links.map((a) => a.getAttribute('href')!.slice(1)).filter((id) => !document.getElementById(id)));
    expect(dangling).toEqual([]);
    expect(await page.locator('a[href^="#"]').count()).toBeGreaterThan(50);
    // The port selector switches the visible matrix.
    expect(await page.locator('table.matrix[data-port="tcp/443"]').isVisible()).toBe(true);
    await page.selectOption('#port', 'tcp/8080');
    expect(await page.locator('table.matrix[data-port="tcp/8080"]').isVisible()).toBe(true);
    expect(await page.locator('table.matrix[data-port="tcp/443"]').isVisible()).toBe(false);
    // Clicking a cell goes to its rule row.
    await cell('shop {app=web}', 'shop {app=api}', 'tcp/8080').locator('a').click();
    expect(await page.evaluate(() => location.hash)).toBe('#d-rule_3ashop-app_2f0');
    expect(await page.locator('tr:target td code').first().textContent()).toBe('rule:shop-app/0');
    // Pools: the shop pool (10.1.0.1–10.1.0.254) holds the 8 inventory pods.
    expect(await page.locator('#pools + table').textContent()).toContain('8 / 254');
    expect(await page.locator('svg[aria-label="group graph"] circle').count()).toBeGreaterThan(3);
    expect(errors).toEqual([]);
    await page.close();
  });
});
