#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks the man pages against what they document: both render without
a warning (groff -ww, and man -l as a reader runs it); splitvm(1) names
every subcommand and option that `splitvm --help`, `splitvm run --help`
and `splitvm qemu -help` print, every --control command and every exit
status the help lists; libsplitvm(3) names every function splitvm.h
declares and libsplitvm.so exports, and its example compiles. The help is
read when the test runs, so an option added to the CLI later fails here
until the page describes it."""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from tap import Tap  # noqa: E402

# The header's function names, as abi-symbols reads them.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
check_symbols = __import__('check-symbols')


def run(argv, env=None):
    """(status, stdout, stderr) of a command."""
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    return proc.returncode, proc.stdout, proc.stderr


def check_renders(tap, args, page):
    """groff with every warning on, and man -l as a reader would run it:
    both must succeed with nothing on stderr."""
    name = os.path.basename(page)
    st, _, err = run([args.groff, '-man', '-Tutf8', '-ww', '-z', page])
    tap.check(st == 0 and not err.strip(),
              '%s: groff -man -ww renders it without a warning' % name,
              'status %d\n%s' % (st, err))
    if not args.man:
        tap.skip('%s: man -l renders it' % name, 'no man(1)')
        return
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
           'LANG': 'C.UTF-8', 'MANWIDTH': '80', 'MANPAGER': 'cat',
           'PAGER': 'cat', 'HOME': os.environ.get('HOME', '/')}
    st, out, err = run([args.man, '--warnings=all', '-l', page], env)
    title = name.rsplit('.', 1)[0].upper()
    tap.check(st == 0 and not err.strip() and title in out,
              '%s: man -l renders it without a warning' % name,
              'status %d\n%s\n%s' % (st, err, out[:400]))


def render(args, page):
    """The page as plain text, on lines long enough never to wrap (so no
    word is hyphenated or split), without bold or underlining."""
    st, out, err = run([args.groff, '-man', '-Tascii', '-rLL=2000n',
                        '-P-c', '-P-b', '-P-u', page])
    if st:
        raise SystemExit('groff failed on %s: %s' % (page, err))
    out = re.sub(r'.\x08', '', out)
    out = re.sub(r'\x1b\[[0-9;]*m', '', out)
    return '\n'.join(line.rstrip() for line in out.splitlines())


def sections(text):
    """{heading: text} of a rendered page."""
    parts, head = {}, ''
    for line in text.splitlines():
        if re.match(r'[A-Z][A-Z /]*$', line):
            head = line
            parts[head] = ''
        else:
            parts[head] = parts.get(head, '') + line + '\n'
    return parts


def has_word(text, word):
    """word in text, not as part of a longer name or option."""
    return re.search(r'(?<![\w-])' + re.escape(word) + r'(?![\w-])',
                     text) is not None


def help_text(tap, args, argv, what):
    st, out, err = run([args.splitvm] + argv)
    tap.check(st == 0 and out, '%s prints the help' % what,
              'status %d\n%s' % (st, err))
    return out


def check_splitvm(tap, args, page):
    text = render(args, page)
    parts = sections(text)
    top = help_text(tap, args, ['--help'], 'splitvm --help')
    run_help = help_text(tap, args, ['run', '--help'], 'splitvm run --help')
    qemu_help = help_text(tap, args, ['qemu', '-help'], 'splitvm qemu -help')

    # Subcommands: the usage lines' "splitvm WORD".
    subs = sorted(set(re.findall(r'^\s*(?:Usage:\s*)?splitvm ([a-z]+)\b',
                                 top + run_help, re.M)))
    tap.check(subs, '--help names subcommands', top)
    synopsis = parts.get('SYNOPSIS', '')
    missing = [s for s in subs if not has_word(synopsis, 'splitvm ' + s)]
    tap.check(not missing, 'the SYNOPSIS shows every subcommand (%s)'
              % ', '.join(subs), missing)

    # Every --option either help prints.
    opts = sorted(set(re.findall(r'(?<![\w-])(--[a-z][a-z0-9-]*)',
                                 top + run_help)))
    tap.check(len(opts) > 10, 'the help lists options', top)
    missing = [o for o in opts if not has_word(text, o)]
    tap.check(not missing, 'splitvm.1 describes all %d options of '
              'splitvm --help and splitvm run --help' % len(opts), missing)
    tap.diag('options: ' + ' '.join(opts))

    # The QEMU front end's options (-opt; -M is the one in capitals).
    qopts = sorted(set(re.findall(
        r'(?<![\w-])(--?(?:[A-Z](?![\w-])|[a-z][a-z0-9-]*))', qemu_help)))
    tap.check(len(qopts) > 10, 'splitvm qemu -help lists options',
              qemu_help)
    # QEMU's options in their section; splitvm's own (--help) anywhere.
    front = parts.get('QEMU FRONT END', '')
    missing = [o for o in qopts
               if not has_word(text if o.startswith('--') else front, o)]
    tap.check(not missing, 'QEMU FRONT END describes all %d options of '
              'splitvm qemu -help' % len(qopts), missing)

    # The --control commands: the list that ends --control's description.
    m = re.search(r'^\s+--control\b(.*?)(?=^\s+--|^\S|\Z)', run_help,
                  re.M | re.S)
    cmds = []
    if m:
        tail = ' '.join(m.group(1).split()).rsplit(':', 1)[-1]
        cmds = [c.strip(' .') for c in tail.split(',') if c.strip(' .')]
    if tap.check(cmds and all(re.match(r'[a-z]+$', c) for c in cmds),
                 '--control\'s help lists its commands',
                 m.group(0) if m else run_help):
        control = parts.get('CONTROL CHANNEL', '')
        missing = [c for c in cmds if not has_word(control, c)]
        tap.check(not missing, 'CONTROL CHANNEL describes all %d commands'
                  % len(cmds), missing)

    # Exit statuses: "  CODE  meaning" lines after "Exit status".
    m = re.search(r'^Exit status.*?:\n((?:[ \t]+\S.*\n)+)', run_help, re.M)
    codes = []
    if m:
        for line in m.group(1).splitlines():
            col = re.split(r'\s{2,}', line.strip())[0]
            codes.append(col)
    if tap.check(len(codes) > 5, '--help lists exit statuses', run_help):
        status = ' '.join(parts.get('EXIT STATUS', '').split())
        missing = [c for c in codes if not has_word(status, c)]
        tap.check(not missing, 'EXIT STATUS has all %d statuses'
                  % len(codes), missing)

    tap.check('splitvm ' + args.version in text,
              'splitvm.1 is of version ' + args.version)


def exported(args):
    """The functions libsplitvm.so exports."""
    return set(name for name, _, typ, bind, _ in
               check_symbols.dynamic_symbols(args.readelf, args.shared)
               if typ == 'FUNC' and bind in ('GLOBAL', 'WEAK'))


def example(source):
    """The code of the page's EXAMPLE section, with the roff escapes
    turned back into C."""
    with open(source) as f:
        roff = f.read()
    m = re.search(r'^\.SH EXAMPLE\n.*?^\.EX\n(.*?)^\.EE', roff, re.M | re.S)
    if not m:
        return None
    code = m.group(1)
    for esc, ch in (('\\-', '-'), ('\\(aq', "'"), ('\\(dq', '"'),
                    ('\\&', ''), ('\\e', '\\')):
        code = code.replace(esc, ch)
    return code


def check_libsplitvm(tap, args, page):
    text = render(args, page)
    header = check_symbols.header_functions(args.cc, args.header)
    lib = exported(args)
    tap.check(len(header) > 40 and header == lib,
              'splitvm.h declares what libsplitvm.so exports (%d functions)'
              % len(header), ['header only: ' + n for n in header - lib]
              + ['library only: ' + n for n in lib - header])
    missing = [n for n in sorted(header | lib) if not has_word(text, n)]
    tap.check(not missing, 'libsplitvm.3 names all %d exported functions'
              % len(header | lib), missing)
    tap.check(has_word(text, '<splitvm.h>') and
              'pkg-config --cflags --libs splitvm' in text,
              'libsplitvm.3 names the header and the pkg-config line')
    tap.check('splitvm ' + args.version in text,
              'libsplitvm.3 is of version ' + args.version)

    code = example(page)
    if not tap.check(code and 'splitvm_run' in code,
                     'libsplitvm.3 has an EXAMPLE program'):
        return
    with tempfile.TemporaryDirectory(prefix='splitvm-man-') as tmp:
        src = os.path.join(tmp, 'example.c')
        with open(src, 'w') as f:
            f.write(code)
        tap.run('the EXAMPLE compiles (C99, -Wall -Werror)',
                args.cc + ['-std=c99', '-pedantic', '-Wall', '-Werror',
                           '-I', args.include_dir, '-c', src,
                           '-o', os.path.join(tmp, 'example.o')])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--splitvm', required=True)
    ap.add_argument('--page1', required=True, help='splitvm.1')
    ap.add_argument('--page3', required=True, help='libsplitvm.3')
    ap.add_argument('--version', required=True)
    ap.add_argument('--groff', required=True)
    ap.add_argument('--man', default='', help='man-db\'s man, if any')
    ap.add_argument('--header', required=True)
    ap.add_argument('--include-dir', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--readelf', required=True)
    ap.add_argument('--cc', nargs=argparse.REMAINDER, required=True)
    args = ap.parse_args()

    if not args.groff:
        print('1..0 # SKIP no groff (tools/setup installs groff-base)')
        return 77
    tap = Tap()
    for page in (args.page1, args.page3):
        with open(page) as f:
            left = sorted(set(re.findall(r'@[A-Z_]+@', f.read())))
        tap.check(not left, '%s: the build filled in every @NAME@'
                  % os.path.basename(page), left)
        check_renders(tap, args, page)
    check_splitvm(tap, args, args.page1)
    check_libsplitvm(tap, args, args.page3)
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
