// The status bar: the active file's last test summary; a spinner while a refine runs.
import * as vscode from 'vscode';
import { COMMANDS } from './common/constants';
import { ServerStatus, statusText } from './common/messages';

export class StatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
    private readonly byUri = new Map<string, ServerStatus>();
    private shownUri: string | undefined; // the last file editor's: the Output panel's focus keeps it
    private running = false;

    constructor(private trusted: () => boolean) {
        this.item.command = COMMANDS.runTests;
        this.render();
        this.item.show();
    }

    update(status: ServerStatus): void {
        if (status.uri) {
            this.byUri.set(status.uri, { ...this.byUri.get(status.uri), ...status });
        }
        this.render();
    }

    /** The server (re)starts or stopped: what it said of each file no longer holds. */
    serverRunning(running: boolean): void {
        this.running = running;
        this.byUri.clear();
        this.render();
    }

    render(): void {
        const document = vscode.window.activeTextEditor?.document;
        if (document && document.uri.scheme === 'file') {
            this.shownUri = document.uri.toString();
        }
        const status = this.shownUri ? this.byUri.get(this.shownUri) : undefined;
        this.item.text = statusText(status, this.trusted(), this.running);
        this.item.tooltip = this.trusted()
            ? 'ORPS: the active file\'s tests (click to run them)'
            : 'ORPS runs nothing in an untrusted workspace';
    }

    dispose(): void {
        this.item.dispose();
    }
}
