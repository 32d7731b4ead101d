import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
    bundledFailedMessage,
    hunkSummary,
    isCleanExitMessage,
    missingInterpreterMessage,
    notInEnvironmentMessage,
    progressStep,
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

test('a refine notification shows the target and the step, and grows by differences', () => {
    const first = progressStep('ORPS refine: sum_primes_below', 'running the original', 0, 0);
    assert.deepEqual(first, { message: 'sum_primes_below: running the original', increment: undefined, shown: 0 });
    const next = progressStep('ORPS refine: sum_primes_below', 'round 1/2', 40, first.shown);
    assert.deepEqual(next, { message: 'sum_primes_below: round 1/2', increment: 40, shown: 40 });
    const later = progressStep('ORPS refine: sum_primes_below', 'round 2/2', 75, next.shown);
    assert.equal(later.increment, 35);
    // never backwards, never past 100
    assert.equal(progressStep('t', 'm', 30, 75).increment, undefined);
    assert.deepEqual(progressStep('t', undefined, 250, 75), { message: 't', increment: 25, shown: 100 });
});

test('only a server exit with code 0 counts as a clean stop', () => {
    assert.ok(isCleanExitMessage('Server process exited with code 0.'));
    assert.ok(!isCleanExitMessage('Server process exited with code 1.'));
    assert.ok(!isCleanExitMessage('Server process exited with code 0 after a crash report'));
    assert.ok(!isCleanExitMessage('Server process exited with signal SIGKILL.'));
});

test('an inline hunk says what it puts in place of the marked lines', () => {
    assert.equal(hunkSummary(2, []), 'ORPS: remove these 2 lines');
    assert.equal(hunkSummary(1, []), 'ORPS: remove this line');
    assert.equal(hunkSummary(0, ['    x = 1\n']), 'ORPS: insert 1 line: x = 1 (hover for the diff)');
    assert.equal(hunkSummary(3, ['\n', '    return sum(v)\n']),
        'ORPS: replace with 2 lines: return sum(v) … (hover for the diff)');
    assert.ok(hunkSummary(1, ['y'.repeat(100)]).includes('…'));
});
