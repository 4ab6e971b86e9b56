#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks the installation and pkg-config: `meson install --destdir`
into a temporary directory puts every file where README.md's "Install"
says (and nothing outside the prefix), and the installed splitvm runs
and finds its installed guests; a program builds and runs with nothing
but pkg-config's flags, from the uninstalled .pc in the build tree and
from the installed .pc in the staged installation: with the shared
library, with libsplitvm.a beside it, wholly static, and with the
archive alone."""

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


def install(tap, args, root):
    """`meson install --destdir root`, as a packager stages a package;
    returns meson's own plan (meson-info/intro-installed.json: source ->
    installed path), or None when the install failed."""
    with open(os.path.join(args.builddir, 'meson-info',
                           'intro-installed.json')) as f:
        plan = json.load(f)
    # --no-rebuild: meson test has built everything, and another ninja
    # must not run in the build directory meanwhile.
    if not tap.run('meson install --destdir stages the installation',
                   [args.meson, 'install', '-C', args.builddir,
                    '--no-rebuild', '--quiet', '--destdir', root]):
        return None
    return plan


def check_layout(tap, args, root, plan):
    """Every file of meson's plan is there, under the prefix, and the
    files the README names are where it says."""
    prefix = args.prefix.rstrip('/')
    where = {k: os.path.join(prefix, getattr(args, k)) for k in
             ('bindir', 'libdir', 'libexecdir', 'includedir', 'datadir',
              'mandir')}
    installed = set()
    for top, dirs, files in os.walk(root):
        for name in files + [d for d in dirs
                             if os.path.islink(os.path.join(top, d))]:
            installed.add(os.path.join(top, name)[len(root):])
    tap.diag('installed: %d files' % len(installed))
    tap.check(set(plan.values()) <= installed,
              'every file of meson\'s install plan is installed',
              sorted(set(plan.values()) - installed))
    tap.check(all(f.startswith(prefix + '/') for f in installed),
              'nothing is installed outside the prefix ' + prefix,
              [f for f in installed if not f.startswith(prefix + '/')])
    guests = os.path.join(where['datadir'], 'splitvm', 'guests')
    want = [os.path.join(where['bindir'], 'splitvm'),
            os.path.join(where['libexecdir'], 'splitvm',
                         'qemu-system-x86_64'),
            os.path.join(where['libdir'], 'libsplitvm.so'),
            os.path.join(where['libdir'], 'libsplitvm.so.0'),
            os.path.join(where['libdir'], 'libsplitvm.a'),
            os.path.join(where['libdir'], 'pkgconfig', 'splitvm.pc'),
            os.path.join(where['includedir'], 'splitvm.h'),
            os.path.join(where['mandir'], 'man1', 'splitvm.1'),
            os.path.join(where['mandir'], 'man3', 'libsplitvm.3'),
            os.path.join(where['datadir'], 'doc', 'splitvm', 'LICENSE')]
    if args.guest_image:
        want += [os.path.join(guests, g) for g in
                 args.guest_image + ['README.md', 'suite.ini']]
    tap.check(all(f in installed for f in want),
              'README.md\'s files are installed (%d, %d guests)'
              % (len(want), len(args.guest_image)),
              [f for f in want if f not in installed])
    debug = [f for f in installed if f.startswith(guests + '/')
             and not re.search(r'\.(elf|elf64|pvh)$|/(README\.md|suite\.ini)$',
                               f)]
    tap.check(not debug, 'share/splitvm/guests holds only bootable images, '
              'README.md and suite.ini', debug)
    link = root + want[1]
    tap.check(os.path.islink(link) and os.readlink(link) == want[0],
              'libexec/splitvm/qemu-system-x86_64 links to ' + want[0],
              os.readlink(link) if os.path.islink(link) else 'not a link')
    splitvm = root + want[0]
    tap.run('the installed splitvm runs (--version)', [splitvm, '--version'])
    if not args.guest_image:
        tap.skip('the installed guests boot', 'built with -Dguests=false')
        return
    # The manifest's paths resolve beside it: every kernel it names is
    # installed (the reader checks them).
    tap.run('the installed suite.ini lists its installed guests',
            [splitvm, 'test', '--list', root + guests + '/suite.ini'])
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        tap.skip('an installed guest boots under the installed splitvm',
                 'no /dev/kvm')
        return
    proc = subprocess.run([splitvm, 'run', '--kernel',
                           root + guests + '/exitcode.elf',
                           '--append', 'exit=0', '--serial', 'none',
                           '--timeout', '20'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    tap.check(proc.returncode == 1,
              'an installed guest boots under the installed splitvm '
              '(exitcode.elf: status 1)',
              'status %d\n%s' % (proc.returncode, proc.stdout))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--builddir', required=True)
    ap.add_argument('--program', required=True, help='use-api.c')
    ap.add_argument('--version', required=True)
    ap.add_argument('--pkg-config', required=True)
    ap.add_argument('--cc', required=True)
    ap.add_argument('--sanitize', default='none', help='meson b_sanitize')
    ap.add_argument('--meson', required=True, help="'' if not found")
    for opt in ('prefix', 'bindir', 'libdir', 'libexecdir', 'includedir',
                'datadir', 'mandir'):
        ap.add_argument('--' + opt, required=True, help='meson\'s option')
    ap.add_argument('--guest-image', action='append', default=[],
                    help='a guest image installed (repeated)')
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
    if not args.meson:
        tap.skip('meson install --destdir stages the installation',
                 'no meson program in PATH')
        shutil.rmtree(tmp)
        return tap.finish()
    plan = install(tap, args, root)
    if plan is None:
        shutil.rmtree(tmp)
        return tap.finish()
    check_layout(tap, args, root, plan)
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

    # libsplitvm.a with the shared library beside it, as README.md says:
    # the archive named, the rest as Libs.private says; and a wholly
    # static program (not with a sanitizer, whose runtime is shared).
    flags = pkg_config(tap, 'installed .pc gives --static --cflags --libs '
                       '(the shared library beside)', pc, env, 'splitvm',
                       '--static', '--cflags', '--libs')
    if flags is not None:
        archive = ['-l:libsplitvm.a' if f == '-lsplitvm' else f
                   for f in flags]
        build_and_run(tap, 'program with -l:libsplitvm.a from the installed '
                      '.pc', args, archive,
                      os.path.join(tmp, 'use-installed-archive'))
        # (Not in a sanitizer build: ASan's runtime cannot be linked
        # statically. The normal build, which CI runs too, checks it.)
        if args.sanitize == 'none' and tap.run(
                'wholly static program from the installed .pc: builds',
                [args.cc, '-static', '-Werror', '-Wall', args.program]
                + flags + ['-o', os.path.join(tmp, 'use-static')]):
            exe = os.path.join(tmp, 'use-static')
            tap.run('wholly static program from the installed .pc: runs',
                    [exe, args.version])
            tap.run('wholly static program needs no shared library',
                    ['sh', '-c', '! readelf -d "$1" | grep -q NEEDED',
                     'sh', exe])

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
