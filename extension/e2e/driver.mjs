// The extension's end-to-end test: the built orps.vsix in a real VS Code (code-server, driven by
// headless Chromium through puppeteer-core), on a workspace whose function fails its tests, with the
// scripted model. Each step waits on what a person would see, saves a screenshot under
// e2e-artifacts/, and a failure saves one more, the ORPS output channel, and exits 1 naming the step.
//
// Run it with extension/e2e/run.sh (which installs what it needs first).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { descendants, layout, missing, orpsOutput, startCodeServer, startModel, userSettings } from './processes.mjs';
import { WaitError, Workbench } from './workbench.mjs';

const SECOND = 1000;
const MODEL_LATENCY_S = 1; // each model reply waits this long, so that the refine's notification can be seen
const FILE = 'primes.py';
const FUNCTION_DEF = 'def sum_primes_below';
const APPLY = 'Apply ORPS refinement';
const ORPS_SOURCE = 'orps'; // each ORPS row in the Problems panel shows the diagnostic's source: orps(test)

const paths = layout(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));

class StepFailure extends Error {
    constructor(step, cause) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.step = step;
        this.cause = cause;
    }
}

/** Runs the steps of one scenario in order; counts them; the first failure stops the scenario. */
class Steps {
    constructor() {
        this.passed = 0;
    }

    async run(name, body) {
        const started = Date.now();
        try {
            await body();
        } catch (error) {
            throw new StepFailure(name, error);
        }
        this.passed += 1;
        console.log(`e2e ok: ${name} (${((Date.now() - started) / SECOND).toFixed(1)} s)`);
    }
}

function shot(name) {
    return path.join(paths.artifacts, `${name}.png`);
}

/** Wait, in this process, until fn() is truthy (for what only the file system shows). */
async function until(what, fn, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = fn();
        if (value) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new WaitError(`waited ${timeoutMs / SECOND} s for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

function lineOf(file, needle) {
    const index = fs.readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(needle));
    if (index < 0) {
        throw new Error(`${needle} is not in ${file}`);
    }
    return index + 1;
}

/** The trusted workspace: diagnostics, lenses, a refine from the palette, Apply, green tests. */
async function trustedSteps(wb, steps, workspace) {
    const file = path.join(workspace, FILE);
    const defLine = lineOf(file, FUNCTION_DEF);
    await steps.run('the Problems panel shows the failing tests', async () => {
        await wb.openFile(FILE);
        await wb.showProblems();
        const rows = await wb.untilProblems('the failing tests in the Problems panel', { some: 'expected 0, got 1' }, 90 * SECOND);
        console.log(`    problems: ${rows.join(' | ')}`);
        await wb.screenshot(shot('01-problems-failing-tests'));
    });
    await steps.run('the code lenses show on open, with no edit', async () => {
        const lenses = await wb.codeLenses(30 * SECOND);
        for (const title of ['Run tests', 'Refine with ORPS']) {
            if (!lenses.includes(title)) {
                throw new Error(`no "${title}" lens; the lenses: ${lenses.join(', ')}`);
            }
        }
        await wb.screenshot(shot('02-code-lenses-on-open'));
    });
    await steps.run('Refine from the palette shows a notification with Cancel', async () => {
        await wb.goToLine(defLine + 1);
        await wb.command('ORPS: Refine Function at Cursor');
        const toast = await wb.untilToast('a notification "ORPS refine ..." with a Cancel button', /^ORPS refine/, { buttons: ['Cancel'] }, 30 * SECOND);
        console.log(`    notification: ${toast.message} [${toast.buttons.join(', ')}]`);
        await wb.screenshot(shot('03-refine-notification'));
    });
    await steps.run('the refine ends with the lightbulb\'s Apply', async () => {
        await wb.untilToast('the refine\'s result', /See the lightbulb/, {}, 180 * SECOND);
        await wb.goToLine(defLine);
        const label = await wb.quickFix(APPLY);
        console.log(`    quick fix: ${label}`);
        await wb.screenshot(shot('04-quick-fix-apply'));
    });
    await steps.run('Apply changes the file and the tests rerun green', async () => {
        await wb.chooseQuickFix(APPLY);
        await wb.untilEditorText('the sieve in the editor', 'sieve = bytearray', 10 * SECOND);
        await wb.chord('Control', 'KeyS');
        await until(`the sieve saved to ${FILE}`, () => fs.readFileSync(file, 'utf8').includes('sieve = bytearray'), 10 * SECOND);
        const status = await wb.untilStatus('every test passing in the status bar', /ORPS: (\d+)\/\1 passed/, 60 * SECOND);
        console.log(`    status bar: ${status}`);
        await wb.showProblems();
        await wb.untilProblems('no failing test in the Problems panel', { none: ORPS_SOURCE }, 30 * SECOND);
        await wb.screenshot(shot('05-applied-tests-green'));
    });
}

/** The untrusted workspace: nothing starts, and the extension says why. */
async function untrustedSteps(wb, steps, workspace, codeServer) {
    const file = path.join(workspace, FILE);
    const before = fs.readFileSync(file, 'utf8');
    await steps.run('an untrusted workspace starts nothing and says why', async () => {
        await wb.openFile(FILE);
        const toast = await wb.untilToast('a message about the untrusted workspace', /untrusted/, { severity: 'info' }, 60 * SECOND);
        console.log(`    message: ${toast.message}`);
        const status = await wb.untilStatus('the status bar saying ORPS is off', /untrusted/, 10 * SECOND);
        console.log(`    status bar: ${status}`);
        // A Refine waits for the extension's start to end: when it answers, a server would be running by now.
        await wb.goToLine(lineOf(file, FUNCTION_DEF) + 1);
        await wb.command('ORPS: Refine Function at Cursor');
        await wb.untilToast('the Refine refused: the workspace is untrusted', /untrusted/, { severity: 'warning' }, 30 * SECOND);
        await until('the reason in the ORPS output', () => /untrusted/.test(orpsOutput(codeServer.userData)), 10 * SECOND);
        await wb.screenshot(shot('06-untrusted-workspace'));
        const servers = descendants(codeServer.process.pid).filter(([, cmd]) => cmd.includes('orps_server'));
        if (servers.length) {
            throw new Error(`an orps server runs in the untrusted workspace: ${servers.map(([pid, cmd]) => `${pid} ${cmd}`).join('; ')}`);
        }
        const rows = await wb.page.evaluate(() => document.querySelectorAll('.markers-panel .monaco-list-row').length);
        if (rows) {
            throw new Error(`${rows} row(s) in the Problems panel of the untrusted workspace`);
        }
        if (fs.readFileSync(file, 'utf8') !== before) {
            throw new Error(`${FILE} changed in the untrusted workspace`);
        }
    });
}

/** One code-server, one page: the scenario's steps; the ORPS output saved whatever happens. */
async function scenario(browser, root, name, settings, workspace, body, steps) {
    const codeServer = await startCodeServer(paths, root, name, settings);
    const page = await browser.newPage();
    const wb = new Workbench(page);
    try {
        await page.goto(`${codeServer.url}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: 'domcontentloaded' });
        await steps.run(`${name}: the workbench opens ${path.basename(workspace)}`, () => wb.ready());
        await body(wb, steps, workspace, codeServer);
    } catch (error) {
        await wb.screenshot(shot(`FAILED-${name}`)).catch(() => undefined);
        throw error;
    } finally {
        fs.writeFileSync(path.join(paths.artifacts, `orps-output-${name}.log`), orpsOutput(codeServer.userData));
        await page.close().catch(() => undefined);
        await codeServer.process.stop();
    }
}

