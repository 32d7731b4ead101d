import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
    bundledFailedMessage,
    missingInterpreterMessage,
    notInEnvironmentMessage,
    refineResultMessage,
    statusText,
} from '../common/messages';

test('fromEnvironment without orps: the message names the interpreter, the reason and the bundled way out', () => {
    const text = notInEnvironmentMessage(
        '/venv/bin/python',
        "Traceback...\nModuleNotFoundError: No module named 'orps_server'\n",
    );
    assert.match(text, /not installed for \/venv\/bin\/python/);
    assert.match(text, /No module named 'orps_server'/);
    assert.match(text, /fromEnvironment/);
    assert.match(text, /bundled with the extension/);
    assert.doesNotMatch(text, /pip install orps/); // orps is not on the package index
});

test("the bundled server's refusal is passed on in its own words", () => {
    const tooOld = bundledFailedMessage(
        '/usr/bin/python3.8',
        'orps: orps needs Python 3.10 or newer; /usr/bin/python3.8 is Python 3.8.10\n',
    );
    assert.equal(
        tooOld,
        'ORPS: the bundled orps server cannot start with /usr/bin/python3.8: ' +
            'orps needs Python 3.10 or newer; /usr/bin/python3.8 is Python 3.8.10',
    );
    assert.equal(bundledFailedMessage('python3', ''), 'ORPS: the bundled orps server cannot start with python3.');
});

test('the status bar shows the summary, a spinner while refining, and why it is off', () => {
    assert.equal(statusText({ summary: '3/3 passed, 1.0 ms, 1.0 MB', passed: 3, total: 3 }, true),
        '$(pass) ORPS: 3/3 passed, 1.0 ms, 1.0 MB');
    assert.equal(statusText({ summary: '1/3 passed, 1.0 ms, 1.0 MB', passed: 1, total: 3 }, true),
        '$(error) ORPS: 1/3 passed, 1.0 ms, 1.0 MB');
    assert.match(statusText({ refining: true }, true), /sync~spin/);
    assert.match(statusText(undefined, false), /untrusted/);
    assert.equal(statusText(undefined, true), '$(beaker) ORPS');
    // a server that failed to start, or restarts, shows so, never the last run's figures
    assert.equal(statusText({ summary: '3/3 passed', passed: 3, total: 3 }, true, false), '$(error) ORPS: not running');
});

test('refine results read as sentences', () => {
    assert.equal(refineResultMessage({ cancelled: true }), 'ORPS: refine cancelled.');
    assert.match(refineResultMessage({ summary: 'ORPS refinement: 5/5 passed, CPU 60.0x lower' }) ?? '', /lightbulb/);
    assert.match(refineResultMessage(null) ?? '', /without a result/);
    // the server could not run it and has said why itself (e.g. openai missing, with the command)
    assert.equal(refineResultMessage({ failed: true }), undefined);
    assert.equal(refineResultMessage(undefined), undefined); // nothing ran: whoever stopped it said why
});

test('an interpreter that does not exist is said to be missing, not to lack orps', () => {
    const text = missingInterpreterMessage('/no/such/python');
    assert.match(text, /\/no\/such\/python does not exist/);
    assert.doesNotMatch(text, /not installed|pip install/);
});
