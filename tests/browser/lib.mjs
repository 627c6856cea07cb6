// Helpers of the admin UI's browser tests: a device (make run's
// rootfs/run-dev.sh on a free port), plain HTTP requests beside the
// browser, and a tiny runner whose last line is "N passed, N failed".
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export const TOP = process.env.UI_TOP;
export const PORCH = process.env.UI_PORCH;
export const WWW = process.env.UI_WWW;
export const OUT = process.env.UI_OUT;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, msg) {
	if (!cond)
		throw new Error(msg || 'assertion failed');
}

export function eq(got, want, what) {
	if (got !== want)
		throw new Error(`${what}: got ${JSON.stringify(got)}, want ` +
		    JSON.stringify(want));
}

export async function until(fn, ms, what) {
	const end = Date.now() + ms;
	let last;
	for (;;) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e;
		}
		if (Date.now() > end)
			throw new Error(`timed out after ${ms} ms: ${what}` +
			    (last instanceof Error ? ': ' + last.message : ''));
		await sleep(100);
	}
}

export function sha256(file) {
	return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

function answers(port) {
	return new Promise((resolve) => {
		const r = http.get({ host: '127.0.0.1', port, path: '/',
		    agent: false }, (res) => {
			res.resume();
			resolve(true);
		});
		r.on('error', () => resolve(false));
		r.setTimeout(1000, () => {
			r.destroy();
			resolve(false);
		});
	});
}

// One device: rootfs/run-dev.sh, its printed password and state directory.
export async function startDevice(porchOpts = []) {
	const port = await freePort();
	const env = { ...process.env, RUN_DEV_OPTS: porchOpts.join('\n') };
	const child = spawn('sh', [path.join(TOP, 'rootfs/run-dev.sh'), PORCH,
	    String(port), WWW], { detached: true, env,
	    stdio: ['ignore', 'pipe', 'pipe'] });
	const dev = {
		port, base: `http://127.0.0.1:${port}`, out: '', err: '',
		child, exited: false,
	};
	child.stdout.on('data', (d) => { dev.out += d; });
	child.stderr.on('data', (d) => { dev.err += d; });
	child.on('exit', () => { dev.exited = true; });
	await until(() => /admin password: (\S+)/.test(dev.out) ||
	    dev.exited, 15000, 'run-dev.sh printing the password');
	if (dev.exited)
		throw new Error('run-dev.sh exited:\n' + dev.out + dev.err);
	dev.initial = dev.out.match(/admin password: (\S+)/)[1];
	dev.password = dev.initial;
	dev.state = dev.out.match(/state in (\S+);/)[1];
	await until(() => answers(port), 10000, 'porch answering');
	dev.stop = async () => {
		if (dev.exited)
			return;
		try { process.kill(-child.pid, 'SIGTERM'); } catch (e) { /* gone */ }
		await until(() => dev.exited, 15000, 'run-dev.sh stopping')
		    .catch(() => process.kill(-child.pid, 'SIGKILL'));
	};
	// The passwords printed so far (a wiped upgrade prints a new one).
	dev.passwords = () => [...dev.out.matchAll(/admin password: (\S+)/g)]
	    .map((m) => m[1]);
	dev.file = (rel) => path.join(dev.state, rel);
	return dev;
}

// A plain HTTP request; body a string or Buffer. Never follows redirects.
export function request(dev, method, p, opts = {}) {
	return new Promise((resolve, reject) => {
		const headers = { ...(opts.headers || {}) };
		if (opts.cookie)
			headers.Cookie = opts.cookie;
		if (opts.json !== undefined) {
			opts.body = JSON.stringify(opts.json);
			headers['Content-Type'] = 'application/json';
		}
		if (opts.body !== undefined)
			headers['Content-Length'] = Buffer.byteLength(opts.body);
		const t0 = process.hrtime.bigint();
		const r = http.request({ host: '127.0.0.1', port: dev.port,
		    method, path: p, headers, agent: false }, (res) => {
			const chunks = [];
			let first = null;
			res.on('data', (c) => {
				if (first === null)
					first = process.hrtime.bigint();
				chunks.push(c);
			});
			res.on('end', () => {
				const body = Buffer.concat(chunks).toString();
				let json = null;
				try { json = JSON.parse(body); } catch (e) { /* text */ }
				resolve({ status: res.statusCode,
				    headers: res.headers, body, json,
				    ms: Number(process.hrtime.bigint() - t0) / 1e6 });
			});
		});
		r.on('error', reject);
		if (opts.body !== undefined)
			r.write(opts.body);
		r.end();
	});
}

// Logs in over the API: { cookie, csrf, value }.
export async function apiLogin(dev, password = dev.password) {
	const r = await request(dev, 'POST', '/api/session',
	    { json: { user: 'admin', password } });
	eq(r.status, 200, 'login status (' + r.body + ')');
	const sc = [].concat(r.headers['set-cookie'] || [])[0] || '';
	const m = sc.match(/porch_session=([0-9a-f]+)/);
	assert(m, 'no session cookie: ' + sc);
	return { cookie: 'porch_session=' + m[1], value: m[1],
	    csrf: r.json.csrf };
}

// The first-run password change, done over the API when a test needs
// a device past it.
export async function pastFirstRun(dev) {
	if (dev.password !== dev.initial || !fs.existsSync(
	    dev.file('etc/porch/password-must-change')))
		return;
	const s = await apiLogin(dev);
	const np = 'secret-' + Math.random().toString(36).slice(2, 10);
	const r = await request(dev, 'POST', '/cgi-bin/ui/password', {
		cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf },
		json: { old: dev.password, new: np } });
	eq(r.status, 200, 'password change: ' + r.body);
	dev.password = np;
}

const tests = [];
export function test(name, fn) {
	tests.push({ name, fn });
}

export async function run(filters, after, onFail = async () => {}) {
	let passed = 0, failed = 0;
	const chosen = tests.filter((t) => filters.length === 0 ||
	    filters.some((f) => t.name.includes(f)));
	for (const t of chosen) {
		const t0 = Date.now();
		try {
			await t.fn();
			passed++;
			console.log(`ok - ${t.name} (${Date.now() - t0} ms)`);
		} catch (e) {
			failed++;
			console.log(`FAIL - ${t.name} (${Date.now() - t0} ms)`);
			await onFail(t.name).catch(() => {});
			console.log('    ' + String(e && e.stack || e)
			    .split('\n').slice(0, 8).join('\n    '));
		}
	}
	await after();
	console.log(`${passed} passed, ${failed} failed`);
	return failed === 0;
}
