// The admin UI in a real browser (Debian's chromium, headless, driven by
// playwright-core) and over plain HTTP, against make run's configuration
// (rootfs/run-dev.sh). Controls are found by their visible labels.
// Screenshots of every page go to $UI_OUT. Run through tests/browser/run.sh.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
	OUT, apiLogin, assert, eq, pastFirstRun, request, run, sha256, sleep,
	startDevice, test, until,
} from './lib.mjs';

const { chromium } = await import(path.join(process.env.PLAYWRIGHT_CORE,
    'index.mjs'));
const mkimage = path.join(process.env.UI_TOP, 'tests/browser/mkimage.py');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'porch-ui-test.'));

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
	    '--no-first-run', '--disable-background-networking',
	    '--disable-component-update', '--disable-sync'],
});

// Problems any page had: script errors, CSP violations, dialogs (an
// injected alert() would be one).
const problems = [];

async function newPage(opts = {}) {
	const ctx = opts.context || await browser.newContext({
		viewport: opts.viewport || { width: 1200, height: 900 },
		colorScheme: opts.colorScheme || 'light',
	});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => problems.push('page error: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text()))
			problems.push('CSP: ' + m.text());
	});
	page.on('dialog', (d) => {
		problems.push('dialog: ' + d.message());
		d.dismiss();
	});
	return page;
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, name + '.png'),
	    fullPage: true });
}

function image(name, version, extra = []) {
	const f = path.join(tmp, name);
	execFileSync('python3', [mkimage, f, version, ...extra]);
	return f;
}

// The device most tests share, past its first run once a test needs it.
let mainDev = null;
async function device() {
	if (!mainDev)
		mainDev = await startDevice();
	return mainDev;
}

async function loginUI(page, dev, password = dev.password) {
	await page.goto(dev.base + '/');
	await page.getByLabel('User name').fill('admin');
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForURL(/\/ui\/$/);
}

async function dashboardShown(page) {
	await page.waitForFunction(() =>
	    document.getElementById('updated').dataset.time, null,
	    { timeout: 10000 });
}

// --- first run, login ------------------------------------------------------

test('first run: /ui/ redirects to the login, the initial password must be changed', async () => {
	const dev = await device();
	const page = await newPage();
	await page.goto(dev.base + '/ui/settings.html');
	assert(page.url().startsWith(dev.base + '/?next=%2Fui%2Fsettings.html'),
	    'redirected to the login page with next: ' + page.url());
	await shot(page, 'login');
	// The initial password is good for the change only: the server
	// enforces it, whatever the page does.
	const s = await apiLogin(dev, dev.initial);
	let r = await request(dev, 'POST', '/cgi-bin/ui/hostname', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf },
		json: { hostname: 'early' } });
	eq(r.status, 403, 'hostname before the password change');
	eq(r.json.must_change, true, 'must_change');
	r = await request(dev, 'GET', '/cgi-bin/ui/status', { cookie: s.cookie });
	eq(JSON.stringify(r.json), '{"user":"admin","must_change":true}',
	    'status before the change says nothing else');
	r = await request(dev, 'GET', '/cgi-bin/log', { cookie: s.cookie });
	eq(r.status, 403, 'log before the password change');

	await page.getByLabel('User name').fill('admin');
	await page.getByLabel('Password', { exact: true }).fill(dev.initial);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.getByRole('heading', { name: 'Choose your own password' })
	    .waitFor();
	await shot(page, 'first-run-change');
	const np = 'my own secret 1';
	await page.getByLabel('New password', { exact: true }).fill('short');
	await page.getByLabel('Repeat the new password').fill('short');
	await page.getByRole('button', { name: 'Set password' }).click();
	await page.getByText('too short').waitFor();
	await page.getByLabel('New password', { exact: true }).fill(np);
	await page.getByLabel('Repeat the new password').fill(np + 'x');
	await page.getByRole('button', { name: 'Set password' }).click();
	await page.getByText('The two new passwords differ.').waitFor();
	await page.getByLabel('Repeat the new password').fill(np);
	await page.getByRole('button', { name: 'Set password' }).click();
	await page.waitForURL(dev.base + '/ui/settings.html');
	dev.password = np;
	assert(!fs.existsSync(dev.file('etc/porch/password-must-change')),
	    'must-change marker removed');
	const pw = fs.readFileSync(dev.file('etc/porch/passwd'), 'utf8');
	assert(/^admin:\$6\$[^:\n]+\n$/.test(pw), 'a SHA-512 hash: ' + pw);
	assert(!pw.includes(np), 'the password itself is not stored');
	r = await request(dev, 'POST', '/api/session',
	    { json: { user: 'admin', password: dev.initial } });
	eq(r.status, 401, 'the initial password no longer works');
	await page.context().close();
});

