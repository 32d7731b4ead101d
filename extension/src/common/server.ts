// Builds and (re)starts the language client, in one place.
import { execFile } from 'child_process';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from 'vscode-languageclient/node';
import { ImportStrategy, importCheck, importStrategy, serverProcess } from './args';
import { COMMANDS, CONFIG_SECTION, SECRET_KEY, SERVER_COMMANDS } from './constants';
import { outputChannel, traceError, traceInfo } from './logging';
import {
    bundledFailedMessage,
    isCleanExitMessage,
    missingInterpreterMessage,
    notInEnvironmentMessage,
    refineResultMessage,
    ReviewUpdate,
    ServerStatus,
    USE_BUNDLED_ACTION,
} from './messages';
import { refineInNotification } from './refine';
import { interpreter } from './python';
import { describeSettings, initializationOptions, userSetSettings } from './settings';

/** The language client, but a server that exits with code 0 (as it does on every stop and restart) is
 * logged as the normal end it is: vscode-languageclient 9 logs any exit code as an error. */
class OrpsLanguageClient extends LanguageClient {
    override error(message: string, data?: unknown, showNotification: boolean | 'force' = true): void {
        if (isCleanExitMessage(message)) {
            traceInfo('the orps server process exited (code 0)');
            return;
        }
        super.error(message, data, showNotification);
    }
}

export type StatusListener = (status: ServerStatus) => void;

/** What the client does itself for commands the server's code actions name: the review in a diff of
 * virtual documents, the critique as a read-only one (the server's own versions write scratch files,
 * for editors that cannot show virtual documents). */
export interface ClientSide {
    review(uri: vscode.Uri): Promise<void>;
    critique(uri: vscode.Uri): Promise<void>;
    marks(update: ReviewUpdate): void; // the inline review's pending hunks, to paint
    views(update: { uri: string }): void; // the file's refine history or search changed
    tests(update: { uri: string }): void; // the file's tests or their results changed (a run ended)
}

function documentOf(args: unknown[]): vscode.Uri | undefined {
    const first = args[0] as { uri?: unknown } | undefined;
    return typeof first?.uri === 'string' ? vscode.Uri.parse(first.uri) : undefined;
}

/** Where the server keeps the refine history: the workspace's storage, else the extension's global one. */
function storageFolder(context: vscode.ExtensionContext): string | undefined {
    return (context.storageUri ?? context.globalStorageUri)?.fsPath;
}

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
    clientSide: ClientSide,
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
        initializationOptions: initializationOptions(settings, apiKey, storageFolder(context)),
        // the hover's "Open the refine history" link runs this command, and only this one
        markdown: { isTrusted: { enabledCommands: [COMMANDS.showHistory] } },
        middleware: {
            // A refine started from the code lens runs the server's command directly: show it in the
            // same cancellable notification, and say how it ended, as the palette's Refine does (that
            // one sends its own request, not through here).
            executeCommand: async (command, args, next) => {
                const document = documentOf(args);
                if (command === SERVER_COMMANDS.showProposal && document) {
                    return clientSide.review(document);
                }
                if (command === SERVER_COMMANDS.showCritique && document) {
                    return clientSide.critique(document);
                }
                if (command !== SERVER_COMMANDS.refine) {
                    return next(command, args);
                }
                const result = await refineInNotification(client, args, async (withToken) => next(command, withToken));
                const message = refineResultMessage(result);
                if (message) {
                    void vscode.window.showInformationMessage(message);
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
    const client = new OrpsLanguageClient('orps', 'ORPS', serverOptions, clientOptions);
    client.onDidChangeState((event) => {
        if (event.newState === State.Stopped) {
            traceInfo('the orps server stopped');
        }
    });
    await client.start();
    client.onNotification('orps/status', (status: ServerStatus) => {
        onStatus(status);
        if (status.uri) {
            clientSide.tests({ uri: status.uri }); // a run ended: the panel's verdicts changed
        }
    });
    client.onNotification('orps/tests', (update: { uri: string }) => clientSide.tests(update));
    client.onNotification('orps/review', (update: ReviewUpdate) => clientSide.marks(update));
    client.onNotification('orps/views', (update: { uri: string }) => clientSide.views(update));
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
