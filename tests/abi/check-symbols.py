#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that libsplitvm exports exactly the functions splitvm.h declares,
each under a version node of the version script, and nothing else."""

import argparse
import os
import re
import subprocess
import sys
import textwrap

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from tap import Tap  # noqa: E402

TOKEN = re.compile(r'[A-Za-z_]\w*|"(?:\\.|[^"\\])*"|\S')


def header_tokens(cc, header):
    """The header's own tokens after preprocessing: comments, macros and
    the C++-only extern "C" braces are gone, and the line markers let us
    drop what stddef.h and stdint.h brought in."""
    out = subprocess.run(cc + ['-E', '-x', 'c', header],
                         stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    want = os.path.realpath(header)
    mine = False
    tokens = []
    for line in out.splitlines():
        m = re.match(r'#\s*\d+\s+"([^"]*)"', line)
        if m:
            mine = os.path.realpath(m.group(1)) == want
        elif mine:
            tokens += TOKEN.findall(line)
    return tokens


def declarations(tokens):
    """Splits file-scope tokens into declarations: up to a ';' outside
    braces, or up to the closing brace of a function body (an inline
    function in the header, which ends with no ';')."""
    decl, depth, body = [], 0, False
    for i, tok in enumerate(tokens):
        decl.append(tok)
        if tok == '{':
            if depth == 0 and i > 0 and tokens[i - 1] == ')':
                body = True
            depth += 1
        elif tok == '}':
            depth -= 1
            if depth == 0 and body:
                yield decl
                decl, body = [], False
        elif tok == ';' and depth == 0:
            yield decl
            decl = []


def header_functions(cc, header):
    """Every splitvm_ identifier followed by '(' outside braces, in a
    declaration that is neither a typedef (splitvm_log_fn's '(*name)(' is
    followed by ')' anyway) nor static (an inline helper exports nothing)."""
    names = set()
    for decl in declarations(header_tokens(cc, header)):
        if 'typedef' in decl or 'static' in decl:
            continue
        depth = 0
        for i, tok in enumerate(decl[:-1]):
            depth += tok == '{'
            depth -= tok == '}'
            if (depth == 0 and tok.startswith('splitvm_')
                    and decl[i + 1] == '('):
                names.add(tok)
    return names


def map_nodes(path):
    """The version nodes the linker version script defines."""
    with open(path) as f:
        text = re.sub(r'/\*.*?\*/|#[^\n]*', '', f.read(), flags=re.S)
    return set(re.findall(r'(\w+)\s*\{', text))


def dynamic_symbols(readelf, lib):
    """(name, version, type, bind, default?) of each defined dynamic symbol."""
    out = subprocess.run([readelf, '--dyn-syms', '-W', lib],
                         stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 8 or not f[0][:-1].isdigit() or f[6] == 'UND':
            continue
        name, sep, version = f[7].partition('@')
        default = version.startswith('@')
        syms.append((name, version.lstrip('@') if sep else None,
                     f[3], f[4], default))
    return syms


def version_definitions(readelf, lib):
    """The version nodes the library defines, but the base (its soname)."""
    out = subprocess.run([readelf, '-V', '-W', lib], stdout=subprocess.PIPE,
                         check=True, universal_newlines=True).stdout
    return set(m.group(2) for m in re.finditer(
        r'Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)', out)
        if m.group(1) != 'BASE')


def archive_globals(nm, archive):
    """name -> type of each global symbol the archive's members define."""
    out = subprocess.run([nm, '-g', '--defined-only', '-P', archive],
                         stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and not f[0].endswith(':'):
            syms[f[0]] = f[1]
    return syms


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--header', required=True)
    ap.add_argument('--map', required=True)
    ap.add_argument('--shared', required=True)
    ap.add_argument('--static', required=True)
    ap.add_argument('--readelf', required=True)
    ap.add_argument('--nm', required=True)
    ap.add_argument('--cc', nargs=argparse.REMAINDER, required=True,
                    help='the C compiler command, last')
    args = ap.parse_args()
    tap = Tap()

    api = header_functions(args.cc, args.header)
    nodes = map_nodes(args.map)
    tap.check(len(api) > 0, 'splitvm.h declares functions',
              'no splitvm_ function found in ' + args.header)
    tap.diag('%d functions in splitvm.h; version nodes in %s: %s' % (
        len(api), os.path.basename(args.map), ', '.join(sorted(nodes))))

    syms = dynamic_symbols(args.readelf, args.shared)
    # A version node shows up as an absolute symbol named after it.
    node_syms = [s for s in syms if s[0] in nodes and s[1] is None]
    exports = [s for s in syms if s not in node_syms]
    exported = set(s[0] for s in exports)

    tap.check(not api - exported,
              'every function of splitvm.h is exported',
              ['missing from the library: ' + n for n in api - exported])
    tap.check(not exported - api,
              'every exported symbol is declared in splitvm.h',
              ['exported, not in the header: ' + n
               for n in exported - api])
    tap.check(all(s[2] == 'FUNC' and s[3] == 'GLOBAL' for s in exports),
              'only global functions are exported (no data, no weak)',
              ['%s: %s %s' % (s[0], s[2], s[3]) for s in exports
               if s[2] != 'FUNC' or s[3] != 'GLOBAL'])
    tap.check(all(s[1] in nodes and s[4] for s in exports),
              'every export carries a default version from the map (%s)'
              % ', '.join(sorted(nodes)),
              ['%s@%s%s' % (s[0], '@' if s[4] else '', s[1] or '(none)')
               for s in exports if s[1] not in nodes or not s[4]])
    defs = version_definitions(args.readelf, args.shared)
    tap.check(defs == nodes,
              'the library defines exactly the version nodes of the map',
              'defined: %s; map: %s' % (sorted(defs), sorted(nodes)))

    # Static users link the archive: the same functions must be in it.
    ar = archive_globals(args.nm, args.static)
    tap.check(all(ar.get(n) == 'T' for n in api),
              'libsplitvm.a defines every function of splitvm.h',
              ['missing from the archive: ' + n for n in sorted(api)
               if ar.get(n) != 'T'])
    # Nothing else: internal functions (bus_read, log_msg,
    # fdt_machine_begin...) offered to a static user's link could collide
    # with the user's own symbols or libfdt's fdt_ namespace
    # (tools/prelink-static makes them local).
    leaked = sorted(n for n in ar if n not in api)
    tap.check(not leaked, 'libsplitvm.a defines no global outside the API',
              textwrap.wrap('leaked: ' + ' '.join(leaked), 76))
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