test('login: wrong password, then right; a reload stays logged in', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const page = await newPage();
	await page.goto(dev.base + '/');
	await page.getByLabel('User name').fill('admin');
	await page.getByLabel('Password', { exact: true }).fill('wrong-password');
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.getByText('Wrong user name or password.').waitFor();
	await shot(page, 'login-wrong-password');
	await page.getByLabel('Password', { exact: true }).fill(dev.password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.waitForURL(/\/ui\/$/);
	await dashboardShown(page);
	await page.goto(dev.base + '/');	// already logged in: on to /ui/
	await page.waitForURL(/\/ui\/$/);
	await page.context().close();
});

test('login: only local "next" targets are followed', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	for (const next of ['//evil.example/', 'https://evil.example/',
	    '/\\evil.example/']) {
		const page = await newPage();
		await page.goto(dev.base + '/?next=' + encodeURIComponent(next));
		await page.getByLabel('Password', { exact: true })
		    .fill(dev.password);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.waitForURL(dev.base + '/ui/');
		await page.context().close();
	}
});

// --- dashboard -------------------------------------------------------------

test('dashboard: values present, one JSON poll refreshing in the background', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const page = await newPage();
	const polls = [];
	let inflight = 0, maxInflight = 0;
	page.on('request', (r) => {
		if (!r.url().includes('/cgi-bin/ui/status'))
			return;
		polls.push({ bg: r.headers()['x-background'] });
		inflight++;
		maxInflight = Math.max(maxInflight, inflight);
	});
	const done = () => { inflight--; };
	page.on('requestfinished', (r) => {
		if (r.url().includes('/cgi-bin/ui/status')) done();
	});
	page.on('requestfailed', (r) => {
		if (r.url().includes('/cgi-bin/ui/status')) done();
	});
	await loginUI(page, dev);
	await dashboardShown(page);
	/* Counted from a load of the dashboard itself (the login page asked
	 * for the status once too). */
	await page.goto('about:blank');
	polls.length = 0;
	inflight = maxInflight = 0;
	await page.goto(dev.base + '/ui/');
	await dashboardShown(page);
	const text = async (id) => (await page.locator('#' + id).textContent())
	    .trim();
	eq(await text('d-hostname'), fs.readFileSync(dev.file('etc/hostname'),
	    'utf8').trim(), 'hostname');
	eq(await text('d-version'), fs.readFileSync(
	    dev.file('etc/porch-release'), 'utf8').trim(), 'version');
	assert((await text('d-kernel')).startsWith('Linux '), 'kernel');
	assert(/\d/.test(await text('d-uptime')), 'uptime');
	assert(/^\d+\.\d+, \d+\.\d+, \d+\.\d+$/.test(await text('d-load')),
	    'load: ' + await text('d-load'));
	assert(/free of .* used/.test(await text('d-mem')), 'memory');
	const ifaces = await page.locator('#ifaces').textContent();
	assert(ifaces.includes('lo') && ifaces.includes('127.0.0.1/8') &&
	    /received .*sent/.test(ifaces), 'interfaces: ' + ifaces);
	assert(/^porch\//.test(await text('d-server')), 'porch counters');
	assert(/^\d[\d,]*$/.test(await text('d-requests')), 'requests');
	await shot(page, 'dashboard');
	const t1 = await page.locator('#updated').getAttribute('data-time');
	const r1 = await text('d-requests');
	await page.waitForFunction((t) => document.getElementById('updated')
	    .dataset.time !== t, t1, { timeout: 15000 });
	assert(await text('d-requests') !== r1, 'porch counters refreshed');
	eq(polls[0].bg, undefined, 'the first load is not a background poll');
	assert(polls.slice(1).length >= 1 && polls.slice(1).every((p) =>
	    p.bg === '1'), 'refreshes carry X-Background: 1');
	eq(maxInflight, 1, 'requests in flight at once');

	// Hidden: no polls; visible again: one at once.
	await page.evaluate(() => {
		Object.defineProperty(document, 'hidden',
		    { configurable: true, get: () => true });
		document.dispatchEvent(new Event('visibilitychange'));
	});
	const n = polls.length;
	await sleep(11000);
	eq(polls.length, n, 'polls while hidden');
	await page.evaluate(() => {
		Object.defineProperty(document, 'hidden',
		    { configurable: true, get: () => false });
		document.dispatchEvent(new Event('visibilitychange'));
	});
	await until(() => polls.length > n, 2000, 'a poll when visible again');
	await page.context().close();
});

test('dashboard JSON: under 2 KB, its CGI under 50 ms', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const s = await apiLogin(dev);
	const times = [];
	let size = 0;
	for (let i = 0; i < 30; i++) {
		const r = await request(dev, 'GET', '/cgi-bin/ui/status',
		    { cookie: s.cookie, headers: { 'X-Background': '1' } });
		eq(r.status, 200, 'status');
		size = Math.max(size, Buffer.byteLength(r.body));
		times.push(r.ms);
	}
	times.sort((a, b) => a - b);
	const p50 = times[15], p90 = times[27];
	console.log(`    status JSON: ${size} bytes; answer time p50 ` +
	    `${p50.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ` +
	    `${times[29].toFixed(1)} ms (30 requests, a new connection each)`);
	assert(size < 2048, 'JSON size ' + size);
	assert(p50 < 50, 'p50 ' + p50);
});

// --- settings ----------------------------------------------------------------

