/*
 * The admin UI: one script for every page (body[data-page] picks the
 * part that runs). Plain DOM, no framework, no build step.
 *
 * Rules kept everywhere below:
 * - text from the device (hostnames, log lines, interface names, error
 *   messages) goes into the page with textContent only, never as markup;
 * - state-changing requests carry the session's CSRF token (porch checks
 *   it); a token gone stale (a login in another tab) is fetched again
 *   once;
 * - automatic requests carry "X-Background: 1", so they never keep an
 *   idle session alive; at most one is in flight, none while hidden.
 */
'use strict';

(() => {
	const API_SESSION = '/api/session';
	const API = '/cgi-bin/ui/';
	const LOG = '/cgi-bin/log';
	const POLL_MS = 5000;
	const $ = (id) => document.getElementById(id);
	const page = document.body.dataset.page;

	/* --- talking to the device ------------------------------------ */

	class ApiError extends Error {
		constructor(status, data) {
			super((data && data.error) || (status === 0 ?
			    'unreachable' : 'HTTP ' + status));
			this.status = status;
			this.data = data || {};
		}
	}

	let token = null;
	let currentUser = 'admin';

	async function request(method, url, opts = {}) {
		const headers = { Accept: 'application/json' };
		let body;
		if (opts.background)
			headers['X-Background'] = '1';
		if (opts.json !== undefined) {
			headers['Content-Type'] = 'application/json';
			body = JSON.stringify(opts.json);
		}
		if (opts.csrf)
			headers['X-CSRF-Token'] = opts.csrf;
		let res;
		try {
			res = await fetch(url, { method, headers, body,
			    credentials: 'same-origin', cache: 'no-store',
			    redirect: 'error' });
		} catch (e) {
			throw new ApiError(0, null);
		}
		let data = null;
		let text = '';
		try {
			text = await res.text();
		} catch (e) {
			throw new ApiError(0, null);
		}
		if ((res.headers.get('Content-Type') || '').startsWith(
		    'application/json')) {
			try { data = JSON.parse(text); } catch (e) { data = null; }
		}
		if (!res.ok)
			throw new ApiError(res.status, data);
		return opts.text ? text : data;
	}

	async function csrfToken(fresh) {
		if (token === null || fresh) {
			const s = await request('GET', API_SESSION);
			token = s.csrf;
		}
		return token;
	}

	/* A state-changing request: token, and one retry with a fresh token
	 * when porch says the one we hold is not the session's. */
	async function send(method, url, json) {
		let t = await csrfToken(false);
		try {
			return await request(method, url, { json, csrf: t });
		} catch (e) {
			if (e.status !== 403 || e.data.error !== 'csrf')
				throw e;
			t = await csrfToken(true);
			return request(method, url, { json, csrf: t });
		}
	}

	async function login(user, password) {
		const s = await request('POST', API_SESSION,
		    { json: { user, password } });
		token = s.csrf;
		currentUser = s.user || user;
		return s;
	}

	/* porch ends every session when the password file changes: the new
	 * password opens a new one at once, for this tab (the others must log
	 * in again, as they should after a password change). */
	/* Why a new password (typed twice) cannot be sent, or null; the
	 * device checks again. */
	function newPasswordProblem(n1, n2) {
		if (n1.length < 8)
			return 'The new password is too short: use at least ' +
			    '8 characters.';
		if (n1 !== n2)
			return 'The two new passwords differ.';
		return null;
	}

	async function changePassword(old, nw) {
		await send('POST', API + 'password', { old, new: nw });
		token = null;
		try {
			await login(currentUser, nw);
		} catch (e) {
			/* the change stands; the next request says why */
		}
	}

	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

	/* --- words ------------------------------------------------------ */

	function bytes(n) {
		if (typeof n !== 'number')
			return '–';
		const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
		let i = 0;
		while (n >= 1024 && i < u.length - 1) {
			n /= 1024;
			i++;
		}
		return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) +
		    ' ' + u[i];
	}

	function duration(s) {
		if (typeof s !== 'number')
			return '–';
		const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24,
		    m = Math.floor(s / 60) % 60;
		if (d > 0)
			return d + ' d ' + h + ' h ' + m + ' min';
		if (h > 0)
			return h + ' h ' + m + ' min';
		if (m > 0)
			return m + ' min ' + (s % 60) + ' s';
		return s + ' s';
	}

	const count = (n) => typeof n === 'number' ?
	    n.toLocaleString('en') : '–';

	/* What a user reads for each failure. */
	function explain(e) {
		switch (e.status) {
		case 0:
			return 'The device does not answer. Check the ' +
			    'connection; this page keeps trying.';
		case 401:
			return e.data.error === 'session expired' ?
			    'Your session expired. Log in again to continue.' :
			    'You are not logged in.';
		case 403:
			if (e.data.error === 'csrf')
				return 'The device refused the request ' +
				    '(security token). Reload the page.';
			return e.data.error || 'Not allowed.';
		case 409:
			return e.data.error || 'The device is busy.';
		case 413:
			return e.data.error || 'Too large for this device.';
		case 429:
			return 'Too many failed attempts. Try again in ' +
			    (e.data.retry_after || 'a few') + ' s.';
		default:
			return e.data.error || ('The device answered with an ' +
			    'error (' + e.status + ').');
		}
	}

	function say(el, text, kind) {
		el.textContent = text;
		el.classList.toggle('error', kind === 'error');
		el.classList.toggle('ok', kind === 'ok');
	}

	/* --- the frame of every page behind the login --------------------- */

	let stopped = false;

	function banner(text, login) {
		const b = $('banner');
		if (!b)
			return;
		if (!text) {
			b.hidden = true;
			return;
		}
		$('banner-text').textContent = text;
		const a = $('banner-link');
		a.hidden = !login;
		if (login)
			a.href = loginUrl('expired');
		b.hidden = false;
	}

	function loginUrl(msg) {
		const next = location.pathname + location.search;
		return '/?next=' + encodeURIComponent(next) +
		    (msg ? '&msg=' + msg : '');
	}

	/* Common handling of a failed request; true when handled. */
	function trouble(e) {
		if (e.status === 401) {
			stopped = true;
			banner(explain(e), true);
			return true;
		}
		if (e.status === 0) {
			banner(explain(e), false);
			return true;
		}
		if (e.status === 403 && e.data.must_change) {
			location.assign('/?msg=change&next=' +
			    encodeURIComponent(location.pathname));
			return true;
		}
		return false;
	}

	function frame() {
		const out = $('logout');
		if (out)
			out.addEventListener('click', async () => {
				out.disabled = true;
				try {
					await send('DELETE', API_SESSION);
				} catch (e) {
					if (e.status !== 401) {
						out.disabled = false;
						banner('Logging out failed: ' +
						    explain(e), false);
						return;
					}
				}
				location.assign('/?msg=logout');
			});
	}

	function showHost(name) {
		const h = $('bar-host');
		if (h && name)
			h.textContent = name;
		if (name)
			document.title = document.title.replace(/ · .*$/,
			    ' · ' + name);
	}

	/* The status once, for the frame (hostname, forced change). */
	async function status(background) {
		const s = await request('GET', API + 'status', { background });
		if (s.must_change) {
			location.assign('/?msg=change&next=' +
			    encodeURIComponent(location.pathname));
			throw new ApiError(-1, { error: 'must change' });
		}
		banner(null);
		showHost(s.hostname);
		if (s.user)
			currentUser = s.user;
		return s;
	}

	/* --- login page ------------------------------------------------------ */

	function safeNext() {
		const n = new URLSearchParams(location.search).get('next');
		/* Only a path on this device: "/x", never "//host" or "/\host". */
		if (n && n.startsWith('/') && !n.startsWith('//') &&
		    !n.startsWith('/\\'))
			return n;
		return '/ui/';
	}

	function pageLogin() {
		const notices = {
			expired: 'Your session expired. Log in again.',
			logout: 'You have logged out.',
			change: 'Choose a new password before you continue.',
			upgraded: 'The device restarted. Log in again.',
		};
		const msg = new URLSearchParams(location.search).get('msg');
		if (Object.prototype.hasOwnProperty.call(notices, msg)) {
			$('notice').textContent = notices[msg];
			$('notice').hidden = false;
		}
		let oldPassword = null;
		let retryTimer = null;

		const form = $('login-form'), change = $('change-form');
		const go = () => location.replace(safeNext());

		async function afterLogin() {
			let s;
			try {
				s = await request('GET', API + 'status');
			} catch (e) {
				go();
				return;
			}
			if (!s.must_change) {
				go();
				return;
			}
			form.hidden = true;
			change.hidden = false;
			$('change-old-row').hidden = oldPassword !== null;
			(oldPassword === null ? $('change-old') :
			    $('change-new')).focus();
		}

		function backoff(seconds) {
			const btn = $('login-submit');
			let left = seconds;
			clearInterval(retryTimer);
			btn.disabled = true;
			const tick = () => {
				if (left <= 0) {
					clearInterval(retryTimer);
					btn.disabled = false;
					say($('login-msg'), 'You can try again now.');
					return;
				}
				say($('login-msg'), 'Too many failed logins. ' +
				    'Try again in ' + left + ' s.', 'error');
				left--;
			};
			tick();
			retryTimer = setInterval(tick, 1000);
		}

		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const user = $('login-user').value.trim();
			const pw = $('login-password').value;
			if (!user || !pw) {
				say($('login-msg'), 'Enter the user name and ' +
				    'the password.', 'error');
				return;
			}
			$('login-submit').disabled = true;
			say($('login-msg'), 'Logging in…');
			try {
				await login(user, pw);
				currentUser = user;
				oldPassword = pw;
				$('login-password').value = '';
				say($('login-msg'), '');
				await afterLogin();
			} catch (e) {
				$('login-submit').disabled = false;
				$('login-password').select();
				if (e.status === 401)
					say($('login-msg'), 'Wrong user name or ' +
					    'password.', 'error');
				else if (e.status === 429)
					backoff(Number(e.data.retry_after) || 1);
				else
					say($('login-msg'), explain(e), 'error');
			}
		});

		change.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const old = oldPassword !== null ? oldPassword :
			    $('change-old').value;
			const n1 = $('change-new').value,
			    n2 = $('change-new2').value;
			const m = $('change-msg');
			const problem = newPasswordProblem(n1, n2);
			if (problem) {
				say(m, problem, 'error');
				return;
			}
			$('change-submit').disabled = true;
			try {
				await changePassword(old, n1);
				oldPassword = null;
				say(m, 'Password changed.', 'ok');
				go();
			} catch (e) {
				$('change-submit').disabled = false;
				if (e.status === 403 && e.data.error !== 'csrf') {
					oldPassword = null;
					$('change-old-row').hidden = false;
					say(m, 'The current password is wrong.',
					    'error');
				} else if (e.status === 401) {
					change.hidden = true;
					form.hidden = false;
					say($('login-msg'), explain(e), 'error');
				} else
					say(m, explain(e), 'error');
			}
		});

		/* Already logged in (a reload, another tab)? */
		request('GET', API_SESSION).then(() => afterLogin(),
		    (e) => {
			if (e.status === 0)
				say($('login-msg'), explain(e), 'error');
		});
		$('login-password').focus();
	}

	/* --- dashboard ------------------------------------------------------- */

	function pageDashboard() {
		let timer = null, inflight = false, failures = 0, first = true;

		function render(s) {
			const set = (id, v) => { $(id).textContent = v; };
			set('d-hostname', s.hostname || '–');
			set('d-version', s.version || '–');
			set('d-kernel', s.kernel || '–');
			set('d-uptime', duration(s.uptime));
			set('d-load', Array.isArray(s.load) ?
			    s.load.map(String).join(', ') : '–');
			if (s.mem && s.mem.total > 0) {
				const used = 1 - s.mem.available / s.mem.total;
				set('d-mem', bytes(s.mem.available * 1024) +
				    ' free of ' + bytes(s.mem.total * 1024) +
				    ' (' + Math.round(used * 100) + ' % used)');
				$('d-mem-bar').style.width =
				    Math.round(used * 100) + '%';
			}
			const list = $('ifaces');
			const items = (s.ifaces || []).map((i) => {
				const li = document.createElement('li');
				const name = document.createElement('span');
				name.className = 'name';
				name.textContent = i.name;
				const state = document.createElement('span');
				state.className = 'meta';
				state.textContent = i.up ? ' up' : ' down';
				li.append(name, state);
				for (const a of i.addrs || []) {
					const d = document.createElement('div');
					d.className = 'addr';
					d.textContent = a;
					li.append(d);
				}
				const t = document.createElement('div');
				t.className = 'meta';
				t.textContent = 'received ' + bytes(i.rx) +
				    ', sent ' + bytes(i.tx);
				li.append(t);
				return li;
			});
			list.replaceChildren(...items);
			$('ifaces-more').hidden = !(s.ifaces_more > 0);
			$('ifaces-more').textContent = s.ifaces_more > 0 ?
			    s.ifaces_more + ' more interfaces not shown.' : '';
			const p = s.porch;
			if (p) {
				set('d-server', p.server);
				set('d-srv-uptime', duration(p.uptime));
				set('d-requests', count(p.requests));
				set('d-connections', count(p.connections));
				set('d-bytes', bytes(p.bytes));
				set('d-errors', count(p.status_4xx) + ', ' +
				    count(p.status_5xx));
				set('d-workers', count(p.idle) + ' of ' +
				    count(p.workers));
			} else
				set('d-server', 'counters unavailable');
			const when = new Date((s.time || 0) * 1000);
			$('updated').textContent = 'Updated ' +
			    when.toLocaleTimeString('en-GB') +
			    '; refreshes every ' + POLL_MS / 1000 + ' s.';
			$('updated').dataset.time = String(s.time);
		}

		function schedule(ms) {
			clearTimeout(timer);
			if (!stopped && !document.hidden)
				timer = setTimeout(poll, ms);
		}

		async function poll() {
			if (inflight || stopped || document.hidden)
				return;
			inflight = true;
			clearTimeout(timer);
			try {
				/* The first load is the user's; refreshes are
				 * background polls. */
				render(await status(!first));
				first = false;
				failures = 0;
			} catch (e) {
				failures++;
				if (!trouble(e) && e.status !== -1)
					banner(explain(e), false);
			} finally {
				inflight = false;
			}
			schedule(failures ? Math.min(POLL_MS * 2 ** failures,
			    30000) : POLL_MS);
		}

		document.addEventListener('visibilitychange', () => {
			if (document.hidden)
				clearTimeout(timer);
			else
				poll();
		});
		poll();
	}

	/* --- settings -------------------------------------------------------- */

	const HOSTNAME_RE = /^(?=.{1,63}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

	function pageSettings() {
		status(false).then((s) => {
			if (!$('host-name').value)
				$('host-name').value = s.hostname || '';
		}, (e) => trouble(e));

		$('host-form').addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const name = $('host-name').value.trim();
			const m = $('host-msg');
			/* The device checks again; this only saves a trip. */
			if (!HOSTNAME_RE.test(name) || /^[0-9.]+$/.test(name)) {
				say(m, 'Not a valid hostname: use letters, ' +
				    'digits and hyphens (up to 63), not ' +
				    'starting or ending with a hyphen, and not ' +
				    'only digits.', 'error');
				$('host-name').setAttribute('aria-invalid', 'true');
				return;
			}
			$('host-name').removeAttribute('aria-invalid');
			$('host-submit').disabled = true;
			say(m, 'Saving…');
			try {
				const r = await send('POST', API + 'hostname',
				    { hostname: name });
				say(m, 'Hostname set to “' + r.hostname + '”. ' +
				    r.message, 'ok');
				showHost(r.hostname);
			} catch (e) {
				if (!trouble(e) || e.status === 0)
					say(m, explain(e), 'error');
			} finally {
				$('host-submit').disabled = false;
			}
		});

		$('pw-form').addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const m = $('pw-msg');
			const old = $('pw-old').value, n1 = $('pw-new').value,
			    n2 = $('pw-new2').value;
			if (!old) {
				say(m, 'Enter the current password.', 'error');
				return;
			}
			const problem = newPasswordProblem(n1, n2);
			if (problem) {
				say(m, problem, 'error');
				return;
			}
			$('pw-submit').disabled = true;
			say(m, 'Changing…');
			try {
				await changePassword(old, n1);
				for (const id of ['pw-old', 'pw-new', 'pw-new2'])
					$(id).value = '';
				say(m, 'Password changed.', 'ok');
			} catch (e) {
				if (e.status === 403 && e.data.error !== 'csrf')
					say(m, 'The current password is wrong.',
					    'error');
				else if (!trouble(e) || e.status === 0)
					say(m, explain(e), 'error');
			} finally {
				$('pw-submit').disabled = false;
			}
		});
	}

	/* --- firmware upgrade ------------------------------------------------ */

	function pageUpgrade() {
		let info = null;		/* GET upgrade */
		let checked = null;		/* the device's check */
		let localSha = null;

		function showLimit() {
			const lim = Math.min(info.limit, info.room);
			$('up-limit').textContent = 'Images up to ' +
			    bytes(lim) + ' (this device: ' + bytes(info.limit) +
			    ' at most, ' + bytes(info.room) + ' free now).';
		}

		async function refresh() {
			info = await request('GET', API + 'upgrade');
			$('fw-current').textContent = info.current || '–';
			$('fw-sim').hidden = !info.simulated;
			showLimit();
			if (info.installing)
				waitForDevice(null);
		}

		status(false).catch((e) => trouble(e));
		refresh().catch((e) => {
			if (!trouble(e))
				say($('up-msg'), explain(e), 'error');
		});

		async function browserSha(file) {
			if (!window.crypto || !crypto.subtle)
				return null;
			const d = await crypto.subtle.digest('SHA-256',
			    await file.arrayBuffer());
			return Array.from(new Uint8Array(d), (b) =>
			    b.toString(16).padStart(2, '0')).join('');
		}

		function showCheck(file, c) {
			checked = c;
			$('check-card').hidden = false;
			$('ck-name').textContent = file ? file.name : '–';
			$('ck-size').textContent = c.size.toLocaleString('en') +
			    ' bytes' + (file && file.size !== c.size ?
			    ' (the file has ' + file.size + ': the upload was ' +
			    'damaged)' : '');
			$('ck-sha').textContent = c.sha256;
			const l = $('ck-sha-local');
			if (localSha === null)
				l.textContent = 'not available here (needs ' +
				    'HTTPS); compare the device’s value with ' +
				    'the published one';
			else
				l.textContent = localSha + (localSha === c.sha256 ?
				    ' — matches' : ' — DIFFERENT: do not install');
			l.classList.toggle('ok', localSha === c.sha256);
			l.classList.toggle('error', localSha !== null &&
			    localSha !== c.sha256);
			$('ck-version').textContent = c.version ?
			    c.version + (c.arch ? ' for ' + c.arch : '') : '–';
			say($('ck-result'), c.message, c.ok ? 'ok' : 'error');
			const can = c.ok && (localSha === null ||
			    localSha === c.sha256);
			$('inst-form').hidden = !can;
		}

		function upload(file, csrf) {
			return new Promise((resolve, reject) => {
				const x = new XMLHttpRequest();
				x.open('POST', API + 'upgrade');
				x.setRequestHeader('X-CSRF-Token', csrf);
				x.setRequestHeader('Content-Type',
				    'application/octet-stream');
				x.setRequestHeader('Accept', 'application/json');
				x.upload.onprogress = (e) => {
					if (!e.lengthComputable)
						return;
					const p = Math.floor(e.loaded * 100 / e.total);
					$('up-progress').value = p;
					$('up-pct').textContent = p + ' %';
					if (e.loaded === e.total)
						say($('up-msg'), 'Uploaded; the device ' +
						    'is checking the image…');
				};
				x.onload = () => {
					let d = null;
					try { d = JSON.parse(x.responseText); }
					catch (e) { d = null; }
					if (x.status >= 200 && x.status < 300)
						resolve(d);
					else
						reject(new ApiError(x.status, d));
				};
				x.onerror = () => reject(new ApiError(0, null));
				x.send(file);
			});
		}

		$('up-form').addEventListener('submit', async (ev) => {
			ev.preventDefault();
			const m = $('up-msg');
			const file = $('up-file').files[0];
			if (!file) {
				say(m, 'Choose a firmware image file first.',
				    'error');
				return;
			}
			if (info && file.size > Math.min(info.limit, info.room)) {
				say(m, 'The file is too large: ' + bytes(file.size) +
				    '; this device accepts ' +
				    bytes(Math.min(info.limit, info.room)) +
				    ' at most.', 'error');
				return;
			}
			$('up-submit').disabled = true;
			$('check-card').hidden = true;
			$('up-progress-row').hidden = false;
			$('up-progress').value = 0;
			$('up-pct').textContent = '0 %';
			say(m, 'Uploading…');
			try {
				const hashing = browserSha(file).catch(() => null);
				let csrf = await csrfToken(false);
				let c;
				try {
					c = await upload(file, csrf);
				} catch (e) {
					if (e.status !== 403 ||
					    e.data.error !== 'csrf')
						throw e;
					csrf = await csrfToken(true);
					c = await upload(file, csrf);
				}
				localSha = await hashing;
				say(m, c.ok ? 'The device accepted the image.' :
				    'The device refused the image.',
				    c.ok ? 'ok' : 'error');
				showCheck(file, c);
			} catch (e) {
				$('up-progress-row').hidden = true;
				if (e.status === 413)
					say(m, (e.data.error || 'The file is ' +
					    'too large for this device.'),
					    'error');
				else if (e.status === 0)
					say(m, 'The upload failed: the device ' +
					    'closed the connection or does ' +
					    'not answer.', 'error');
				else if (!trouble(e))
					say(m, explain(e), 'error');
				else
					say(m, explain(e), 'error');
			} finally {
				$('up-submit').disabled = false;
				refresh().catch(() => {});
			}
		});

		$('inst-form').addEventListener('submit', async (ev) => {
			ev.preventDefault();
			if (!checked)
				return;
			const keep = $('inst-keep').checked;
			$('inst-submit').disabled = true;
			try {
				const r = await send('POST', API + 'install',
				    { sha256: checked.sha256, keep });
				$('up-form').hidden = true;
				$('check-card').hidden = true;
				waitForDevice(r.version, r.simulated, keep);
			} catch (e) {
				$('inst-submit').disabled = false;
				if (!trouble(e) || e.status === 0)
					say($('ck-result'), explain(e), 'error');
			}
		});

		let waiting = false;

		async function waitForDevice(version, simulated, keep) {
			if (waiting)
				return;
			waiting = true;
			stopped = true;		/* no other page polling */
			$('inst-card').hidden = false;
			const m = $('inst-msg');
			m.textContent = 'Installing' + (version ? ' firmware ' +
			    version : '') + '. Do not switch the device off.' +
			    (simulated ? ' (make run: the flash is simulated in ' +
			    'its state directory.)' : '');
			const t0 = Date.now();
			let down = false;
			for (;;) {
				await sleep(2000);
				try {
					const u = await request('GET',
					    API + 'upgrade', { background: true });
					if (!u.installing && u.install &&
					    !u.install.ok) {
						$('inst-wait').hidden = true;
						say(m, 'The installation failed: ' +
						    u.install.message + ' The ' +
						    'device still runs ' + u.current +
						    '.', 'error');
						return;
					}
					if (down && !u.installing) {
						done(u.current, version);
						return;
					}
				} catch (e) {
					if (e.status === 0) {
						down = true;
						m.textContent = 'The device is ' +
						    'restarting. This page ' +
						    'reconnects when it is back…';
					} else if (e.status === 401) {
						relogin(version, keep);
						return;
					}
				}
				if (Date.now() - t0 > 300000)
					m.textContent = 'The device has not come ' +
					    'back after 5 minutes. It may need ' +
					    'a power cycle; this page keeps ' +
					    'waiting.';
			}
		}

		function done(current, version) {
			$('inst-wait').hidden = true;
			$('fw-current').textContent = current;
			if (!version || current === version)
				say($('inst-msg'), 'The device is back and ' +
				    'runs firmware ' + current + '.', 'ok');
			else
				say($('inst-msg'), 'The device is back but runs ' +
				    current + ', not ' + version + ': it went ' +
				    'back to the previous firmware.', 'error');
			banner(null);
		}

		function relogin(version, keep) {
			$('inst-wait').hidden = true;
			$('inst-msg').textContent = 'The device is back.';
			const f = $('relogin-form');
			f.hidden = false;
			if (keep === false)
				say($('relogin-msg'), 'Settings were erased: use ' +
				    'the new initial password from the ' +
				    'device’s console.');
			$('relogin-password').focus();
			f.addEventListener('submit', async (ev) => {
				ev.preventDefault();
				try {
					await login($('relogin-user').value.trim(),
					    $('relogin-password').value);
					const s = await request('GET', API + 'status');
					if (s.must_change) {
						location.assign('/?msg=change');
						return;
					}
					f.hidden = true;
					showHost(s.hostname);
					done(s.version, version);
				} catch (e) {
					say($('relogin-msg'), e.status === 401 ?
					    'Wrong user name or password.' :
					    explain(e), 'error');
				}
			});
		}
	}

	/* --- system log ------------------------------------------------------ */

	function pageLog() {
		let lines = [];
		let busy = false;

		function show() {
			const f = $('log-filter').value.toLowerCase();
			const shown = f ? lines.filter((l) =>
			    l.toLowerCase().includes(f)) : lines;
			const pre = $('log');
			pre.textContent = shown.join('\n');
			pre.scrollTop = pre.scrollHeight;
			$('log-meta').textContent = shown.length + ' of ' +
			    lines.length + ' lines, read at ' +
			    new Date().toLocaleTimeString('en-GB') + '.';
		}

		async function load() {
			if (busy)
				return;
			busy = true;
			$('log-refresh').disabled = true;
			try {
				const t = await request('GET', LOG, { text: true });
				lines = t.split('\n');
				if (lines.length && lines[lines.length - 1] === '')
					lines.pop();
				show();
			} catch (e) {
				if (!trouble(e))
					say($('log-meta'), explain(e), 'error');
			} finally {
				busy = false;
				$('log-refresh').disabled = false;
			}
		}

		status(false).catch((e) => trouble(e));
		$('log-form').addEventListener('submit', (ev) => {
			ev.preventDefault();
			load();
		});
		$('log-filter').addEventListener('input', show);
		load();
	}

	const pages = {
		login: pageLogin,
		dashboard: pageDashboard,
		settings: pageSettings,
		upgrade: pageUpgrade,
		log: pageLog,
	};
	if (page !== 'login')
		frame();
	if (pages[page])
		pages[page]();
})();
