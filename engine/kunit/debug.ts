// Debugging a failing KUnit test: every failed KUNIT_EXPECT_*/KUNIT_ASSERT_* calls kunit_do_failed_assertion()
// (Linux 5.18 and later; the macro expands inside the test function, so its caller is the test), so a breakpoint
// there, one frame up, is the failing expectation in the failing test.
export const FAILED_ASSERTION = 'kunit_do_failed_assertion';

/** gdb commands (a script for -x): stop at the first failed expectation with the test's frame selected, then run. */
export function kunitGdbScript(): string {
  return [
    `break ${FAILED_ASSERTION}`,
    'commands',
    'silent',
    'echo \\nkwb: a KUnit expectation failed; the failing test is frame 1 (selected below; bt shows the rest)\\n',
    'up',
    'end',
    'continue',
    '',
  ].join('\n');
}