test('hostname: hostile values rejected, a good one saved, device text shown as text', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const machine = os.hostname();
	const page = await newPage();
	await loginUI(page, dev);
	await page.goto(dev.base + '/ui/settings.html');
	const field = page.getByLabel('Hostname', { exact: true });
	await until(async () => (await field.inputValue()) !== '', 5000,
	    'hostname prefilled');
	for (const bad of ['<img src=x onerror=alert(1)>', '$(reboot)',
	    '`reboot`', 'a;reboot', '-lead', '1234', 'a..b', 'host name']) {
		await page.evaluate(() => {
			document.getElementById('host-msg').textContent = '';
		});
		await field.fill(bad);
		await page.getByRole('button', { name: 'Save hostname' }).click();
		await page.locator('#host-msg', { hasText: 'Not a valid hostname' })
		    .waitFor();
	}
	await shot(page, 'settings-hostname-rejected');
	// Past the page's own check, the device refuses them too.
	const s = await apiLogin(dev);
	for (const bad of ['<img src=x onerror=alert(1)>', '$(reboot)',
	    'a\nb', '', 'x'.repeat(64), 'r\u00e9seau']) {
		const r = await request(dev, 'POST', '/cgi-bin/ui/hostname', {
			cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf },
			json: { hostname: bad } });
		eq(r.status, 422, 'device refuses ' + JSON.stringify(bad));
	}
	let r = await request(dev, 'POST', '/cgi-bin/ui/hostname', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf,
		    'Content-Type': 'application/json' },
		body: '{"hostname":"a","hostname":"b"}' });
	eq(r.status, 400, 'duplicate key refused');
	r = await request(dev, 'POST', '/cgi-bin/ui/hostname', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf,
		    'Content-Type': 'application/x-www-form-urlencoded' },
		body: 'hostname=x' });
	eq(r.status, 415, 'form-encoded body');

	await field.fill('lab-router');
	await page.getByRole('button', { name: 'Save hostname' }).click();
	await page.locator('#host-msg', { hasText: 'Hostname set to “lab-router”' })
	    .waitFor();
	eq(fs.readFileSync(dev.file('etc/hostname'), 'utf8'), 'lab-router\n',
	    'state file');
	eq(await page.locator('#bar-host').textContent(), 'lab-router', 'header');
	await shot(page, 'settings');
	eq(os.hostname(), machine, 'this machine\'s hostname');

	// Text from the device is inert: a hostile name put straight into the
	// state appears literally.
	const hostile = '<img src=x onerror=alert(1)>';
	fs.writeFileSync(dev.file('etc/hostname'), hostile + '\n');
	await page.goto(dev.base + '/ui/');
	await dashboardShown(page);
	eq(await page.locator('#d-hostname').textContent(), hostile,
	    'shown as text');
	eq(await page.locator('img').count(), 0, 'no element made of it');
	fs.writeFileSync(dev.file('etc/hostname'), 'lab-router\n');
	await page.context().close();
	assert(problems.length === 0, problems.join('; '));
});

test('password change in settings: the old password is required', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const page = await newPage();
	await loginUI(page, dev);
	await page.goto(dev.base + '/ui/settings.html');
	const np = 'another secret 2';
	await page.getByLabel('Current password').fill('not the password');
	await page.getByLabel('New password', { exact: true }).fill(np);
	await page.getByLabel('Repeat the new password').fill(np);
	await page.getByRole('button', { name: 'Change password' }).click();
	await page.getByText('The current password is wrong.').waitFor(
	    { timeout: 10000 });
	await page.getByLabel('Current password').fill(dev.password);
	await page.getByRole('button', { name: 'Change password' }).click();
	await page.locator('#pw-msg', { hasText: 'Password changed.' }).waitFor(
	    { timeout: 10000 });
	dev.password = np;
	const s = await apiLogin(dev);
	assert(s.csrf, 'the new password logs in');
	await page.context().close();
});

// --- CSRF, tabs, sessions -------------------------------------------------------

test('CSRF: no token, a wrong token or another Origin are refused', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const page = await newPage();
	await loginUI(page, dev);
	// From the page itself, without the token the script would add.
	const tries = await page.evaluate(async () => {
		const post = async (headers) => (await fetch('/cgi-bin/ui/hostname',
		    { method: 'POST', headers: { 'Content-Type':
		    'application/json', ...headers },
		    body: '{"hostname":"csrf-test"}' })).status;
		return [await post({}), await post({ 'X-CSRF-Token': '0'.repeat(32) })];
	});
	eq(tries[0], 403, 'no token');
	eq(tries[1], 403, 'wrong token');
	const s = await apiLogin(dev);
	let r = await request(dev, 'POST', '/cgi-bin/ui/hostname', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf,
		    Origin: 'http://evil.example' }, json: { hostname: 'x1' } });
	eq(r.status, 403, 'cross-origin');
	r = await request(dev, 'POST', '/cgi-bin/ui/hostname', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf,
		    Origin: dev.base }, json: { hostname: 'lab-router' } });
	eq(r.status, 200, 'same origin with the token');
	r = await request(dev, 'DELETE', '/api/session', { cookie: s.cookie });
	eq(r.status, 403, 'logout without the token');
	assert(fs.readFileSync(dev.file('etc/hostname'), 'utf8') ===
	    'lab-router\n', 'nothing changed by the refused requests');
	await page.context().close();
});

