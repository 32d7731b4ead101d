// A refine shown as a notification with a Cancel button. The server reports the search's progress on
// a token made here (the refine's `progress` argument), so the client, not the language client's
// status-bar entry, decides where it shows; Cancel sends window/workDoneProgress/cancel for it.
import { randomUUID } from 'crypto';
import * as vscode from 'vscode';
import { LanguageClient, WorkDoneProgress, WorkDoneProgressCancelNotification } from 'vscode-languageclient/node';
import { withProgressToken } from './args';
import { progressStep, REFINE_NOTIFICATION_TITLE } from './messages';

/** Sends a refine (``send`` with the arguments to pass on) inside a cancellable notification. */
export function refineInNotification(
    client: LanguageClient,
    args: unknown[],
    send: (args: unknown[]) => Promise<unknown>,
): Thenable<unknown> {
    const token = `orps-refine-${randomUUID()}`;
    const options = { location: vscode.ProgressLocation.Notification, title: REFINE_NOTIFICATION_TITLE, cancellable: true };
    return vscode.window.withProgress(options, async (progress, cancellation) => {
        let target = '';
        let shown = 0;
        const reports = client.onProgress(WorkDoneProgress.type, token, (value) => {
            if (value.kind === 'end') {
                return;
            }
            if (value.kind === 'begin') {
                target = value.title;
            }
            const step = progressStep(target, value.message, value.percentage, shown);
            shown = step.shown;
            progress.report({ message: step.message, increment: step.increment });
        });
        const cancel = cancellation.onCancellationRequested(() => {
            client
                .sendNotification(WorkDoneProgressCancelNotification.type, { token })
                .catch(() => undefined); // the server is gone: nothing left to cancel
        });
        try {
            return await send(withProgressToken(args, token));
        } finally {
            reports.dispose();
            cancel.dispose();
        }
    });
}
