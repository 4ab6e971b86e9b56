#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that a program builds and runs with nothing but pkg-config's
flags: from the uninstalled .pc in the build tree, and from the installed
.pc in a staged installation, shared and static."""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from tap import Tap  # noqa: E402


def pkg_config(tap, name, pc, env, module, *flags):
    """pkg-config's answer as a list of flags, or None (a failed check)."""
    argv = [pc] + list(flags) + [module]
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    tap.check(proc.returncode == 0, name,
              '$ %s\n%s' % (' '.join(argv), proc.stdout.rstrip()))
    if proc.returncode:
        return None
    tap.diag(' '.join(flags) + ': ' + proc.stdout.strip())
    return shlex.split(proc.stdout)


def build_and_run(tap, name, args, flags, exe):
    """Builds use-api.c with the flags pkg-config gave, and runs it."""
    rpath = ['-Wl,-rpath,' + f[2:] for f in flags if f.startswith('-L')]
    # A sanitized library needs its runtime linked into the program.
    if args.sanitize != 'none':
        rpath.append('-fsanitize=' + args.sanitize)
    if tap.run(name + ': builds', [args.cc, '-Werror', '-Wall', args.program]
               + flags + rpath + ['-o', exe]):
        tap.run(name + ': runs', [exe, args.version])


def stage(builddir, root):
    """Copies what `meson install` would install under root, from meson's
    own plan (meson-info/intro-installed.json); a relative key is a
    symlink in the build directory (libsplitvm.so -> libsplitvm.so.0)."""
    with open(os.path.join(builddir, 'meson-info',
                           'intro-installed.json')) as f:
        plan = json.load(f)
    for src, dst in plan.items():
        dst = root + dst
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        src = os.path.join(builddir, src)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    return plan


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--builddir', required=True)
    ap.add_argument('--program', required=True, help='use-api.c')
    ap.add_argument('--version', required=True)
    ap.add_argument('--pkg-config', required=True)
    ap.add_argument('--cc', required=True)
    ap.add_argument('--sanitize', default='none', help='meson b_sanitize')
    args = ap.parse_args()
    if not args.pkg_config:
        print('1..0 # SKIP no pkg-config')
        return 77
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix='splitvm-pc-')
    pc = args.pkg_config

    # The build tree, as a project using splitvm as a subproject sees it.
    env = dict(os.environ)
    env['PKG_CONFIG_PATH'] = os.path.join(args.builddir, 'meson-uninstalled')
    ver = pkg_config(tap, 'uninstalled .pc found', pc, env,
                     'splitvm-uninstalled', '--modversion')
    tap.check(ver == [args.version],
              'uninstalled .pc has version ' + args.version, repr(ver))
    flags = pkg_config(tap, 'uninstalled .pc gives --cflags --libs', pc,
                       env, 'splitvm-uninstalled', '--cflags', '--libs')
    if flags is not None:
        build_and_run(tap, 'program from the uninstalled .pc', args, flags,
                      os.path.join(tmp, 'use-uninstalled'))

    # The installation, staged: the sysroot prefixes the .pc's paths.
    root = os.path.join(tmp, 'root')
    plan = stage(args.builddir, root)
    pcdir = [os.path.dirname(d) for d in plan.values()
             if d.endswith('/splitvm.pc')]
    if not tap.check(len(pcdir) == 1, 'splitvm.pc is installed',
                     'install plan: %s' % sorted(plan.values())):
        shutil.rmtree(tmp)
        return tap.finish()
    env = dict(os.environ)
    env['PKG_CONFIG_PATH'] = root + pcdir[0]
    env['PKG_CONFIG_SYSROOT_DIR'] = root
    flags = pkg_config(tap, 'installed .pc gives --cflags --libs', pc, env,
                       'splitvm', '--cflags', '--libs')
    if flags is not None:
        build_and_run(tap, 'program from the installed .pc', args, flags,
                      os.path.join(tmp, 'use-installed'))

    # Without the shared library, -lsplitvm finds the archive, and the
    # .pc's private part must name what it needs.
    for dst in plan.values():
        if re.search(r'/libsplitvm\.so', dst):
            os.unlink(root + dst)
    flags = pkg_config(tap, 'installed .pc gives --static --cflags --libs',
                       pc, env, 'splitvm', '--static', '--cflags', '--libs')
    if flags is not None:
        build_and_run(tap, 'static program from the installed .pc', args,
                      flags, os.path.join(tmp, 'use-installed-static'))

    shutil.rmtree(tmp)
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