test('several tabs at once; a login in one tab does not break the others', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const ctx = await browser.newContext({ viewport: { width: 1000,
	    height: 800 } });
	const a = await newPage({ context: ctx });
	await loginUI(a, dev);
	const b = await newPage({ context: ctx });
	const c = await newPage({ context: ctx });
	await b.goto(dev.base + '/ui/settings.html');
	await c.goto(dev.base + '/ui/log.html');
	await dashboardShown(a);
	await until(async () => (await b.getByLabel('Hostname', { exact: true })
	    .inputValue()) !== '', 5000, 'settings tab loaded');
	await c.locator('#log-meta', { hasText: 'lines' }).waitFor();
	// Tab c logs in again: a new session (and token) for all tabs.
	await c.goto(dev.base + '/');
	await c.waitForURL(/\/ui\/$/);	// still logged in: no form
	await c.evaluate(async (pw) => fetch('/api/session', { method: 'POST',
	    headers: { 'Content-Type': 'application/json' },
	    body: JSON.stringify({ user: 'admin', password: pw }) }), dev.password);
	// Tab b still holds the old token: the page fetches the new one.
	await b.getByLabel('Hostname', { exact: true }).fill('tabs-router');
	await b.getByRole('button', { name: 'Save hostname' }).click();
	await b.locator('#host-msg', { hasText: 'Hostname set' }).waitFor();
	// Tab a keeps refreshing with the new cookie.
	const t = await a.locator('#updated').getAttribute('data-time');
	await a.waitForFunction((x) => document.getElementById('updated')
	    .dataset.time !== x, t, { timeout: 15000 });
	assert(await a.locator('#banner').isHidden(), 'no banner in tab a');
	fs.writeFileSync(dev.file('etc/hostname'), 'lab-router\n');
	await ctx.close();
});

test('log view: recent lines, filter, refresh, lines shown as text', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	fs.appendFileSync(dev.file('var/log/messages'),
	    'Dec  1 00:00:00 test: <script>alert(1)</script> & <b>bold</b>\n');
	const page = await newPage();
	await loginUI(page, dev);
	await page.goto(dev.base + '/ui/log.html');
	await page.locator('#log-meta', { hasText: 'lines' }).waitFor();
	const log = await page.locator('#log').textContent();
	assert(log.includes('porch-run: starting porch'), 'boot line');
	assert(log.includes('<script>alert(1)</script> & <b>bold</b>'),
	    'hostile line as text');
	eq(await page.locator('#log script, #log b').count(), 0, 'no markup');
	await shot(page, 'log');
	await page.getByLabel('Show only lines containing').fill('porch-run');
	const shown = await page.locator('#log').textContent();
	assert(shown.split('\n').every((l) => l.includes('porch-run')),
	    'filtered');
	fs.appendFileSync(dev.file('var/log/messages'),
	    'Dec  1 00:00:01 porch-run: a new line\n');
	await page.getByRole('button', { name: 'Refresh' }).click();
	await page.locator('#log', { hasText: 'a new line' }).waitFor();
	await page.context().close();
});

// --- firmware ------------------------------------------------------------------