async function loadPuppeteer() {
    const require = createRequire(path.join(paths.puppeteer, '..', '..', 'package.json'));
    return (await import(pathToFileURL(require.resolve('puppeteer-core')).href)).default;
}

/** Debian's Chromium: the browser itself (its /usr/bin launcher only adds desktop flags), else what PATH has. */
function chromium() {
    if (fs.existsSync('/usr/lib/chromium/chromium')) {
        return '/usr/lib/chromium/chromium';
    }
    try {
        return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    } catch {
        return null;
    }
}

async function main() {
    const absent = missing(paths);
    const browserPath = chromium();
    if (!browserPath) {
        absent.push('chromium: apt-get install -y chromium (or run bash extension/e2e/setup.sh)');
    }
    if (absent.length) {
        console.error(`e2e: cannot start; missing:\n  ${absent.join('\n  ')}`);
        return 2;
    }
    fs.rmSync(paths.artifacts, { recursive: true, force: true });
    fs.mkdirSync(paths.artifacts, { recursive: true });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-vscode-'));
    const trusted = path.join(root, 'primes-project');
    const untrusted = path.join(root, 'untrusted-project');
    const puppeteer = await loadPuppeteer();
    const model = await startModel(paths, [trusted, untrusted], MODEL_LATENCY_S);
    const browser = await puppeteer.launch({
        executablePath: browserPath,
        headless: true,
        userDataDir: path.join(root, 'chromium'),
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,800'],
        defaultViewport: { width: 1280, height: 800 },
    });
    const steps = new Steps();
    const settings = (trustEnabled) => userSettings({ trustEnabled, python: paths.python, baseUrl: model.baseUrl });
    try {
        await scenario(browser, root, 'trusted', settings(false), trusted, trustedSteps, steps);
        await scenario(browser, root, 'untrusted', settings(true), untrusted, untrustedSteps, steps);
    } catch (error) {
        if (!(error instanceof StepFailure)) {
            throw error;
        }
        const output = fs.readdirSync(paths.artifacts).filter((f) => f.startsWith('orps-output-')).map((f) =>
            `--- ${f} (last 40 lines)\n${fs.readFileSync(path.join(paths.artifacts, f), 'utf8').split('\n').slice(-40).join('\n')}`);
        console.error(output.join('\n'));
        console.error(`e2e FAILED at step "${error.step}": ${error.message}`);
        console.error(`e2e: screenshots and logs in ${paths.artifacts}`);
        console.log(`e2e: ${steps.passed} passed, 1 failed`);
        return 1;
    } finally {
        await browser.close().catch(() => undefined);
        await model.process.stop();
        fs.rmSync(root, { recursive: true, force: true });
    }
    console.log(`e2e: screenshots and logs in ${paths.artifacts}`);
    console.log(`e2e: ${steps.passed} passed, 0 failed`);
    return 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        console.error(`e2e: the test itself failed: ${error instanceof Error ? error.stack : error}`);
        process.exit(1);
    },
);
