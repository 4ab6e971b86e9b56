# SPDX-License-Identifier: MIT
"""A minimal TAP producer shared by the ABI checks."""

import os
import subprocess
import sys


class Tap:
    """Numbers checks, prints their verdicts and the plan, and gives the
    exit status: a failed check must fail the meson test, loudly."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).splitlines() or ['']:
            print('# ' + line if line else '#')

    def check(self, ok, name, detail=None):
        """Reports one check; detail (str or list) is printed under a
        failure."""
        self.count += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.count, name))
        if not ok:
            self.failed += 1
            if isinstance(detail, (list, tuple, set)):
                detail = '\n'.join(sorted(detail))
            if detail:
                self.diag(detail)
        sys.stdout.flush()
        return ok

    def skip(self, name, reason):
        self.count += 1
        print('ok %d - %s # SKIP %s' % (self.count, name, reason))

    def run(self, name, argv, **kwargs):
        """Runs a command as one check; its output is shown if it fails.
        meson points LD_LIBRARY_PATH at the build tree: dropped, so that a
        program finds libsplitvm the way a user's would (its rpath)."""
        env = dict(kwargs.pop('env', os.environ))
        env.pop('LD_LIBRARY_PATH', None)
        proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              universal_newlines=True, **kwargs)
        detail = '$ ' + ' '.join(argv) + '\n' + proc.stdout.rstrip()
        if proc.returncode:
            detail += '\n(exit status %d)' % proc.returncode
        return self.check(proc.returncode == 0, name, detail)

    def finish(self):
        print('1..%d' % self.count)
        return 1 if self.failed else 0