test('firmware: upload with progress, SHA-256 matches, refusals, install keeping settings', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const page = await newPage();
	await loginUI(page, dev);
	await page.goto(dev.base + '/ui/upgrade.html');
	await page.locator('#up-limit', { hasText: 'Images up to' }).waitFor();
	await shot(page, 'firmware');

	// Refused images: checked by the device, nothing installed.
	for (const [f, why] of [
	    [image('bad.bin', '2.0', ['--corrupt']), 'payload checksum mismatch'],
	    [image('arm64.bin', '2.0', ['--arch', 'aarch64']),
		'this image is for aarch64; this device is armhf'],
	    [image('junk.bin', '2.0', ['--size', '1000']), 'valid']]) {
		if (why === 'valid')
			fs.writeFileSync(f, Buffer.alloc(2000, 'x'));
		await page.getByLabel('Firmware image file').setInputFiles(f);
		await page.getByRole('button', { name: 'Upload' }).click();
		await page.locator('#ck-result').waitFor();
		const want = why === 'valid' ? 'not a porch firmware image' : why;
		await page.locator('#ck-result', { hasText: want }).waitFor();
		assert(await page.locator('#inst-form').isHidden(),
		    'no install button for a refused image');
	}
	await shot(page, 'firmware-refused');

	// Too large: the page says so before sending anything.
	const big = path.join(tmp, 'big.bin');
	fs.closeSync(fs.openSync(big, 'w'));
	fs.truncateSync(big, 33 * 1024 * 1024);
	await page.getByLabel('Firmware image file').setInputFiles(big);
	await page.getByRole('button', { name: 'Upload' }).click();
	await page.locator('#up-msg', { hasText: 'The file is too large' })
	    .waitFor();

	// A good one, uploaded slowly enough to see the progress bar move.
	const good = image('v2.bin', '2.0', ['--size', String(3 << 20)]);
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', { offline: false,
	    latency: 0, downloadThroughput: -1,
	    uploadThroughput: 1.5 * 1024 * 1024 });
	await page.evaluate(() => {
		window.progressSeen = [];
		new MutationObserver(() => window.progressSeen.push(
		    document.getElementById('up-progress').value))
		    .observe(document.getElementById('up-progress'),
		    { attributes: true });
	});
	await page.getByLabel('Firmware image file').setInputFiles(good);
	await page.getByRole('button', { name: 'Upload' }).click();
	await page.getByLabel('Upload progress').waitFor();
	await page.waitForFunction(() => {
		const v = document.getElementById('up-progress').value;
		return v > 0 && v < 100;
	}, null, { timeout: 10000 });
	await shot(page, 'firmware-progress');
	await page.locator('#ck-result', { hasText: 'valid' }).waitFor(
	    { timeout: 30000 });
	await cdp.send('Network.emulateNetworkConditions', { offline: false,
	    latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
	const seen = await page.evaluate(() => window.progressSeen);
	assert(seen.some((v) => v > 0 && v < 100) && seen.includes(100),
	    'progress values: ' + seen.join(','));
	const want = sha256(good);
	eq(await page.locator('#ck-sha').textContent(), want, 'device SHA-256');
	eq(await page.locator('#ck-sha-local').textContent(), want +
	    ' — matches', 'browser SHA-256');
	assert((await page.locator('#ck-size').textContent()).startsWith(
	    fs.statSync(good).size.toLocaleString('en') + ' bytes'), 'size');
	eq(await page.locator('#ck-version').textContent(), '2.0 for armhf',
	    'version');
	assert(await page.getByLabel('Keep settings').isChecked(),
	    'keep settings is on by default');
	await shot(page, 'firmware-checked');

	await page.getByRole('button', { name: 'Install firmware' }).click();
	await page.locator('#inst-msg', { hasText: 'Installing firmware 2.0' })
	    .waitFor();
	await shot(page, 'firmware-installing');
	await page.getByRole('heading', { name: '3. Installing' }).waitFor();
	await page.locator('#relogin-form').waitFor({ timeout: 40000 });
	assert(dev.out.includes('simulated reboot'), 'run-dev.sh rebooted');
	await page.getByLabel('Password', { exact: true }).fill(dev.password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.locator('#inst-msg', { hasText:
	    'The device is back and runs firmware 2.0.' }).waitFor();
	await shot(page, 'firmware-done');
	eq(fs.readFileSync(dev.file('etc/porch-release'), 'utf8'), '2.0\n',
	    'version in the state');
	eq(fs.readFileSync(dev.file('etc/hostname'), 'utf8'), 'lab-router\n',
	    'hostname kept');
	await page.context().close();
});

test('firmware: one upload at a time (409), and nothing installs an image not uploaded', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const s = await apiLogin(dev);
	const f = image('slow.bin', '3.0', ['--size', String(1 << 20)]);
	const data = fs.readFileSync(f);
	// A slow first upload on a raw socket: the head and a little body.
	const sock = net.connect(dev.port, '127.0.0.1');
	await new Promise((r) => sock.once('connect', r));
	sock.write('POST /cgi-bin/ui/upgrade HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
	    `Cookie: ${s.cookie}\r\nX-CSRF-Token: ${s.csrf}\r\n` +
	    `Content-Length: ${data.length}\r\n\r\n`);
	sock.write(data.subarray(0, 1000));
	await sleep(500);
	let r = await request(dev, 'GET', '/cgi-bin/ui/upgrade',
	    { cookie: s.cookie });
	eq(r.json.busy, true, 'busy while the first upload runs');
	r = await request(dev, 'POST', '/cgi-bin/ui/upgrade', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf },
		body: data });
	eq(r.status, 409, 'a second upload');
	let answer = '';
	sock.on('data', (d) => { answer += d; });
	sock.write(data.subarray(1000));
	await until(() => answer.includes('\r\n\r\n{'), 10000, 'first answer');
	assert(answer.startsWith('HTTP/1.1 200'), answer.slice(0, 40));
	sock.destroy();
	r = await request(dev, 'POST', '/cgi-bin/ui/install', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf },
		json: { sha256: 'a'.repeat(64), keep: true } });
	eq(r.status, 409, 'install of another digest');
	r = await request(dev, 'POST', '/cgi-bin/ui/install', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf },
		json: { sha256: '$(reboot)', keep: true } });
	eq(r.status, 400, 'install with junk');
});

