#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that splitvm.h stands alone under strict C99 and C++11, that a
program links against the shared and the static library and runs, and
that the shared library's soname is the one programs will record."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from tap import Tap  # noqa: E402

STRICT = ['-pedantic', '-Werror', '-Wall', '-Wextra']
C99 = ['-std=c99'] + STRICT + ['-Wstrict-prototypes', '-Wundef']
CXX11 = ['-std=c++11'] + STRICT + ['-Wundef']


def dynamic_section(readelf, path, tag):
    """The values of one tag (NEEDED, SONAME...) of a dynamic section."""
    out = subprocess.run([readelf, '-d', '-W', path], stdout=subprocess.PIPE,
                         check=True, universal_newlines=True).stdout
    return re.findall(r'\(%s\)\s+[^[]*\[([^]]*)\]' % tag, out)


def private_libs(readelf, shared):
    """What a static link needs besides the archive: the libraries the
    shared library itself was linked with (libfdt, libseccomp...)."""
    libs = ['-pthread']
    for needed in dynamic_section(readelf, shared, 'NEEDED'):
        m = re.match(r'lib(.+)\.so', needed)
        if m and m.group(1) not in ('c', 'pthread', 'dl', 'rt', 'm'):
            libs.append('-l' + m.group(1))
    return libs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--include-dir', required=True)
    ap.add_argument('--program', required=True, help='use-api.c')
    ap.add_argument('--version', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--static', required=True)
    ap.add_argument('--soname', required=True)
    ap.add_argument('--readelf', required=True)
    ap.add_argument('--cc', required=True, help='gcc')
    ap.add_argument('--cxx', default='', help='g++, or empty')
    ap.add_argument('--clang', default='', help='clang, or empty')
    ap.add_argument('--sanitize', default='none', help='meson b_sanitize')
    args = ap.parse_args()
    tap = Tap()
    # A sanitized library needs its runtime linked into the program.
    san = ['-fsanitize=' + args.sanitize] if args.sanitize != 'none' else []
    tmp = tempfile.mkdtemp(prefix='splitvm-abi-')
    inc = ['-I' + args.include_dir]
    libdir = os.path.dirname(os.path.abspath(args.shared))

    sonames = dynamic_section(args.readelf, args.shared, 'SONAME')
    tap.check(sonames == [args.soname], 'soname is ' + args.soname,
              'SONAME: %s' % sonames)

    # Twice: the include guard must hold.
    alone = os.path.join(tmp, 'alone.c')
    with open(alone, 'w') as f:
        f.write('#include <splitvm.h>\n#include <splitvm.h>\n')
    tap.run('splitvm.h alone: gcc ' + ' '.join(C99),
            [args.cc] + C99 + inc + ['-fsyntax-only', alone])
    if args.clang:
        tap.run('splitvm.h alone: clang ' + ' '.join(C99),
                [args.clang] + C99 + inc + ['-fsyntax-only', alone])
    else:
        tap.skip('splitvm.h alone: clang', 'no clang')
    if args.cxx:
        tap.run('splitvm.h alone: %s %s' % (os.path.basename(args.cxx),
                                            ' '.join(CXX11)),
                [args.cxx] + CXX11 + inc + ['-fsyntax-only', '-x', 'c++',
                                            alone])
    else:
        tap.skip('splitvm.h alone: C++', 'no C++ compiler')

    def build_and_run(name, argv, exe, shared):
        if not tap.run(name + ': builds', argv + ['-o', exe]):
            return
        needed = dynamic_section(args.readelf, exe, 'NEEDED')
        if shared:
            tap.check(args.soname in needed,
                      name + ': records NEEDED ' + args.soname,
                      'NEEDED: %s' % needed)
        else:
            tap.check(not any('splitvm' in n for n in needed),
                      name + ': needs no libsplitvm at run time',
                      'NEEDED: %s' % needed)
        tap.run(name + ': runs', [exe, args.version])

    # As a user links: -L and -l, the run-time path given by rpath.
    shared_link = ['-L' + libdir, '-lsplitvm', '-Wl,-rpath,' + libdir] + san
    build_and_run('C99 program, shared library',
                  [args.cc] + C99 + inc + [args.program] + shared_link,
                  os.path.join(tmp, 'use-api-shared'), True)
    build_and_run('C99 program, static library',
                  [args.cc] + C99 + inc + [args.program, args.static] +
                  private_libs(args.readelf, args.shared) + san,
                  os.path.join(tmp, 'use-api-static'), False)
    if args.cxx:
        # Links only if the header's extern "C" keeps the names unmangled.
        build_and_run('C++11 program, shared library',
                      [args.cxx] + CXX11 + inc +
                      ['-x', 'c++', args.program, '-x', 'none'] +
                      shared_link,
                      os.path.join(tmp, 'use-api-cxx'), True)
    else:
        tap.skip('C++11 program, shared library', 'no C++ compiler')

    shutil.rmtree(tmp)
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
