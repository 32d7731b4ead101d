// Builds and (re)starts the language client, in one place.
import { execFile } from 'child_process';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from 'vscode-languageclient/node';
import { importCheck, serverProcess } from './args';
import { COMMANDS, CONFIG_SECTION, SECRET_KEY, SERVER_COMMANDS } from './constants';
import { outputChannel, traceError, traceInfo } from './logging';
import {
    installCommand,
    isCleanExitMessage,
    missingInterpreterMessage,
    notInstalledMessage,
    refineResultMessage,
    ReviewUpdate,
    ServerStatus,
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

/** Why the server cannot be imported with ``python``: the interpreter is not there, or the import failed. */
interface ImportProblem {
    missing: boolean;
    detail: string;
}

function canImport(python: string[]): Promise<ImportProblem | undefined> {
    const check = importCheck(python);
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

/** Starts a client, or says why it cannot (and offers the install command). */
export async function startClient(
    context: vscode.ExtensionContext,
    onStatus: StatusListener,
    clientSide: ClientSide,
): Promise<LanguageClient | undefined> {
    const resource = vscode.window.activeTextEditor?.document.uri;
    const python = await interpreter(resource);
    const problem = await canImport(python);
    if (problem?.missing) {
        const message = missingInterpreterMessage(python[0]);
        traceError(message);
        void vscode.window.showErrorMessage(message);
        return undefined;
    }
    if (problem !== undefined) {
        const message = notInstalledMessage(python[0], problem.detail);
        traceError(message);
        const copy = 'Copy Install Command';
        vscode.window.showErrorMessage(message, copy).then(
            (choice) => {
                if (choice === copy) {
                    void vscode.env.clipboard.writeText(installCommand(python[0]));
                }
            },
            (error) => traceError('showing the install message failed', error),
        );
        return undefined;
    }
    const settings = readSettings(resource);
    const apiKey = await context.secrets.get(SECRET_KEY);
    traceInfo(`starting the orps server with ${python.join(' ')}; settings: ${describeSettings(settings, apiKey)}`);
    const process = serverProcess(python);
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
    client.onNotification('orps/status', (status: ServerStatus) => onStatus(status));
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