test('curl: 401 before the body with 100-continue; 413 from the head', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const f = image('curl.bin', '4.0', ['--size', String(2 << 20)]);
	const curl = (args) => execFileSync('curl', ['-sS', '-o',
	    path.join(tmp, 'curl.out'), '-w', '%{http_code} %{size_upload}',
	    ...args], { encoding: 'utf8' }).trim();
	let out = curl(['-T', f, '-H', 'Expect: 100-continue',
	    '--expect100-timeout', '10', dev.base + '/cgi-bin/ui/upgrade']);
	eq(out, '401 0', 'unauthenticated upload: status and bytes sent');
	// On a raw socket: the answer comes with no byte of body sent.
	const sock = net.connect(dev.port, '127.0.0.1');
	let answer = '';
	sock.on('data', (d) => { answer += d; });
	await new Promise((r) => sock.once('connect', r));
	sock.write('POST /cgi-bin/ui/upgrade HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
	    'Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n');
	await until(() => answer.includes('\r\n\r\n'), 5000, 'an answer');
	assert(answer.startsWith('HTTP/1.1 401'), answer.split('\r\n')[0]);
	assert(!answer.includes('100 Continue'), 'no 100 Continue');
	assert(/connection: close/i.test(answer), 'Connection: close');
	sock.destroy();

	const s = await apiLogin(dev);
	const big = path.join(tmp, 'big40.bin');
	fs.closeSync(fs.openSync(big, 'w'));
	fs.truncateSync(big, 40 * 1024 * 1024);
	out = curl(['-T', big, '-X', 'POST', '-H', 'Expect: 100-continue',
	    '--expect100-timeout', '10', '-H', 'Cookie: ' + s.cookie,
	    '-H', 'X-CSRF-Token: ' + s.csrf, dev.base + '/cgi-bin/ui/upgrade']);
	eq(out, '413 0', 'over the limit: status and bytes sent');
	// Forms have a small limit of their own.
	out = curl(['-X', 'POST', '-H', 'Cookie: ' + s.cookie,
	    '-H', 'X-CSRF-Token: ' + s.csrf, '-H', 'Expect: 100-continue',
	    '-H', 'Content-Type: application/json', '--data-binary',
	    '@' + f, dev.base + '/cgi-bin/ui/hostname']);
	eq(out.split(' ')[0], '413', 'a form with an image-sized body');
});

test('firmware: install without keeping settings starts like new', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const page = await newPage();
	await loginUI(page, dev);
	await page.goto(dev.base + '/ui/upgrade.html');
	await page.getByLabel('Firmware image file').setInputFiles(
	    image('v5.bin', '5.0'));
	await page.getByRole('button', { name: 'Upload' }).click();
	await page.locator('#ck-result', { hasText: 'valid' }).waitFor();
	await page.getByLabel('Keep settings').uncheck();
	const before = dev.passwords().length;
	await page.getByRole('button', { name: 'Install firmware' }).click();
	await page.locator('#relogin-form').waitFor({ timeout: 40000 });
	await page.locator('#relogin-msg', { hasText: 'Settings were erased' })
	    .waitFor();
	await until(() => dev.passwords().length > before, 10000,
	    'a new initial password printed');
	dev.initial = dev.password = dev.passwords().at(-1);
	await page.getByLabel('Password', { exact: true }).fill(dev.password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.getByRole('heading', { name: 'Choose your own password' })
	    .waitFor();
	eq(fs.readFileSync(dev.file('etc/hostname'), 'utf8'), 'porch-dev\n',
	    'hostname back to the default');
	await page.context().close();
	await pastFirstRun(dev);
});

// --- logout, expiry, back-off, unreachable ---------------------------------------

test('logout: the session ends for every tab', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const ctx = await browser.newContext();
	const page = await newPage({ context: ctx });
	const other = await newPage({ context: ctx });
	await loginUI(page, dev);
	await other.goto(dev.base + '/ui/');
	await dashboardShown(other);
	await page.getByRole('button', { name: 'Log out' }).click();
	await page.waitForURL(dev.base + '/?msg=logout');
	await page.getByText('You have logged out.').waitFor();
	await shot(page, 'logged-out');
	await other.locator('#banner', { hasText: 'Log in again' }).or(
	    other.locator('#banner', { hasText: 'not logged in' })).waitFor(
	    { timeout: 15000 });
	await page.goto(dev.base + '/ui/log.html');
	assert(page.url().startsWith(dev.base + '/?next='), 'sent to login');
	const st = await page.evaluate(async () =>
	    (await fetch('/cgi-bin/ui/status')).status);
	eq(st, 401, 'status after logout');
	await ctx.close();
});

test('session expiry: background polls do not keep a session alive', async () => {
	const dev = await startDevice(['session_idle 10']);
	try {
		await pastFirstRun(dev);
		const page = await newPage();
		await loginUI(page, dev);
		await dashboardShown(page);
		await page.locator('#banner', { hasText: 'Your session expired' })
		    .waitFor({ timeout: 30000 });
		const link = page.getByRole('link', { name: 'Log in' });
		assert((await link.getAttribute('href')).startsWith('/?next='),
		    'link back to the login');
		await shot(page, 'session-expired');
		await link.click();
		await page.getByText('Your session expired. Log in again.').waitFor();
		await page.getByLabel('Password', { exact: true }).fill(dev.password);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.waitForURL(dev.base + '/ui/');
		await dashboardShown(page);

		// The device goes away: the page says so and keeps trying.
		await dev.stop();
		await page.locator('#banner', { hasText: 'does not answer' })
		    .waitFor({ timeout: 40000 });
		await shot(page, 'device-unreachable');
		await page.context().close();
	} finally {
		await dev.stop();
	}
});

