// Loads the real bundle (dist/extension.js) against a stand-in for the `vscode` module and calls
// activate(): the wiring runs without downloading VS Code. Untrusted, nothing may start.
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadBundle } from '../testing/fakeVscode';

interface Recorder {
    commands: string[];
    messages: string[];
    statusTexts: string[];
    processes: number;
    actions: string[]; // the buttons the error messages offered
    updates: [string, unknown, unknown][]; // configuration updates: key, value, target
    choose?: string; // the button the user clicks, when offered
    schemes: string[];
    views: string[];
}

function recorder(choose?: string): Recorder {
    return { commands: [], messages: [], statusTexts: [], processes: 0, actions: [], updates: [], choose, schemes: [], views: [] };
}

const REPO = path.resolve(__dirname, '../..');

function disposable(): { dispose(): void } {
    return { dispose: () => undefined };
}

function fakeVscode(trusted: boolean, recorder: Recorder, settings: Record<string, unknown> = {}): unknown {
    const event = () => disposable();
    const api: Record<string, unknown> = {
        StatusBarAlignment: { Left: 1, Right: 2 },
        ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
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
                get: (key: string) => settings[key],
                inspect: () => undefined,
                update: async (key: string, value: unknown, target: unknown) => {
                    recorder.updates.push([key, value, target]);
                },
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
            showErrorMessage: (message: string, ...items: string[]) => {
                recorder.messages.push(message);
                recorder.actions.push(...items);
                return Promise.resolve(recorder.choose && items.includes(recorder.choose) ? recorder.choose : undefined);
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

interface ExtensionModule {
    activate(context: unknown): Promise<void>;
}

function loadExtension(stub: unknown): ExtensionModule {
    return loadBundle<ExtensionModule>('../../dist/extension.js', stub);
}

test('in an untrusted workspace the extension registers its commands, starts nothing and says why', async () => {
    const record = recorder();
    const extension = loadExtension(fakeVscode(false, record));
    const context = { subscriptions: [] as unknown[], secrets: { get: async () => undefined }, extensionUri: { fsPath: REPO } };
    await extension.activate(context);
    assert.deepEqual(record.commands.sort(), [
        'orps.addSelectionAsTest',
        'orps.addTestInPanel',
        'orps.deleteTestInPanel',
        'orps.editTestExpected',
        'orps.editTestInput',
        'orps.listenForProblems',
        'orps.reapplyHistoryEntry',
        'orps.refineFunctionAtCursor',
        'orps.refreshViews',
        'orps.restartServer',
        'orps.reviewRefinement',
        'orps.runAllTestsInPanel',
        'orps.runTestInPanel',
        'orps.runTestsInFile',
        'orps.setApiKey',
        'orps.showCritiqueForFile',
        'orps.showHistory',
        'orps.stopListeningForProblems',
    ]);
    // read-only, nothing on disk
    assert.deepEqual(record.schemes.sort(), ['orps-candidate', 'orps-critique', 'orps-history', 'orps-proposal', 'orps-test']);
    assert.deepEqual(record.views.sort(), ['orps.historyView', 'orps.searchView', 'orps.testsView']);
    assert.ok(record.messages.some((m) => /untrusted workspace/.test(m)), record.messages.join('\n'));
    assert.ok(record.statusTexts.some((t) => /untrusted/.test(t)), record.statusTexts.join('\n'));
    assert.ok(context.subscriptions.length >= 8);
});

/** Activates with these settings and extension folder; the first message containing ``needle``. */
async function messageOf(
    record: Recorder,
    settings: Record<string, unknown>,
    needle: string,
    root: string = REPO,
): Promise<string | undefined> {
    const extension = loadExtension(fakeVscode(true, record, settings));
    await extension.activate({ subscriptions: [], secrets: { get: async () => undefined }, extensionUri: { fsPath: root } });
    for (let i = 0; i < 100 && !record.messages.some((m) => m.includes(needle)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return record.messages.find((m) => m.includes(needle));
}

const SYSTEM_PYTHON = '/usr/bin/python3'; // the system's: orps is not installed there

test('with an interpreter that does not exist, it says so (not that orps is missing)', async () => {
    for (const importStrategy of ['useBundled', 'fromEnvironment']) {
        const python = '/nonexistent/bin/python';
        const message = await messageOf(recorder(), { interpreter: [python], importStrategy }, 'does not exist');
        assert.ok(message, importStrategy);
        assert.match(message, new RegExp(`${python} does not exist`));
        assert.doesNotMatch(message, /not installed|bundled/);
    }
});

test('fromEnvironment with an interpreter that lacks orps: it says so and switches to the bundled server', async (t) => {
    if (!existsSync(SYSTEM_PYTHON)) {
        t.skip(`${SYSTEM_PYTHON} is not on this machine`);
        return;
    }
    const record = recorder('Use the Bundled Server');
    const settings = { interpreter: [SYSTEM_PYTHON], importStrategy: 'fromEnvironment' };
    const message = await messageOf(record, settings, 'not installed');
    assert.ok(message);
    assert.match(message, new RegExp(`not installed for ${SYSTEM_PYTHON}`));
    assert.doesNotMatch(message, /pip install orps/);
    assert.deepEqual(record.actions, ['Use the Bundled Server']);
    for (let i = 0; i < 100 && record.updates.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(record.updates, [['importStrategy', 'useBundled', 1]]); // user settings: nothing set elsewhere
});

test('useBundled in a build without the bundle: the entry script says so, naming the fix', async (t) => {
    if (!existsSync(SYSTEM_PYTHON)) {
        t.skip(`${SYSTEM_PYTHON} is not on this machine`);
        return;
    }
    const root = mkdtempSync(path.join(tmpdir(), 'orps-ext-'));
    mkdirSync(path.join(root, 'bundled', 'tool'), { recursive: true });
    copyFileSync(path.join(REPO, 'bundled', 'tool', 'lsp_server.py'), path.join(root, 'bundled', 'tool', 'lsp_server.py'));
    const record = recorder();
    const message = await messageOf(record, { interpreter: [SYSTEM_PYTHON] }, 'cannot start', root);
    assert.ok(message, record.messages.join('\n'));
    assert.match(message, new RegExp(`bundled orps server cannot start with ${SYSTEM_PYTHON}: `));
    assert.match(message, /no bundled server .*npm run bundle/);
});
