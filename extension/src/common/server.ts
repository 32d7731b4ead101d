// Builds and (re)starts the language client, in one place.
import { execFile } from 'child_process';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from 'vscode-languageclient/node';
import { ImportStrategy, importCheck, importStrategy, serverProcess } from './args';
import { CONFIG_SECTION, SECRET_KEY, SERVER_COMMANDS } from './constants';
import { outputChannel, traceError, traceInfo } from './logging';
import {
    bundledFailedMessage,
    missingInterpreterMessage,
    notInEnvironmentMessage,
    refineResultMessage,
    ServerStatus,
    USE_BUNDLED_ACTION,
} from './messages';
import { interpreter } from './python';
import { describeSettings, initializationOptions, userSetSettings } from './settings';

export type StatusListener = (status: ServerStatus) => void;

function readSettings(resource?: vscode.Uri) {
    const config = vscode.workspace.getConfiguration(CONFIG_SECTION, resource);
    return userSetSettings((key) => config.inspect(key));
}

/** Why the server cannot start with ``python``: the interpreter is not there, or the check failed. */
interface StartProblem {
    missing: boolean;
    detail: string;
}

function checkStart(python: string[], strategy: ImportStrategy, root: string): Promise<StartProblem | undefined> {
    const check = importCheck(python, strategy, root);
    return new Promise((resolve) => {
        execFile(check.command, check.args, { timeout: 30000 }, (error, _stdout, stderr) => {
            if (!error) {
                resolve(undefined);
                return;
            }
            const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
            resolve({ missing, detail: stderr || String(error) });
        });
    });
}

/** The strategy the user chose for this resource. */
function readStrategy(resource?: vscode.Uri): ImportStrategy {
    return importStrategy(vscode.workspace.getConfiguration(CONFIG_SECTION, resource).get('importStrategy'));
}

/** Says why the server cannot start; for a missing orps under fromEnvironment, offers the bundled one. */
function reportStartProblem(problem: StartProblem, python: string, strategy: ImportStrategy, resource?: vscode.Uri): void {
    if (problem.missing) {
        const message = missingInterpreterMessage(python);
        traceError(message);
        void vscode.window.showErrorMessage(message);
        return;
    }
    if (strategy === 'useBundled') {
        const message = bundledFailedMessage(python, problem.detail);
        traceError(`${message}\n${problem.detail}`);
        void vscode.window.showErrorMessage(message);
        return;
    }
    const message = notInEnvironmentMessage(python, problem.detail);
    traceError(message);
    vscode.window.showErrorMessage(message, USE_BUNDLED_ACTION).then(
        (choice) => (choice === USE_BUNDLED_ACTION ? useBundled(resource) : undefined),
        (error) => traceError('showing the start-up message failed', error),
    );
}

/** Sets orps.importStrategy to useBundled where it was set to something else (the change restarts the server). */
async function useBundled(resource?: vscode.Uri): Promise<void> {
    const config = vscode.workspace.getConfiguration(CONFIG_SECTION, resource);
    const set = config.inspect('importStrategy');
    const target =
        set?.workspaceFolderValue !== undefined
            ? vscode.ConfigurationTarget.WorkspaceFolder
            : set?.workspaceValue !== undefined
              ? vscode.ConfigurationTarget.Workspace
              : vscode.ConfigurationTarget.Global;
    try {
        await config.update('importStrategy', 'useBundled', target);
    } catch (error) {
        traceError('switching orps.importStrategy to useBundled failed', error);
    }
}

/** Starts a client, or says why it cannot (and what to do). */
export async function startClient(
    context: vscode.ExtensionContext,
    onStatus: StatusListener,
): Promise<LanguageClient | undefined> {
    const resource = vscode.window.activeTextEditor?.document.uri;
    const python = await interpreter(resource);
    const strategy = readStrategy(resource);
    const root = context.extensionUri.fsPath;
    const problem = await checkStart(python, strategy, root);
    if (problem !== undefined) {
        reportStartProblem(problem, python[0], strategy, resource);
        return undefined;
    }
    const settings = readSettings(resource);
    const apiKey = await context.secrets.get(SECRET_KEY);
    const process = serverProcess(python, strategy, root);
    traceInfo(
        `starting the orps server (${strategy}): ${[process.command, ...process.args].join(' ')}; ` +
            `settings: ${describeSettings(settings, apiKey)}`,
    );
    const serverOptions: ServerOptions = { command: process.command, args: process.args };
    const clientOptions: LanguageClientOptions = {
        documentSelector: [
            { scheme: 'file', language: 'python' },
            { scheme: 'file', pattern: '**/*.tests.json' },
        ],
        outputChannel: outputChannel(),
        traceOutputChannel: outputChannel(),
        initializationOptions: initializationOptions(settings, apiKey),
        middleware: {
            // A refine started from the code lens runs the server's command directly: say how it
            // ended, as the palette's Refine does (that one sends its own request, not through here).
            executeCommand: async (command, args, next) => {
                const result: unknown = await next(command, args);
                if (command === SERVER_COMMANDS.refine) {
                    const message = refineResultMessage(result);
                    if (message) {
                        void vscode.window.showInformationMessage(message);
                    }
                }
                return result;
            },
            workspace: {
                // Answer workspace/configuration with the values the user set, never the defaults.
                configuration: (params) =>
                    params.items.map((item) =>
                        item.section === CONFIG_SECTION
                            ? readSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
                            : null,
                    ),
            },
        },
    };
    const client = new LanguageClient('orps', 'ORPS', serverOptions, clientOptions);
    client.onDidChangeState((event) => {
        if (event.newState === State.Stopped) {
            traceInfo('the orps server stopped');
        }
    });
    await client.start();
    client.onNotification('orps/status', (status: ServerStatus) => onStatus(status));
    return client;
}

export async function stopClient(client: LanguageClient | undefined): Promise<void> {
    if (client && client.state !== State.Stopped) {
        try {
            await client.stop();
        } catch (error) {
            traceError('stopping the orps server failed', error);
        }
    }
}