test('back-off: repeated wrong passwords lock the login for a while', async () => {
	const dev = await startDevice();
	try {
		const page = await newPage();
		await page.goto(dev.base + '/');
		await page.getByLabel('User name').fill('admin');
		let locked = false;
		for (let i = 0; i < 12 && !locked; i++) {
			await page.getByLabel('Password', { exact: true })
			    .fill('wrong ' + i);
			await page.getByRole('button', { name: 'Log in' }).click();
			await page.locator('#login-msg', { hasText: /Wrong|Too many/ })
			    .waitFor();
			locked = (await page.locator('#login-msg').textContent())
			    .includes('Too many failed logins');
		}
		assert(locked, 'locked out after repeated failures');
		assert(await page.getByRole('button', { name: 'Log in' })
		    .isDisabled(), 'the button waits');
		await shot(page, 'login-locked');
		await page.getByText('You can try again now.').waitFor(
		    { timeout: 70000 });
		await page.getByLabel('Password', { exact: true }).fill(dev.initial);
		await page.getByRole('button', { name: 'Log in' }).click();
		await page.getByRole('heading', { name: 'Choose your own password' })
		    .waitFor();
		await page.context().close();
	} finally {
		await dev.stop();
	}
});

// --- the page itself ---------------------------------------------------------------

const PAGES = ['/ui/', '/ui/settings.html', '/ui/upgrade.html',
    '/ui/log.html'];

test('headers: CSP, no framing, no sniffing; versioned assets cached a year, gzip', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const s = await apiLogin(dev);
	for (const p of ['/', ...PAGES, '/cgi-bin/ui/status']) {
		const r = await request(dev, 'GET', p, { cookie: s.cookie,
		    headers: { 'Accept-Encoding': 'gzip' } });
		eq(r.status, 200, p);
		const csp = r.headers['content-security-policy'] || '';
		assert(csp.includes("default-src 'self'") &&
		    csp.includes("frame-ancestors 'none'"), p + ' CSP: ' + csp);
		eq(r.headers['x-content-type-options'], 'nosniff', p);
	}
	const html = fs.readdirSync(process.env.UI_WWW + '/ui').map((f) =>
	    'ui/' + f).concat(['index.html']).filter((f) => f.endsWith('.html'));
	for (const f of html) {
		const t = fs.readFileSync(path.join(process.env.UI_WWW, f), 'utf8');
		assert(!/<script(?![^>]*\ssrc=)/i.test(t), f + ': inline script');
		assert(!/\son[a-z]+\s*=/i.test(t), f + ': inline handler');
		assert(!/\sstyle\s*=/i.test(t), f + ': inline style');
	}
	const index = (await request(dev, 'GET', '/')).body;
	const assets = [...index.matchAll(/"(\/a\/[^"]+)"/g)].map((m) => m[1]);
	eq(assets.length, 3, 'assets of the login page');
	for (const a of assets) {
		assert(/\.[0-9a-f]{10}\.[a-z]+$/.test(a), 'versioned name ' + a);
		const r = await request(dev, 'GET', a,
		    { headers: { 'Accept-Encoding': 'gzip' } });
		assert(/max-age=31536000/.test(r.headers['cache-control']) &&
		    /immutable/.test(r.headers['cache-control']),
		    a + ' cache: ' + r.headers['cache-control']);
		eq(r.headers['content-encoding'], 'gzip', a + ' encoding');
	}
});

test('weight and speed: a cold dashboard load (2 workers)', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	const runs = [];
	for (let i = 0; i < 3; i++) {
		const s = await apiLogin(dev);
		const ctx = await browser.newContext();	// an empty cache
		await ctx.addCookies([{ name: 'porch_session', value: s.value,
		    domain: '127.0.0.1', path: '/', httpOnly: true,
		    sameSite: 'Strict' }]);
		/* When the first data is on the page, by the page's own clock. */
		await ctx.addInitScript(() => {
			new MutationObserver(() => {
				if (window.shownAt === undefined)
					window.shownAt = performance.now();
			}).observe(document, { attributes: true, subtree: true,
			    attributeFilter: ['data-time'] });
		});
		const page = await newPage({ context: ctx });
		const cdp = await ctx.newCDPSession(page);
		await cdp.send('Network.enable');
		await cdp.send('Network.clearBrowserCache');
		const reqs = new Map();
		let bytes = 0;
		cdp.on('Network.requestWillBeSent', (e) => reqs.set(e.requestId,
		    e.request.url));
		cdp.on('Network.loadingFinished', (e) => {
			bytes += e.encodedDataLength;
		});
		await page.goto(dev.base + '/ui/');
		await dashboardShown(page);
		await page.waitForLoadState('load');
		await sleep(300);	// anything late would count too
		const nav = await page.evaluate(() => {
			const n = performance.getEntriesByType('navigation')[0];
			return { load: n.loadEventEnd, shown: window.shownAt,
			    res: [n, ...performance.getEntriesByType('resource')]
			    .map((e) => e.name.replace(/^https?:\/\/[^/]+/, '') +
			    ' ' + e.startTime.toFixed(0) + '-' +
			    e.responseEnd.toFixed(0)) };
		});
		runs.push({ n: reqs.size, bytes, load: nav.load,
		    shown: Math.round(Math.max(nav.load, nav.shown)),
		    urls: [...reqs.values()], res: nav.res });
		await ctx.close();
	}
	for (const r of runs)
		console.log(`    cold dashboard: ${r.n} requests, ${r.bytes} bytes ` +
		    `on the wire, load event ${r.load.toFixed(0)} ms, complete with ` +
		    `its data ${r.shown} ms after the navigation started`);
	console.log('    requests (ms from the navigation): ' +
	    runs[0].res.join(', '));
	for (const r of runs) {
		assert(r.n <= 6, 'requests ' + r.n);
		assert(r.bytes <= 60 * 1024, 'bytes ' + r.bytes);
	}
	assert(runs[0].shown < 1000, 'first full load ' + runs[0].shown + ' ms');
});

