// Loads the real bundle (dist/extension.js) against a stand-in for the `vscode` module and calls
// activate(): the wiring runs without downloading VS Code. Untrusted, nothing may start.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Module = require('node:module');

interface Recorder {
    commands: string[];
    messages: string[];
    statusTexts: string[];
    processes: number;
    schemes: string[];
    views: string[];
}

function disposable(): { dispose(): void } {
    return { dispose: () => undefined };
}

function fakeVscode(trusted: boolean, recorder: Recorder, interpreter: string[] = []): unknown {
    const event = () => disposable();
    const api: Record<string, unknown> = {
        StatusBarAlignment: { Left: 1, Right: 2 },
        OverviewRulerLane: { Left: 1 },
        ThemeColor: class {},
        EventEmitter: class {
            event = () => disposable();
            fire(): void {}
            dispose(): void {}
        },
        workspace: {
            registerTextDocumentContentProvider: (scheme: string) => {
                recorder.schemes.push(scheme);
                return disposable();
            },
            isTrusted: trusted,
            onDidChangeConfiguration: event,
            onDidGrantWorkspaceTrust: event,
            onDidCloseTextDocument: event,
            getConfiguration: () => ({
                get: (key: string) => (key === 'interpreter' ? interpreter : undefined),
                inspect: () => undefined,
            }),
        },
        window: {
            activeTextEditor: undefined,
            createOutputChannel: () => ({ info: () => undefined, error: () => undefined, dispose: () => undefined }),
            createStatusBarItem: () => {
                const item = {
                    text: '',
                    tooltip: '',
                    command: '',
                    show: () => recorder.statusTexts.push(item.text),
                    dispose: () => undefined,
                };
                return new Proxy(item, {
                    set(target, key, value) {
                        (target as Record<string | symbol, unknown>)[key] = value;
                        if (key === 'text') {
                            recorder.statusTexts.push(String(value));
                        }
                        return true;
                    },
                });
            },
            onDidChangeActiveTextEditor: event,
            onDidChangeVisibleTextEditors: event,
            visibleTextEditors: [],
            createTextEditorDecorationType: () => disposable(),
            createTreeView: (id: string) => {
                recorder.views.push(id);
                return { message: undefined, dispose: () => undefined };
            },
            showInformationMessage: (message: string) => {
                recorder.messages.push(message);
                return Promise.resolve(undefined);
            },
            showWarningMessage: (message: string) => {
                recorder.messages.push(message);
                return Promise.resolve(undefined);
            },
            showErrorMessage: (message: string) => {
                recorder.messages.push(message);
                return Promise.resolve(undefined);
            },
        },
        commands: {
            registerCommand: (id: string) => {
                recorder.commands.push(id);
                return disposable();
            },
        },
        extensions: { getExtension: () => undefined },
        env: { clipboard: { writeText: async () => undefined } },
    };
    // Anything else the bundled language client touches at load time: an inert class.
    return new Proxy(api, {
        get(target, key) {
            if (key in target) {
                return target[key as string];
            }
            return class Inert {};
        },
    });
}

function loadExtension(stub: unknown): { activate(context: unknown): Promise<void> } {
    const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = loader._load;
    loader._load = function (request: string, ...rest: unknown[]) {
        return request === 'vscode' ? stub : original.call(this, request, ...rest);
    };
    try {
        const bundle = path.resolve(__dirname, '../../dist/extension.js');
        delete require.cache[bundle];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(bundle);
    } finally {
        loader._load = original;
    }
}

test('in an untrusted workspace the extension registers its commands, starts nothing and says why', async () => {
    const recorder: Recorder = { commands: [], messages: [], statusTexts: [], processes: 0, schemes: [], views: [] };
    const extension = loadExtension(fakeVscode(false, recorder));
    const context = { subscriptions: [] as unknown[], secrets: { get: async () => undefined } };
    await extension.activate(context);
    assert.deepEqual(recorder.commands.sort(), [
        'orps.reapplyHistoryEntry',
        'orps.refineFunctionAtCursor',
        'orps.refreshViews',
        'orps.restartServer',
        'orps.reviewRefinement',
        'orps.runTestsInFile',
        'orps.setApiKey',
        'orps.showCritiqueForFile',
        'orps.showHistory',
    ]);
    // read-only, nothing on disk
    assert.deepEqual(recorder.schemes.sort(), ['orps-candidate', 'orps-critique', 'orps-history', 'orps-proposal']);
    assert.deepEqual(recorder.views.sort(), ['orps.historyView', 'orps.searchView']);
    assert.ok(recorder.messages.some((m) => /untrusted workspace/.test(m)), recorder.messages.join('\n'));
    assert.ok(recorder.statusTexts.some((t) => /untrusted/.test(t)), recorder.statusTexts.join('\n'));
    assert.ok(context.subscriptions.length >= 8);
});

async function messageOf(python: string, needle: string): Promise<string | undefined> {
    const recorder: Recorder = { commands: [], messages: [], statusTexts: [], processes: 0, schemes: [], views: [] };
    const extension = loadExtension(fakeVscode(true, recorder, [python]));
    await extension.activate({ subscriptions: [], secrets: { get: async () => undefined } });
    for (let i = 0; i < 100 && !recorder.messages.some((m) => m.includes(needle)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return recorder.messages.find((m) => m.includes(needle));
}

test('with an interpreter that does not exist, it says so (not that orps is missing)', async () => {
    const python = '/nonexistent/bin/python';
    const message = await messageOf(python, 'does not exist');
    assert.ok(message);
    assert.match(message, new RegExp(`${python} does not exist`));
    assert.doesNotMatch(message, /not installed/);
});

test('with an interpreter that lacks the server, it says so and offers the install command', async (t) => {
    const python = '/usr/bin/python3'; // the system's: the orps server is not installed there
    if (!existsSync(python)) {
        t.skip(`${python} is not on this machine`);
        return;
    }
    const message = await messageOf(python, 'not installed');
    assert.ok(message);
    assert.match(message, new RegExp(`not installed for ${python}`));
    assert.match(message, new RegExp(`${python} -m pip install orps`));
});
