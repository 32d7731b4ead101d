// The extension's log: one LogOutputChannel shared with the language client.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function outputChannel(): vscode.LogOutputChannel {
    if (!channel) {
        channel = vscode.window.createOutputChannel('ORPS', { log: true });
    }
    return channel;
}

export function traceInfo(message: string): void {
    outputChannel().info(message);
}

export function traceError(message: string, error?: unknown): void {
    outputChannel().error(error === undefined ? message : `${message}: ${String(error)}`);
}