test('layout: 360 px wide, labels on every control, AA contrast light and dark', async () => {
	const dev = await device();
	await pastFirstRun(dev);
	for (const scheme of ['light', 'dark']) {
		const page = await newPage({ viewport: { width: 360, height: 740 },
		    colorScheme: scheme });
		await page.goto(dev.base + '/');
		await page.waitForLoadState('load');
		const pages = [['/', 'login']];
		await loginUI(page, dev);
		pages.push(...PAGES.map((p) => [p, p.replace(/^\/ui\/|\.html$/g,
		    '') || 'dashboard']));
		for (const [p, name] of pages) {
			if (p !== '/')
				await page.goto(dev.base + p);
			else {
				await page.context().clearCookies();
				await page.goto(dev.base + '/');
			}
			await page.waitForLoadState('load');
			await sleep(600);
			const r = await page.evaluate(checkPage);
			assert(r.width <= 361, `${p} ${scheme}: ${r.width} px wide`);
			assert(r.unlabelled.length === 0,
			    `${p}: controls without a visible label: ` +
			    r.unlabelled.join(', '));
			assert(r.lowContrast.length === 0, `${p} ${scheme}: ` +
			    r.lowContrast.slice(0, 5).join('; '));
			await shot(page, `mobile-${scheme}-${name}`);
			if (p === '/')
				await loginUI(page, dev);
		}
		await page.context().close();
	}
	assert(problems.length === 0, problems.join('; '));
});

// Runs in the page: width, unlabelled controls, text below 4.5:1.
function checkPage() {
	const visible = (el) => {
		const r = el.getBoundingClientRect();
		const cs = getComputedStyle(el);
		return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden';
	};
	const unlabelled = [];
	for (const el of document.querySelectorAll('input, select, textarea')) {
		if (el.type === 'hidden' || !visible(el))
			continue;
		const ok = [...el.labels].some((l) => visible(l) &&
		    l.textContent.trim() !== '');
		if (!ok)
			unlabelled.push(el.id || el.name || el.type);
	}
	const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
	const lum = ([r, g, b]) => {
		const f = (c) => {
			c /= 255;
			return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
		};
		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
	};
	const background = (el) => {
		for (let e = el; e; e = e.parentElement) {
			const c = rgb(getComputedStyle(e).backgroundColor);
			if (c.length >= 3 && (c.length === 3 || c[3] > 0))
				return c;
		}
		return [255, 255, 255];
	};
	const lowContrast = [];
	const walker = document.createTreeWalker(document.body,
	    NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		const el = n.parentElement;
		if (!n.textContent.trim() || !visible(el) || el.closest(
		    'button:disabled, option, [aria-hidden="true"]'))
			continue;
		const cs = getComputedStyle(el);
		const l1 = lum(rgb(cs.color)), l2 = lum(background(el));
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(cs.fontSize);
		const large = size >= 24 || (size >= 18.66 &&
		    Number(cs.fontWeight) >= 700);
		if (ratio < (large ? 3 : 4.5))
			lowContrast.push(`"${n.textContent.trim().slice(0, 30)}" ` +
			    ratio.toFixed(2));
	}
	return { width: document.documentElement.scrollWidth, unlabelled,
	    lowContrast };
}

// A failed test leaves pictures of every page still open.
async function onFail(name) {
	let i = 0;
	for (const ctx of browser.contexts())
		for (const p of ctx.pages())
			await p.screenshot({ path: path.join(OUT, 'FAILED-' +
			    name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40) + '-' + i++ +
			    '.png'), fullPage: true });
}

const ok = await run(process.argv.slice(2), async () => {
	if (mainDev)
		await mainDev.stop();
	await browser.close();
	fs.rmSync(tmp, { recursive: true, force: true });
	if (problems.length)
		console.log('page problems: ' + problems.join('; '));
}, onFail);
process.exit(ok && problems.length === 0 ? 0 : 1);
