// Wiring only: the output channel, commands, listeners, and a guarded, debounced server start.
// All logic lives in the Python server; this client starts it, forwards settings, shows results.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { documentArguments, refineArguments } from './common/args';
import { COMMANDS, CONFIG_SECTION, RESTART_DELAY_MS, SECRET_KEY, SERVER_COMMANDS } from './common/constants';
import { outputChannel, traceError, traceInfo } from './common/logging';
import { refineResultMessage, ReviewUpdate, UNTRUSTED_MESSAGE } from './common/messages';
import { onInterpreterChange } from './common/python';
import { startClient, stopClient } from './common/server';
import { configurationChange } from './common/settings';
import { refineInNotification } from './common/refine';
import { registerServerDocuments, ServerDocuments, showCritique } from './documents';
import { HunkMarks } from './hunks';
import { reviewRefinement } from './review';
import { StatusBar } from './status';
import { registerViews } from './views';

let client: LanguageClient | undefined;
let restartTimer: NodeJS.Timeout | undefined;
let starting: Promise<void> | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    context.subscriptions.push(outputChannel());
    const status = new StatusBar(() => vscode.workspace.isTrusted);
    context.subscriptions.push(status);
    const documents = new ServerDocuments(() => client);
    context.subscriptions.push(...registerServerDocuments(documents));
    const marks = new HunkMarks();
    context.subscriptions.push(marks);
    const views = registerViews(context, async (command, args) =>
        client ? client.sendRequest('workspace/executeCommand', { command, arguments: args }) : undefined,
    );
    const clientSide = {
        review: async (uri: vscode.Uri): Promise<void> => {
            const running = await ready();
            if (running) {
                await reviewRefinement(running, documents, uri);
            }
        },
        critique: (uri: vscode.Uri): Promise<void> => showCritique(documents, uri),
        marks: (update: ReviewUpdate): void => marks.update(update),
        views: (update: { uri: string }): void => views.changed(update.uri),
    };

    const restart = async (): Promise<void> => {
        if (!vscode.workspace.isTrusted) {
            traceInfo(UNTRUSTED_MESSAGE);
            status.render();
            return;
        }
        await stopClient(client);
        client = undefined;
        marks.clear();
        status.serverRunning(false);
        client = await startClient(context, (update) => status.update(update), clientSide);
        status.serverRunning(client !== undefined);
    };
    const scheduleRestart = (): void => {
        if (restartTimer) {
            clearTimeout(restartTimer);
        }
        restartTimer = setTimeout(() => {
            starting = restart().catch((error) => traceError('starting the orps server failed', error));
        }, RESTART_DELAY_MS);
    };

    context.subscriptions.push(
        vscode.commands.registerCommand(COMMANDS.restart, () => scheduleRestart()),
        vscode.commands.registerCommand(COMMANDS.setApiKey, () => setApiKey(context, scheduleRestart)),
        vscode.commands.registerCommand(COMMANDS.refineAtCursor, () => refineAtCursor(status)),
        vscode.commands.registerCommand(COMMANDS.runTests, () =>
            withDocument((uri) => serverCommand(SERVER_COMMANDS.runTests, documentArguments(uri))),
        ),
        vscode.commands.registerCommand(COMMANDS.showCritique, () =>
            withDocument((uri) => clientSide.critique(vscode.Uri.parse(uri))),
        ),
        vscode.commands.registerCommand(COMMANDS.review, () =>
            withDocument((uri) => clientSide.review(vscode.Uri.parse(uri))),
        ),
        vscode.workspace.onDidChangeConfiguration((event) => {
            const change = configurationChange((section) => event.affectsConfiguration(section), CONFIG_SECTION);
            if (change === 'restart') {
                scheduleRestart();
            } else if (change === 'notify' && client) {
                // The server pulls the `orps` section again (workspace/configuration) when told.
                client
                    .sendNotification('workspace/didChangeConfiguration', { settings: null })
                    .catch((error) => traceError('telling the server about the new settings failed', error));
            }
        }),
        vscode.workspace.onDidGrantWorkspaceTrust(() => scheduleRestart()),
        vscode.window.onDidChangeActiveTextEditor(() => status.render()),
        vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => marks.render(editor))),
        // the server ends a closed file's review with its state
        vscode.workspace.onDidCloseTextDocument((document) => marks.update({ uri: document.uri.toString(), hunks: [] })),
    );
    const interpreterListener = await onInterpreterChange(() => scheduleRestart());
    if (interpreterListener) {
        context.subscriptions.push(interpreterListener);
    }
    if (!vscode.workspace.isTrusted) {
        void vscode.window.showInformationMessage(UNTRUSTED_MESSAGE);
    }
    starting = restart().catch((error) => traceError('starting the orps server failed', error));
}

export async function deactivate(): Promise<void> {
    await stopClient(client);
}

async function ready(): Promise<LanguageClient | undefined> {
    await starting;
    if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
        return undefined;
    }
    if (!client) {
        void vscode.window.showErrorMessage('ORPS: the language server is not running (see the ORPS output).');
    }
    return client;
}

async function serverCommand(command: string, args: unknown[]): Promise<unknown> {
    const running = await ready();
    if (!running) {
        return undefined;
    }
    return running.sendRequest('workspace/executeCommand', { command, arguments: args });
}

async function withDocument(run: (uri: string) => Promise<unknown>): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== 'python') {
        void vscode.window.showInformationMessage('ORPS: open a Python file first.');
        return;
    }
    await run(editor.document.uri.toString());
}

async function refineAtCursor(status: StatusBar): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== 'python') {
        void vscode.window.showInformationMessage('ORPS: put the cursor in a Python function first.');
        return;
    }
    const { document, selection } = editor;
    const args = refineArguments(document.uri.toString(), selection.active, document.version);
    const running = await ready();
    if (!running) {
        return; // ready() said why (untrusted, or no server): no second toast about a result
    }
    status.update({ uri: document.uri.toString(), refining: true });
    try {
        const result = await refineInNotification(running, args, (withToken) =>
            running.sendRequest('workspace/executeCommand', { command: SERVER_COMMANDS.refine, arguments: withToken }),
        );
        const message = refineResultMessage(result);
        if (message) {
            void vscode.window.showInformationMessage(message);
        }
    } catch (error) {
        traceError('the refine failed', error);
    } finally {
        status.update({ uri: document.uri.toString(), refining: false });
    }
}

async function setApiKey(context: vscode.ExtensionContext, restart: () => void): Promise<void> {
    const key = await vscode.window.showInputBox({
        title: 'ORPS: API key for the model endpoint',
        prompt: 'Stored in VS Code\'s secret storage and handed to the orps server when it starts. Empty: remove it.',
        password: true,
        ignoreFocusOut: true,
    });
    if (key === undefined) {
        return;
    }
    if (key.trim()) {
        await context.secrets.store(SECRET_KEY, key.trim());
        traceInfo('API key stored in secret storage');
    } else {
        await context.secrets.delete(SECRET_KEY);
        traceInfo('API key removed from secret storage');
    }
    restart();
}
